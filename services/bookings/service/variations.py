"""Approved change orders on the dispatch calendar: the project's install
work orders take the order's tasks and its schedule shift, once. A visit the
shift would land on another of its technician's is left where it was and
flagged to the dispatcher (`conflict_flagged`); the exclusion constraint
stays the last word."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta

from portal.changeorders.v1 import changeorders_pb2 as co_pb
from portal.changeorders.v1 import events_pb2 as changeorder_events
from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert

from services.bookings import domain_variations as rules
from services.bookings.domain_bookings import WorkOrderKind, WorkOrderStatus
from services.bookings.models import (
    Assignment,
    ChangeOrderWork,
    ProjectFact,
    Technician,
    WorkOrder,
)
from services.bookings.service.common import load_settings, lock_technicians, now_utc, tenant_uuid
from services.bookings.service.messages import WorkOrderView
from services.bookings.service.work_orders import (
    check_time_off,
    flag_conflict,
    hold_time,
    publish_work_order,
)
from services.chassis import enums
from services.chassis.db import UnitOfWork
from services.chassis.events import Event
from services.chassis.timefmt import format_datetime, parse_day

# Built once, run with each order's values (building them per event cost more
# than running them): the order's row unless it is there (a redelivery), and
# its counts once the calendar has taken it.
_WORK = ChangeOrderWork.__table__
_RECORD = insert(_WORK).on_conflict_do_nothing().returning(_WORK.c.change_order_id)
_COUNTED = (
    update(_WORK)
    .where(_WORK.c.tenant_id == bindparam("tenant"), _WORK.c.change_order_id == bindparam("order"))
    .values(work_orders=bindparam("orders_taken"), flagged=bindparam("orders_flagged"))
)


async def on_change_order_approved(
    uow: UnitOfWork, event: Event[changeorder_events.ChangeOrderApproved]
) -> None:
    p = event.payload
    project_id = uuid.UUID(p.project_id)
    recorded = await uow.session.scalar(
        _RECORD,
        {
            "tenant_id": tenant_uuid(uow),
            "change_order_id": p.change_order_id,
            "project_id": project_id,
            "reference": p.number[:30],
            "work_orders": 0,
            "flagged": 0,
        },
    )
    if recorded is None:
        return  # put on the calendar already: a redelivery changes nothing
    orders = {
        str(o.id): o
        for o in await uow.session.scalars(
            select(WorkOrder)
            .where(WorkOrder.project_id == project_id, WorkOrder.kind == WorkOrderKind.INSTALL)
            .where(WorkOrder.status.in_([s.value for s in rules.WAITING]))
            .order_by(WorkOrder.starts_at)
            .with_for_update()
        )
    }
    install = next((m for m in p.stage_moves if m.stage == rules.INSTALL_STAGE), None)
    work = rules.plan_variation_work(
        number=p.number,
        orders=[_facts(o) for o in orders.values()],
        lines=[_line(line) for line in p.lines],
        days=p.schedule_impact_days,
        shift_from_stage=p.shift_from_stage,
        install_start_before=parse_day(install.planned_start_before) if install else None,
        now=now_utc(),
    )
    crews, assigned = await _crews(uow, [orders[c.id] for c in work.changes])
    fact = await uow.session.get(ProjectFact, project_id) if work.changes else None
    flagged = 0
    for change in work.changes:
        order = orders[change.id]
        technicians = crews.get(order.id, [])
        clash = await _apply(uow, p.number, order, change, technicians)
        flagged += clash
        # Moved: held now by exactly these (hold_time); else as it was.
        rehold = change.moved and not clash
        held = [t.staff_user_id for t in technicians] if rehold else assigned.get(order.id, [])
        order.sequence += 1
        order.updated_at = now_utc()
        # Built from what this handler holds: no read of the assignments back.
        ids = tuple(str(i) for i in sorted(held))
        publish_work_order(uow, WorkOrderView(order, ids, fact.name if fact else ""))
    # One statement: the row inserted above is this transaction's own.
    await uow.session.execute(
        _COUNTED,
        {
            "tenant": tenant_uuid(uow),
            "order": p.change_order_id,
            "orders_taken": len(work.changes),
            "orders_flagged": flagged,
        },
    )


async def _apply(
    uow: UnitOfWork,
    number: str,
    order: WorkOrder,
    change: rules.OrderChange,
    technicians: Sequence[Technician],
) -> bool:
    """The order takes its tasks and, if it moves, its new time; True when the
    move would land on another of a technician's visits (left, flagged)."""
    # Read before the order changes: the tasks then go out with the move in
    # hold_time's flush, one UPDATE, not one for the tasks alone first.
    busy = (
        await _busy(uow, order, technicians, change.starts_at - order.starts_at)
        if change.moved
        else None
    )
    order.tasks = list(change.tasks)
    if not change.moved:
        return False
    if busy is None:
        order.starts_at, order.ends_at = change.starts_at, change.ends_at
        await hold_time(uow, order, technicians)
        await check_time_off(uow, order, technicians)
        return False
    # The tenant's zone is only for the dispatcher's words: read when needed.
    when = format_datetime(change.starts_at, (await load_settings(uow)).time_zone)
    flag_conflict(
        uow,
        order,
        str(busy.staff_user_id),
        f"{number} moves this visit to {when}, when {busy.full_name} "
        "has another visit: move or reassign it",
    )
    return True


async def _crews(
    uow: UnitOfWork, orders: Sequence[WorkOrder]
) -> tuple[dict[uuid.UUID, list[Technician]], dict[uuid.UUID, list[uuid.UUID]]]:
    """Each order's technicians, all locked at once in id order (as a booking
    locks them: no deadlock), so the check below reads their other visits as
    committed; and every technician each order is assigned (a technician no
    longer active too: the published order names them until it is re-held)."""
    rows = (
        await uow.session.execute(
            select(Assignment.work_order_id, Assignment.technician_id).where(
                Assignment.work_order_id.in_([o.id for o in orders])
            )
        )
    ).all()
    ids = sorted({tid for _, tid in rows})
    locked = {t.staff_user_id: t for t in await lock_technicians(uow, ids=ids)} if ids else {}
    crews: dict[uuid.UUID, list[Technician]] = {}
    assigned: dict[uuid.UUID, list[uuid.UUID]] = {}
    for wid, tid in rows:
        assigned.setdefault(wid, []).append(tid)
        if tid in locked:
            crews.setdefault(wid, []).append(locked[tid])
    return crews, assigned


async def _busy(
    uow: UnitOfWork, order: WorkOrder, technicians: Sequence[Technician], delta: timedelta
) -> Technician | None:
    """The first technician with another active visit where the order would move."""
    start = order.starts_at + delta - timedelta(minutes=order.buffer_before_minutes)
    end = order.ends_at + delta + timedelta(minutes=order.buffer_after_minutes)
    for tech in technicians:
        other = await uow.session.scalar(
            select(Assignment.id).where(
                Assignment.technician_id == tech.staff_user_id,
                Assignment.work_order_id != order.id,
                Assignment.active.is_(True),
                Assignment.block_starts_at < end,
                Assignment.block_ends_at > start,
            )
        )
        if other is not None:
            return tech
    return None


def _facts(order: WorkOrder) -> rules.Order:
    return rules.Order(
        id=str(order.id),
        status=WorkOrderStatus(order.status),
        room_name=order.room_name,
        tasks=tuple(order.tasks),
        starts_at=order.starts_at,
        ends_at=order.ends_at,
    )


def _line(line: co_pb.LineSummary) -> rules.ChangedLine:
    return rules.ChangedLine(
        room_name=line.room_name,
        description=line.description,
        kind=enums.short_name(co_pb.LineChangeKind, line.kind, unknown=""),
        quantity_before=line.quantity_before,
        quantity_after=line.quantity_after,
        labour=line.labour,
    )
