"""The status board: the whole status screen in one call, read in one query.

A hot read: SQLAlchemy Core on a `ReadUnit` (its query and nothing around it),
no ORM objects.
The project row carries its five stages, its latest client notes, its open
waiting items (each a JSON array from a correlated subquery) and the accepted
proposal (a join on the one-per-project partial unique index), so the board
costs one round trip, whatever the project holds; the client's portal state
(services/chassis/access.py) is a column of the same query.
"""

from __future__ import annotations

import functools
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Row, Uuid, and_, bindparam, func, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.sql.elements import ColumnElement

from services.chassis.access import (
    check_portal,
    portal_state_column,
    portal_state_params,
    require_open_portal,
)
from services.chassis.auth import Principal
from services.chassis.db import ReadUnit
from services.chassis.errors import NotFound
from services.chassis.validation import parse_uuid
from services.projects import domain_money, domain_stages
from services.projects.domain import Stage
from services.projects.domain_proposals import ProposalStatus
from services.projects.domain_schedule import HandoverMoved, handover_moved
from services.projects.models import (
    InvoiceStanding,
    Project,
    ProjectStage,
    Proposal,
    StageChange,
    WaitingItem,
)
from services.projects.service.board_payments import (
    NextPaymentRow,
    next_payment_column,
    next_payment_row,
)
from services.projects.service.common import (
    Sessions,
    client_view,
    visibility_of,
    visibility_rule,
)
from services.projects.service.stages import HistoryEntry, NoteRow, StageRow, board_notes

RECENT_NOTES = 5
PROJECT = Project.__table__
STAGE = ProjectStage.__table__
CHANGE = StageChange.__table__
WAITING = WaitingItem.__table__
PROPOSAL = Proposal.__table__
STANDING = InvoiceStanding.__table__
EMPTY = literal_column("'[]'::json")


@dataclass(frozen=True)
class Budget:
    currency: str
    accepted_proposal_minor: int
    approved_variations_minor: int
    contract_value_minor: int
    accepted_proposal_id: str  # empty until a proposal is accepted


@dataclass(frozen=True)
class WaitingRow:
    kind: str
    title: str
    link: str
    since: datetime


@dataclass(frozen=True)
class OnItsWayRow:
    invoice_id: str
    invoice_number: str
    currency: str
    amount_minor: int
    expected_by: date | None


@dataclass(frozen=True)
class StatusBoard:
    project: Row[Any]  # the project's columns, by name
    stages: list[StageRow]  # all five, in order
    forecast_handover: date | None
    recent_notes: list[HistoryEntry]  # moves' and stages' notes, newest first
    waiting_on: list[WaitingRow]  # oldest first
    budget: Budget
    for_client: bool  # answered as the client sees it (their view of the project too)
    next_payment: NextPaymentRow | None = None  # none known, or nothing left to pay
    on_its_way: list[OnItsWayRow] | None = None  # bank debits clearing, soonest first
    handover_moved: HandoverMoved | None = None  # the change order that moved it


def _json_array(*pairs: tuple[str, ColumnElement[Any]], order_by: Any) -> Any:
    """json_agg of one object per row, in order; [] when there are none."""
    obj = func.json_build_object(*[part for name, col in pairs for part in (name, col)])
    return func.coalesce(func.json_agg(aggregate_order_by(obj, *order_by)), EMPTY)


@functools.cache
def _board_query(rule: str) -> Any:
    """Built once per visibility rule (staff, contact, customer): building this
    statement cost more than running it. Parameters: `board_project`, the
    rule's (`visibility_of`) and the portal state's (`portal_state_params`)."""
    s, w = STAGE.c, WAITING.c
    stages = (
        select(
            _json_array(
                ("stage", s.stage),
                ("planned_start", s.planned_start),
                ("planned_finish", s.planned_finish),
                ("actual_start", s.actual_start),
                ("actual_finish", s.actual_finish),
                ("client_note", s.client_note),
                ("note_updated_at", s.note_updated_at),
                order_by=(s.stage,),
            )
        )
        .where(s.project_id == PROJECT.c.id)
        .scalar_subquery()
    )
    latest = (
        select(CHANGE)
        .where(CHANGE.c.project_id == PROJECT.c.id, CHANGE.c.client_note != "")
        .order_by(CHANGE.c.changed_at.desc(), CHANGE.c.id)
        .limit(RECENT_NOTES)
        .correlate(PROJECT)
        .subquery("latest")
    )
    n = latest.c
    notes = select(
        _json_array(
            ("from_stage", n.from_stage),
            ("to_stage", n.to_stage),
            ("changed_by", n.changed_by),
            ("reason", n.reason),
            ("client_note", n.client_note),
            ("changed_at", n.changed_at),
            order_by=(n.changed_at.desc(), n.id),
        )
    ).scalar_subquery()
    waiting = (
        select(
            _json_array(
                ("kind", w.kind),
                ("title", w.title),
                ("link", w.link),
                ("since", w.since),
                order_by=(w.since, w.id),
            )
        )
        .where(w.project_id == PROJECT.c.id, w.resolved_at.is_(None))
        .scalar_subquery()
    )
    i_ = STANDING.c
    on_its_way = (
        select(
            _json_array(
                ("invoice_id", i_.invoice_id),
                ("invoice_number", i_.number),
                ("currency", i_.currency),
                ("amount_minor", i_.processing_minor),
                ("expected_by", i_.expected_by),
                order_by=(i_.expected_by, i_.number),
            )
        )
        .where(
            i_.project_id == PROJECT.c.id,
            i_.processing_minor > 0,
            # Two comparisons, not NOT IN: a tuple is an "expanding" parameter,
            # which made SQLAlchemy render the cached statement's SQL again on
            # every execution (~3% of projects' CPU on the board).
            i_.status != "paid",
            i_.status != "void",
        )
        .scalar_subquery()
    )
    accepted = PROPOSAL.alias("accepted")
    return (
        select(
            PROJECT,
            stages.label("board_stages"),
            notes.label("board_notes"),
            waiting.label("board_waiting"),
            next_payment_column(PROJECT.c.id).label("board_next_payment"),
            on_its_way.label("board_on_its_way"),
            accepted.c.id.label("accepted_id"),
            accepted.c.total_minor.label("accepted_minor"),
            portal_state_column(rule != "staff"),
        )
        .select_from(
            PROJECT.outerjoin(
                accepted,
                and_(
                    accepted.c.project_id == PROJECT.c.id,
                    accepted.c.status == ProposalStatus.ACCEPTED,
                ),
            )
        )
        .where(PROJECT.c.id == bindparam("board_project", type_=Uuid), visibility_rule(rule))
    )


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


def _maybe_instant(value: str | None) -> datetime | None:
    return _instant(value) if value else None


def _stages(raw: list[dict]) -> list[StageRow]:
    """All five in order; a missing one (never made) reads as an empty plan."""
    found = {
        Stage(r["stage"]): StageRow(
            stage=r["stage"],
            planned_start=_day(r["planned_start"]),
            planned_finish=_day(r["planned_finish"]),
            actual_start=_day(r["actual_start"]),
            actual_finish=_day(r["actual_finish"]),
            client_note=r["client_note"],
            note_updated_at=_maybe_instant(r["note_updated_at"]),
        )
        for r in raw
    }
    return [found.get(stage) or StageRow.empty(stage) for stage in Stage]


async def as_the_client(sessions: Sessions, staff: Principal, project_id: uuid.UUID) -> Principal:
    """The principal staff carry when they view the project's customer's portal
    (read-only, `viewing_as`): the console's preview of the board is then the
    client's board by the same code, not a staff board with parts left out."""
    tenant_id = staff.require_reader()
    async with ReadUnit(sessions, tenant_id) as read:
        customer_id = (
            await read.execute(select(PROJECT.c.customer_id).where(PROJECT.c.id == project_id))
        ).scalar()
    if customer_id is None:
        raise NotFound("no such project", field="project_id")
    return Principal(
        kind="client",
        subject=staff.subject,
        tenant_id=tenant_id,
        customer_id=str(customer_id),
        read_only=True,
        viewing_as=True,
    )


async def get_status_board(
    *, sessions: Sessions, principal: Principal, project_id: str, as_client: bool = False
) -> StatusBoard:
    """`as_client`: staff asking for the client's board (a client always gets theirs)."""
    pid = parse_uuid(project_id, field="project_id")
    if as_client and not principal.is_client:
        principal = await as_the_client(sessions, principal, pid)
    async with ReadUnit(sessions, principal.require_reader()) as read:
        return await read_board(read, principal, pid)


async def read_board(read: ReadUnit, principal: Principal, pid: uuid.UUID) -> StatusBoard:
    """The board in an open `ReadUnit` of the principal's tenant: one query
    (the landing reads it in the list's transaction, one BEGIN for both)."""
    rule, params = visibility_of(principal)
    params = {**params, **portal_state_params(principal), "board_project": pid}
    row = (await read.execute(_board_query(rule), params)).first()
    if row is None:
        # A closed portal is refused as such, not as a missing project.
        await require_open_portal(read, principal)
        raise NotFound("no such project", field="project_id")
    check_portal(principal, row.portal_state)
    stages = _stages(_loads(row.board_stages))
    for_client = client_view(principal)
    moves = [
        NoteRow(
            from_stage=n["from_stage"],
            to_stage=n["to_stage"],
            changed_by=n["changed_by"],
            reason=n["reason"],
            client_note=n["client_note"],
            changed_at=_instant(n["changed_at"]),
        )
        for n in _loads(row.board_notes)
    ]
    recent = board_notes(moves, stages, for_client=for_client, limit=RECENT_NOTES)
    waiting = [
        WaitingRow(
            kind=w["kind"],
            title=w["title"],
            link=w["link"],
            since=_instant(w["since"]),
        )
        for w in _loads(row.board_waiting)
    ]
    accepted_minor = row.accepted_minor or 0
    forecast = domain_stages.forecast_handover({Stage(s.stage): s.dates for s in stages})
    return StatusBoard(
        project=row,
        stages=stages,
        forecast_handover=forecast,
        handover_moved=handover_moved(
            forecast,
            by=row.handover_moved_by,
            from_date=row.handover_moved_from,
            to_date=row.handover_moved_to,
        ),
        recent_notes=recent,
        waiting_on=waiting,
        budget=Budget(
            currency=row.currency,
            accepted_proposal_minor=accepted_minor,
            approved_variations_minor=row.approved_variations_minor,
            contract_value_minor=domain_money.contract_value(
                accepted_minor, row.approved_variations_minor
            ),
            accepted_proposal_id=str(row.accepted_id) if row.accepted_id else "",
        ),
        for_client=for_client,
        next_payment=next_payment_row(row.board_next_payment),
        on_its_way=[
            OnItsWayRow(
                invoice_id=str(w["invoice_id"]),
                invoice_number=w["invoice_number"],
                currency=w["currency"],
                amount_minor=int(w["amount_minor"]),
                expected_by=_day(w["expected_by"]),
            )
            for w in _loads(row.board_on_its_way)
        ],
    )


def _loads(value: Any) -> list[dict]:
    """asyncpg hands json back as text unless a codec is set; accept both."""
    return json.loads(value) if isinstance(value, str) else list(value or [])
