"""The JSON shapes of proposals (rooms, lines, the signature) and the
translation from projects' messages."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from portal.projects.v1 import projects_pb2
from pydantic import BaseModel, ConfigDict, Field

from gateway.api.fields import Line, MinorUnits, Text
from gateway.api.translate import MoneyOut, money_out, timestamp
from services.chassis import enums

P = projects_pb2

ProposalStatusName = Literal["draft", "sent", "accepted", "superseded"]
SHA256_HEX = r"^[0-9a-f]{64}$"


def status_name(value: projects_pb2.ProposalStatus.ValueType) -> str:
    return enums.short_name(P.ProposalStatus, value, unknown=enums.UNSPECIFIED)


class ProposalLine(BaseModel):
    description: str
    quantity: int
    unit_price: MoneyOut | None
    line_total: MoneyOut | None


class ProposalRoom(BaseModel):
    name: str
    lines: list[ProposalLine]
    other_items: MoneyOut | None = Field(
        description="Lines kept internal: not itemised, but counted, so the totals add up."
    )
    total: MoneyOut | None


class Signature(BaseModel):
    signer_name: str = Field(description="The full name the signer typed.")
    signer_contact_id: str
    signer_email: str
    consent_text: str = Field(description="The statement they agreed to.")
    signed_at: datetime | None
    ip: str
    user_agent: str
    content_sha256: str = Field(description="SHA-256 of the canonical proposal content signed.")


class Proposal(BaseModel):
    id: str
    project_id: str
    version: int
    status: ProposalStatusName
    title: str
    introduction: str
    rooms: list[ProposalRoom]
    labour: MoneyOut | None
    discount: MoneyOut | None
    tax_rate_bps: int = Field(description="825 = 8.25 %.")
    subtotal: MoneyOut | None
    tax: MoneyOut | None
    total: MoneyOut | None
    content_sha256: str = Field(description="Set when sent: what an acceptance must repeat.")
    sent_at: datetime | None
    signature: Signature | None = Field(description="Set once accepted.")
    consent_text: str = Field(description="What the client agrees to by signing.")


class Proposals(BaseModel):
    proposals: list[Proposal]


class NewProposal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Line = Field(max_length=200)
    introduction: Text = Field("", max_length=10_000)
    labour_minor: MinorUnits = 0
    discount_minor: MinorUnits = 0
    tax_rate_bps: int = Field(0, ge=0, le=10_000, description="825 = 8.25 %.")


class ProposalChange(BaseModel):
    """Drafts only. Only the fields sent change; `null` clears one (a title
    cannot be cleared)."""

    model_config = ConfigDict(extra="forbid")

    title: Line | None = Field(None, max_length=200)
    introduction: Text | None = Field(None, max_length=10_000)
    labour_minor: MinorUnits | None = None
    discount_minor: MinorUnits | None = None
    tax_rate_bps: int | None = Field(None, ge=0, le=10_000)
    refresh_lines: bool = Field(
        False, description="Take the rooms and lines afresh from the project."
    )


class Acceptance(BaseModel):
    model_config = ConfigDict(extra="forbid")

    signer_name: Line = Field(min_length=1, max_length=200, description="Typed full name.")
    consent: bool = Field(description="The signer ticked the consent statement.")
    content_sha256: Line = Field(
        pattern=SHA256_HEX, description="The proposal's `content_sha256` as it was shown."
    )


def proposal_out(p: projects_pb2.Proposal) -> Proposal:
    signature = None
    if p.HasField("signature"):
        s = p.signature
        signature = Signature(
            signer_name=s.signer_name,
            signer_contact_id=s.signer_contact_id,
            signer_email=s.signer_email,
            consent_text=s.consent_text,
            signed_at=timestamp(s, "signed_at"),
            ip=s.ip,
            user_agent=s.user_agent,
            content_sha256=s.content_sha256,
        )
    return Proposal(
        id=p.id,
        project_id=p.project_id,
        version=p.version,
        status=status_name(p.status),  # type: ignore[arg-type]  # validated by the model
        title=p.title,
        introduction=p.introduction,
        rooms=[
            ProposalRoom(
                name=r.name,
                lines=[
                    ProposalLine(
                        description=x.description,
                        quantity=x.quantity,
                        unit_price=money_out(x, "unit_price"),
                        line_total=money_out(x, "line_total"),
                    )
                    for x in r.lines
                ],
                other_items=money_out(r, "other_items"),
                total=money_out(r, "total"),
            )
            for r in p.rooms
        ],
        labour=money_out(p, "labour"),
        discount=money_out(p, "discount"),
        tax_rate_bps=p.tax_rate_bps,
        subtotal=money_out(p, "subtotal"),
        tax=money_out(p, "tax"),
        total=money_out(p, "total"),
        content_sha256=p.content_sha256,
        sent_at=timestamp(p, "sent_at"),
        signature=signature,
        consent_text=p.consent_text,
    )
