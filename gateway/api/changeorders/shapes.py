"""The JSON shapes of change orders (the diff, the schedule, the thread, the
signature, the audit trail) and their translation from changeorders'
messages. No decisions here: changeorders decided what the caller may see (a
client gets no staff-only lines, no baseline, no draft)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from portal.changeorders.v1 import changeorders_pb2 as pb
from pydantic import BaseModel, Field

from gateway.api.changeorders.requests import LineChangeIn
from gateway.api.translate import MoneyOut, calendar_date, money_out, timestamp
from services.chassis import enums

Status = Literal[
    "draft", "sent", "viewed", "approved", "pushed_back", "withdrawn", "expired", "superseded"
]
Kind = Literal["added", "removed", "quantity", "swapped", "repriced", "labour", "unchanged"]


def _status(value: int) -> Status:
    return enums.short_name(pb.ChangeOrderStatus, value, unknown="draft")  # type: ignore[return-value]


def kind_name(value: int) -> Kind:
    return enums.short_name(pb.LineChangeKind, value, unknown="unchanged")  # type: ignore[return-value]


# -- what comes back --------------------------------------------------------------------


class LineDiff(BaseModel):
    line_key: str
    kind: Kind
    description_before: str
    description_after: str
    quantity_before: int
    quantity_after: int
    unit_price_before: MoneyOut | None
    unit_price_after: MoneyOut | None
    total_before: MoneyOut | None
    total_after: MoneyOut | None
    note: str
    client_visible: bool
    labour: bool


class RoomDiff(BaseModel):
    room_key: str
    name: str
    added: bool
    changed: bool
    lines: list[LineDiff]
    other_items_before: MoneyOut | None
    other_items_after: MoneyOut | None
    total_before: MoneyOut | None
    total_after: MoneyOut | None


class Totals(BaseModel):
    items: MoneyOut | None
    labour: MoneyOut | None
    discount: MoneyOut | None
    subtotal: MoneyOut | None
    tax: MoneyOut | None
    total: MoneyOut | None


class Diff(BaseModel):
    rooms: list[RoomDiff]
    before: Totals | None = Field(description="The contract now (signed + approved changes).")
    after: Totals | None = Field(description="The contract if this order is approved.")
    signed_total: MoneyOut | None = Field(description="The accepted proposal alone.")
    price_impact: MoneyOut | None
    tax_impact: MoneyOut | None
    tax_rate_bps: int


class StageMove(BaseModel):
    stage: str
    planned_start_before: date | None
    planned_finish_before: date | None
    planned_start_after: date | None
    planned_finish_after: date | None


class Schedule(BaseModel):
    impact_days: int = Field(description="Negative: sooner.")
    shift_from_stage: str
    stages: list[StageMove]


class Signature(BaseModel):
    signer_name: str
    signer_email: str
    auth_method: str
    consent_text: str
    viewed_at: datetime | None
    consented_at: datetime | None
    signed_at: datetime | None
    ip: str
    user_agent: str
    content_sha256: str
    revision: int


class Comment(BaseModel):
    id: UUID
    revision: int
    line_key: str
    line_description: str
    author_kind: str
    author_name: str
    body: str
    created_at: datetime | None
    author_id: str = Field(
        "", description="Staff readers: who wrote it (a staff user's or contact's id); else empty."
    )


class RevisionSummary(BaseModel):
    revision: int
    status: Status
    sent_at: datetime | None
    price_impact: MoneyOut | None


class MilestoneEffect(BaseModel):
    label: str
    trigger: str
    before: MoneyOut | None = Field(description="What it would invoice today.")
    after: MoneyOut | None = Field(description="With this order approved.")


class PaymentEffect(BaseModel):
    variation_rule: str = Field(description="invoice, next_milestone or spread.")
    milestones: list[MilestoneEffect]
    on_approval: MoneyOut | None = Field(description="Invoiced (negative: credited) on approval.")


class ContractLine(BaseModel):
    key: str
    description: str
    quantity: int
    unit_price: MoneyOut | None
    line_total: MoneyOut | None
    client_visible: bool
    labour: bool


class ContractRoom(BaseModel):
    key: str
    name: str
    client_visible: bool
    lines: list[ContractLine]
    total: MoneyOut | None


class ChangeOrder(BaseModel):
    id: UUID
    project_id: UUID
    project_name: str
    project_reference: str
    number: str = Field(description="CO-003, per project.")
    revision: int
    latest_revision: int
    status: Status
    title: str
    reason: str
    diff: Diff | None
    schedule: Schedule | None
    approval_deadline: datetime | None
    content_sha256: str = Field(description="Set when sent: what the client signs.")
    consent_text: str
    sent_at: datetime | None
    viewed_at: datetime | None
    decided_at: datetime | None
    signature: Signature | None
    comments: list[Comment]
    revisions: list[RevisionSummary]
    withdrawn_reason: str
    payment_effect: PaymentEffect | None = Field(
        description="A revision still to decide: the payment milestones before and after."
    )
    changes: list[LineChangeIn] = Field(description="Staff only: the changes as entered.")
    baseline: list[ContractRoom] = Field(
        description="Staff only: the contract it is drafted against."
    )


class Contract(BaseModel):
    """The contract a new order changes (staff): every room and line with its key."""

    rooms: list[ContractRoom]
    totals: Totals | None
    tax_rate_bps: int


class ChangeOrderPage(BaseModel):
    change_orders: list[ChangeOrder]
    next_page_token: str


# -- translation ------------------------------------------------------------------------


def _line_diff(m: pb.LineDiff) -> LineDiff:
    return LineDiff(
        line_key=m.line_key,
        kind=kind_name(m.kind),
        description_before=m.description_before,
        description_after=m.description_after,
        quantity_before=m.quantity_before,
        quantity_after=m.quantity_after,
        unit_price_before=money_out(m, "unit_price_before"),
        unit_price_after=money_out(m, "unit_price_after"),
        total_before=money_out(m, "total_before"),
        total_after=money_out(m, "total_after"),
        note=m.note,
        client_visible=m.client_visible,
        labour=m.labour,
    )


def _totals(m: pb.Totals) -> Totals:
    return Totals(**{f: money_out(m, f) for f in Totals.model_fields})


def _diff(m: pb.Diff) -> Diff:
    return Diff(
        rooms=[
            RoomDiff(
                room_key=r.room_key,
                name=r.name,
                added=r.added,
                changed=r.changed,
                lines=[_line_diff(x) for x in r.lines],
                other_items_before=money_out(r, "other_items_before"),
                other_items_after=money_out(r, "other_items_after"),
                total_before=money_out(r, "total_before"),
                total_after=money_out(r, "total_after"),
            )
            for r in m.rooms
        ],
        before=_totals(m.before) if m.HasField("before") else None,
        after=_totals(m.after) if m.HasField("after") else None,
        signed_total=money_out(m, "signed_total"),
        price_impact=money_out(m, "price_impact"),
        tax_impact=money_out(m, "tax_impact"),
        tax_rate_bps=m.tax_rate_bps,
    )


def _schedule(m: pb.Schedule) -> Schedule:
    return Schedule(
        impact_days=m.impact_days,
        shift_from_stage=m.shift_from_stage,
        stages=[
            StageMove(
                stage=s.stage,
                planned_start_before=calendar_date(s.planned_start_before),
                planned_finish_before=calendar_date(s.planned_finish_before),
                planned_start_after=calendar_date(s.planned_start_after),
                planned_finish_after=calendar_date(s.planned_finish_after),
            )
            for s in m.stages
        ],
    )


def _signature(m: pb.Signature) -> Signature:
    return Signature(
        signer_name=m.signer_name,
        signer_email=m.signer_email,
        auth_method=m.auth_method,
        consent_text=m.consent_text,
        viewed_at=timestamp(m, "viewed_at"),
        consented_at=timestamp(m, "consented_at"),
        signed_at=timestamp(m, "signed_at"),
        ip=m.ip,
        user_agent=m.user_agent,
        content_sha256=m.content_sha256,
        revision=m.revision,
    )


def _room(m: pb.ContractRoom) -> ContractRoom:
    return ContractRoom(
        key=m.key,
        name=m.name,
        client_visible=m.client_visible,
        total=money_out(m, "total"),
        lines=[
            ContractLine(
                key=x.key,
                description=x.description,
                quantity=x.quantity,
                unit_price=money_out(x, "unit_price"),
                line_total=money_out(x, "line_total"),
                client_visible=x.client_visible,
                labour=x.labour,
            )
            for x in m.lines
        ],
    )


def _effect(m: pb.PaymentEffect) -> PaymentEffect:
    return PaymentEffect(
        variation_rule=m.variation_rule,
        milestones=[
            MilestoneEffect(
                label=x.label,
                trigger=x.trigger,
                before=money_out(x, "before"),
                after=money_out(x, "after"),
            )
            for x in m.milestones
        ],
        on_approval=money_out(m, "on_approval"),
    )


def _change(c: pb.LineChange) -> LineChangeIn:
    return LineChangeIn.model_construct(
        kind=kind_name(c.kind),
        line_key=c.line_key,
        room_key=c.room_key,
        new_room_name=c.new_room_name,
        description=c.description,
        quantity=c.quantity if c.HasField("quantity") else None,
        unit_price_minor=c.unit_price_minor if c.HasField("unit_price_minor") else None,
        client_visible=c.client_visible,
        labour=c.labour,
        labour_minor=c.labour_minor if c.HasField("labour_minor") else None,
        note=c.note,
    )


def contract_out(m: pb.GetContractResponse) -> Contract:
    return Contract(
        rooms=[_room(r) for r in m.rooms],
        totals=_totals(m.totals) if m.HasField("totals") else None,
        tax_rate_bps=m.tax_rate_bps,
    )


def change_order_out(m: pb.ChangeOrder) -> ChangeOrder:
    return ChangeOrder(
        id=UUID(m.id),
        project_id=UUID(m.project_id),
        project_name=m.project_name,
        project_reference=m.project_reference,
        number=m.number,
        revision=m.revision,
        latest_revision=m.latest_revision,
        status=_status(m.status),
        title=m.title,
        reason=m.reason,
        diff=_diff(m.diff) if m.HasField("diff") else None,
        schedule=_schedule(m.schedule) if m.HasField("schedule") else None,
        approval_deadline=timestamp(m, "approval_deadline"),
        content_sha256=m.content_sha256,
        consent_text=m.consent_text,
        sent_at=timestamp(m, "sent_at"),
        viewed_at=timestamp(m, "viewed_at"),
        decided_at=timestamp(m, "decided_at"),
        signature=_signature(m.signature) if m.HasField("signature") else None,
        comments=[
            Comment(
                id=UUID(c.id),
                revision=c.revision,
                line_key=c.line_key,
                line_description=c.line_description,
                author_kind=c.author_kind,
                author_name=c.author_name,
                body=c.body,
                created_at=timestamp(c, "created_at"),
                author_id=c.author_id,
            )
            for c in m.comments
        ],
        revisions=[
            RevisionSummary(
                revision=r.revision,
                status=_status(r.status),
                sent_at=timestamp(r, "sent_at"),
                price_impact=money_out(r, "price_impact"),
            )
            for r in m.revisions
        ],
        withdrawn_reason=m.withdrawn_reason,
        payment_effect=_effect(m.payment_effect) if m.HasField("payment_effect") else None,
        changes=[_change(c) for c in m.changes],
        baseline=[_room(r) for r in m.baseline],
    )
