"""The JSON shapes of projects, stages and the status board, and the
translation from projects' messages. The pages render these same models."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Literal, get_args
from uuid import UUID

from portal.projects.v1 import projects_pb2
from pydantic import BaseModel, ConfigDict, Field

from gateway.api.fields import Line, Text
from gateway.api.translate import MoneyOut, calendar_date, money_out, timestamp
from services.chassis import enums

P = projects_pb2

# In stage order; a test keeps this in step with the proto's Stage enum.
StageName = Literal["design", "procurement", "install", "commissioning", "handover"]
STAGE_NAMES: tuple[str, ...] = get_args(StageName)


def stage_name(value: projects_pb2.Stage.ValueType) -> str:
    return enums.short_name(P.Stage, value)


def stage_value(name: str) -> projects_pb2.Stage.ValueType:
    return enums.value(P.Stage, name)


def known_stage(value: projects_pb2.Stage.ValueType) -> Any:
    """The stage's name, or None for UNSPECIFIED (e.g. where a history starts)."""
    name = enums.known_name(P.Stage, value)
    return name if name in STAGE_NAMES else None


# -- shapes ---------------------------------------------------------------------------


class Project(BaseModel):
    id: str
    reference: str = Field(description="The human number, e.g. PRJ-0001.")
    name: str
    customer_id: str
    site_address: str
    stage: StageName
    created_at: datetime
    stage_changed_at: datetime | None
    project_manager_id: str = Field(description="A staff user's id; empty if none.")
    project_manager_name: str
    project_manager_email: str
    visible_contact_ids: list[str] = Field(
        description="The customer's contacts who see the project; empty means all of them."
    )
    service_contract: bool


class ProjectPage(BaseModel):
    projects: list[Project]
    next_page_token: str = Field(
        description="Pass as page_token for the next page; empty at the end."
    )


class NewProject(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Line = Field(max_length=200)
    customer_id: UUID
    site_address: Line = Field("", max_length=500)


class ProjectChange(BaseModel):
    """Only the fields sent change; `null` clears one."""

    model_config = ConfigDict(extra="forbid")

    name: Line | None = Field(None, max_length=200)
    site_address: Line | None = Field(None, max_length=500)
    project_manager_id: UUID | None = None
    project_manager_name: Line | None = Field(None, max_length=200)
    project_manager_email: Line | None = Field(None, max_length=320)
    visible_contact_ids: list[UUID] | None = Field(
        None, max_length=100, description="Empty: every contact of the customer sees it."
    )
    service_contract: bool | None = None


class StageChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stage: StageName
    reason: Text = Field("", max_length=2000, description="Why; needed when moving backwards.")
    client_note: Text = Field("", max_length=2000, description="Shown to the client.")


class StageInfo(BaseModel):
    stage: StageName
    planned_start: date | None
    planned_finish: date | None
    actual_start: date | None
    actual_finish: date | None
    client_note: str = Field(description="Shown to the client on the status board.")
    note_updated_at: datetime | None


class StageUpdate(BaseModel):
    """Dates are the tenant's calendar dates. Only the fields sent change;
    `null` clears one."""

    model_config = ConfigDict(extra="forbid")

    planned_start: date | None = None
    planned_finish: date | None = None
    actual_start: date | None = None
    actual_finish: date | None = None
    client_note: Text | None = Field(None, max_length=2000)


class StageMove(BaseModel):
    from_stage: StageName | None
    to_stage: StageName
    changed_by: str
    reason: str
    client_note: str
    changed_at: datetime | None


class StageHistory(BaseModel):
    changes: list[StageMove]


class ClientNote(BaseModel):
    stage: StageName | None = Field(
        description="The stage the note is about: the one moved to, or the one staff noted."
    )
    note: str
    at: datetime | None


class WaitingItem(BaseModel):
    kind: str = Field(description='e.g. "proposal_to_accept", "change_order_to_approve".')
    title: str
    link: str = Field(description="A portal path, e.g. /projects/<id>/proposal.")
    since: datetime | None


class Budget(BaseModel):
    accepted_proposal: MoneyOut | None
    approved_variations: MoneyOut | None
    contract_value: MoneyOut | None
    accepted_proposal_id: str


class NextPayment(BaseModel):
    label: str = Field(description='The plan\'s milestone, e.g. "Installation".')
    stage: StageName | None = Field(description="The stage it falls due at; null: on acceptance.")
    amount: MoneyOut | None = Field(description="Left to pay on its invoice, or what it will be.")
    invoice_id: str = Field(description="Empty until the milestone is invoiced.")
    invoice_number: str
    due_on: date | None
    held_for_verification: MoneyOut | None = Field(
        default=None,
        description="Of the amount, what a bank debit holds until the client verifies "
        "their bank account: not due again.",
    )
    when: str = Field(
        default="",
        description='The board\'s words: before it is invoiced "on acceptance" or "at '
        'install"; once invoiced "due 12 Dec 2026", "waiting for you to verify your bank '
        'account", or "$500.00 held for verification, $1,500.00 due 12 Dec 2026".',
    )


class PaymentOnItsWay(BaseModel):
    invoice_id: str
    invoice_number: str
    amount: MoneyOut | None = Field(description="The bank debit still clearing.")
    expected_by: date | None


class StatusBoard(BaseModel):
    project: Project
    stages: list[StageInfo] = Field(description="All five, in order.")
    forecast_handover: date | None
    recent_notes: list[ClientNote] = Field(description="The latest notes from the team.")
    waiting_on: list[WaitingItem] = Field(description="What the client is expected to do.")
    budget: Budget
    next_payment: NextPayment | None = Field(
        default=None, description="The payment plan's next payment; null when none is due."
    )
    on_its_way: list[PaymentOnItsWay] = Field(
        default_factory=list, description="Bank debits still clearing: processing, not paid."
    )
    handover_moved_by: str = Field(
        default="",
        description="The approved change order that moved the forecast handover (CO-003); "
        "empty once staff re-plan handover by hand.",
    )
    handover_moved_from: date | None = Field(
        default=None, description="The forecast handover before that order."
    )


# -- translation ----------------------------------------------------------------------


def project_out(p: projects_pb2.Project) -> Project:
    return Project(
        id=p.id,
        reference=p.reference,
        name=p.name,
        customer_id=p.customer_id,
        site_address=p.site_address,
        stage=stage_name(p.stage),  # type: ignore[arg-type]  # validated by the model
        created_at=p.created_at.ToDatetime(tzinfo=UTC),
        stage_changed_at=timestamp(p, "stage_changed_at"),
        project_manager_id=p.project_manager_id,
        project_manager_name=p.project_manager_name,
        project_manager_email=p.project_manager_email,
        visible_contact_ids=list(p.visible_contact_ids),
        service_contract=p.service_contract,
    )


def stage_info_out(s: projects_pb2.StageInfo) -> StageInfo:
    return StageInfo(
        stage=stage_name(s.stage),  # type: ignore[arg-type]
        planned_start=calendar_date(s.planned_start),
        planned_finish=calendar_date(s.planned_finish),
        actual_start=calendar_date(s.actual_start),
        actual_finish=calendar_date(s.actual_finish),
        client_note=s.client_note,
        note_updated_at=timestamp(s, "note_updated_at"),
    )


def board_out(b: projects_pb2.GetStatusBoardResponse) -> StatusBoard:
    budget = b.budget
    return StatusBoard(
        project=project_out(b.project),
        stages=[stage_info_out(s) for s in b.stages if known_stage(s.stage)],
        forecast_handover=calendar_date(b.forecast_handover),
        # The API shows the note, not the reason (projects blanks it for a client anyway).
        recent_notes=[
            ClientNote(
                stage=known_stage(n.to_stage),
                note=n.client_note,
                at=timestamp(n, "changed_at"),
            )
            for n in b.recent_notes
        ],
        waiting_on=[
            WaitingItem(kind=w.kind, title=w.title, link=w.link, since=timestamp(w, "since"))
            for w in b.waiting_on
        ],
        budget=Budget(
            accepted_proposal=money_out(budget, "accepted_proposal"),
            approved_variations=money_out(budget, "approved_variations"),
            contract_value=money_out(budget, "contract_value"),
            accepted_proposal_id=budget.accepted_proposal_id,
        ),
        next_payment=next_payment_out(b),
        on_its_way=[
            PaymentOnItsWay(
                invoice_id=w.invoice_id,
                invoice_number=w.invoice_number,
                amount=money_out(w, "amount"),
                expected_by=calendar_date(w.expected_by),
            )
            for w in b.on_its_way
        ],
        handover_moved_by=b.handover_moved_by,
        handover_moved_from=calendar_date(b.handover_moved_from),
    )


def next_payment_out(b: projects_pb2.GetStatusBoardResponse) -> NextPayment | None:
    if not b.HasField("next_payment"):
        return None
    n = b.next_payment
    return NextPayment(
        label=n.label,
        stage=known_stage(n.stage),
        amount=money_out(n, "amount"),
        invoice_id=n.invoice_id,
        invoice_number=n.invoice_number,
        due_on=calendar_date(n.due_on),
        held_for_verification=money_out(n, "held_for_verification"),
        when=n.when,
    )
