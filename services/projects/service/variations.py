"""Approved change orders become variations of the contract: the budget on
the board (accepted proposal + approved variations) reads them, and the stage
plan takes their schedule impact (the forecast handover with it)."""

from __future__ import annotations

import uuid
from datetime import UTC

from portal.changeorders.v1 import changeorders_pb2
from portal.changeorders.v1 import events_pb2 as changeorder_events
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from services.chassis.db import UnitOfWork
from services.chassis.errors import InvalidArgument, NotFound
from services.chassis.events import Event
from services.projects import domain_schedule
from services.projects.domain_schedule import OrderedMove
from services.projects.domain_stages import parse_date
from services.projects.models import Project, Variation
from services.projects.service.change_order_board import keep_change_order_waiting, report_of
from services.projects.service.stages import dates_of, load_stage_rows, set_dates

SOURCE = "change_order"
# Built once, run with each order's row (building it per event cost more than
# running it): the variation, unless this order's is there already.
_RECORD = (
    insert(Variation.__table__)
    .on_conflict_do_nothing(index_elements=["tenant_id", "source", "source_id"])
    .returning(Variation.__table__.c.id)
)


async def on_change_order_approved(
    uow: UnitOfWork, event: Event[changeorder_events.ChangeOrderApproved]
) -> None:
    """Record the order's price impact once (a redelivery, or the same order
    approved twice over, finds its variation and adds nothing), and the sum
    the budget reads with it in this transaction; the order's schedule impact
    moves the planned stage dates in the same transaction, once, too."""
    p = event.payload
    project_id = uuid.UUID(p.project_id)
    # The project row first, as every change to a project takes it: two
    # orders approved at once add up one after the other.
    project = await uow.session.scalar(
        select(Project).where(Project.id == project_id).with_for_update()
    )
    if project is None:
        raise NotFound("a change order was approved on a project projects does not have")
    if p.price_impact.currency != project.currency:
        raise InvalidArgument(
            f"{p.number} is priced in {p.price_impact.currency}, the project in {project.currency}"
        )
    recorded = await uow.session.scalar(
        _RECORD,
        {
            "id": uuid.uuid4(),
            "tenant_id": project.tenant_id,
            "project_id": project.id,
            "source": SOURCE,
            "source_id": p.change_order_id,
            "reference": p.number,
            "amount_minor": p.price_impact.amount_minor,
            "currency": p.price_impact.currency,
            "approved_at": (
                p.approved_at.ToDatetime(tzinfo=UTC)
                if p.HasField("approved_at")
                else event.occurred_at
            ),
        },
    )
    # Approved: no longer awaiting the client (a redelivery finds it resolved).
    await keep_change_order_waiting(uow, project, report_of("approved", p), event)
    if recorded is None:
        return
    project.approved_variations_minor += p.price_impact.amount_minor
    await _move_stage_dates(uow, project, p)


async def _move_stage_dates(
    uow: UnitOfWork, project: Project, p: changeorder_events.ChangeOrderApproved
) -> None:
    """Nothing is published: projects announces stage moves, not re-plans
    (UpdateStage publishes nothing either); the board reads these rows, and
    bookings and notifications read the approved event itself."""
    rows = await load_stage_rows(uow, project)
    shift = domain_schedule.plan_schedule_shift(
        {stage: dates_of(row) for stage, row in rows.items()},
        days=p.schedule_impact_days,
        shift_from=p.shift_from_stage,
        moves=[_ordered_move(m) for m in p.stage_moves],
    )
    for stage, dates in shift.dates.items():
        set_dates(rows[stage], dates)
    if shift.moves_handover:
        project.handover_moved_by = p.number
        project.handover_moved_from = shift.handover_before
        project.handover_moved_to = shift.handover_after


def _ordered_move(m: changeorders_pb2.StageMove) -> OrderedMove:
    return OrderedMove(
        stage=domain_schedule.parse_stage_name(m.stage, field="stage_moves"),
        start_before=parse_date(m.planned_start_before, field="stage_moves"),
        finish_before=parse_date(m.planned_finish_before, field="stage_moves"),
        start_after=parse_date(m.planned_start_after, field="stage_moves"),
        finish_after=parse_date(m.planned_finish_after, field="stage_moves"),
    )
