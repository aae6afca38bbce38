"""The history of a change order: what changed between two revisions, and
the audit trail of the evidence pack with its hashes."""

from __future__ import annotations

from datetime import datetime

from portal.changeorders.v1 import changeorders_pb2 as pb
from pydantic import BaseModel, Field

from gateway.api.changeorders.shapes import Kind, kind_name
from gateway.api.translate import MoneyOut, money_out, timestamp


class RevisionChange(BaseModel):
    room_name: str
    line_key: str
    description: str
    kind_from: Kind
    kind_to: Kind
    quantity_from: int
    quantity_to: int
    total_from: MoneyOut | None
    total_to: MoneyOut | None


class RevisionComparison(BaseModel):
    from_revision: int
    to_revision: int
    lines: list[RevisionChange]
    price_impact_from: MoneyOut | None
    price_impact_to: MoneyOut | None
    schedule_days_from: int
    schedule_days_to: int
    title_changed: bool
    reason_changed: bool


class AuditEntry(BaseModel):
    seq: int
    action: str
    actor: str
    revision: int
    occurred_at: datetime | None
    facts_json: str
    prev_sha256: str
    sha256: str


class AuditTrail(BaseModel):
    entries: list[AuditEntry]
    intact: bool
    first_broken_seq: int = Field(description="0 when intact.")
    problem: str


def comparison_out(m: pb.CompareRevisionsResponse) -> RevisionComparison:
    return RevisionComparison(
        from_revision=m.from_revision,
        to_revision=m.to_revision,
        lines=[
            RevisionChange(
                room_name=x.room_name,
                line_key=x.line_key,
                description=x.description,
                kind_from=kind_name(x.kind_from),
                kind_to=kind_name(x.kind_to),
                quantity_from=x.quantity_from,
                quantity_to=x.quantity_to,
                total_from=money_out(x, "total_from"),
                total_to=money_out(x, "total_to"),
            )
            for x in m.lines
        ],
        price_impact_from=money_out(m, "price_impact_from"),
        price_impact_to=money_out(m, "price_impact_to"),
        schedule_days_from=m.schedule_days_from,
        schedule_days_to=m.schedule_days_to,
        title_changed=m.title_changed,
        reason_changed=m.reason_changed,
    )


def audit_out(m: pb.GetAuditTrailResponse) -> AuditTrail:
    return AuditTrail(
        entries=[
            AuditEntry(
                seq=e.seq,
                action=e.action,
                actor=e.actor,
                revision=e.revision,
                occurred_at=timestamp(e, "occurred_at"),
                facts_json=e.facts_json,
                prev_sha256=e.prev_sha256,
                sha256=e.sha256,
            )
            for e in m.entries
        ],
        intact=m.intact,
        first_broken_seq=m.first_broken_seq,
        problem=m.problem,
    )
