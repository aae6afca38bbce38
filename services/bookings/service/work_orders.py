"""Work orders: install visits staff plan per project, and the service visits
bookings make. Technicians' time is held by assignment rows; the exclusion
constraint refuses an overlap and we answer it as SlotTaken (ABORTED), never
a 500. Time off over a visit flags it (`conflict`), never hides it."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from portal.bookings.v1 import events_pb2
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from services.bookings import domain_bookings as rules
from services.bookings.domain_bookings import ACTIVE, SlotTaken, WorkOrderKind, WorkOrderStatus
from services.bookings.models import Assignment, ProjectFact, Technician, TimeOff, WorkOrder
from services.bookings.service.common import (
    Sessions,
    is_exclusion_violation,
    load_fact,
    load_settings,
    lock_technicians,
    now_utc,
    require_dispatcher,
    require_staff_reader,
    tenant_uuid,
)
from services.bookings.service.messages import WorkOrderView, work_order_pb
from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.errors import InvalidArgument, InvalidTransition, NotFound
from services.chassis.timefmt import zone
from services.chassis.validation import check_request_id, parse_uuid, single_line

UPDATABLE = ("title", "room_name", "tasks", "technician_ids", "starts_at", "ends_at", "status")


async def view_of(uow: UnitOfWork, order: WorkOrder) -> WorkOrderView:
    ids = (
        await uow.session.scalars(
            select(Assignment.technician_id)
            .where(Assignment.work_order_id == order.id)
            .order_by(Assignment.technician_id)
        )
    ).all()
    fact = await uow.session.get(ProjectFact, order.project_id)
    return WorkOrderView(order, tuple(str(i) for i in ids), fact.name if fact else "")


def publish_work_order(uow: UnitOfWork, view: WorkOrderView, *, created: bool = False) -> None:
    message = work_order_pb(view)
    payload = (
        events_pb2.WorkOrderCreated(work_order=message)
        if created
        else events_pb2.WorkOrderUpdated(work_order=message)
    )
    uow.publish(payload, aggregate_type="work_order", aggregate_id=str(view.work_order.id))


def flag_conflict(uow: UnitOfWork, order: WorkOrder, technician_id: str, reason: str) -> None:
    """Staff must move or reassign it: the calendar shows it, and we say so."""
    order.conflict = reason[:300]
    order.sequence += 1
    uow.publish(
        events_pb2.WorkOrderConflictFlagged(
            work_order=work_order_pb(WorkOrderView(order, (technician_id,))),
            technician_id=technician_id,
            reason=order.conflict,
        ),
        aggregate_type="work_order",
        aggregate_id=str(order.id),
    )


def block_of(order: WorkOrder) -> tuple[datetime, datetime]:
    return (
        order.starts_at - timedelta(minutes=order.buffer_before_minutes),
        order.ends_at + timedelta(minutes=order.buffer_after_minutes),
    )


async def hold_time(uow: UnitOfWork, order: WorkOrder, technicians: Sequence[Technician]) -> None:
    """Make the order's assignments exactly these technicians, its block and
    status; an overlap with another visit of theirs is SlotTaken."""
    start, end = block_of(order)
    active = order.status in ACTIVE
    # Named now: after a failed flush the session can load nothing more.
    names = ", ".join(sorted(t.full_name for t in technicians)) or "the technician"
    wanted = {t.staff_user_id for t in technicians}
    await uow.session.execute(
        delete(Assignment).where(
            Assignment.work_order_id == order.id, Assignment.technician_id.not_in(wanted)
        )
    )
    held = {
        a.technician_id: a
        for a in await uow.session.scalars(
            select(Assignment).where(Assignment.work_order_id == order.id)
        )
    }
    for tid in wanted:
        a = held.get(tid)
        if a is None:
            a = Assignment(tenant_id=order.tenant_id, work_order_id=order.id, technician_id=tid)
            uow.session.add(a)
        a.block_starts_at, a.block_ends_at, a.active = start, end, active
    try:
        await uow.flush()
    except IntegrityError as exc:
        if is_exclusion_violation(exc):
            raise SlotTaken(
                f"{names} already has a visit then (buffers and travel included); "
                "pick another time or technician"
            ) from None
        raise


async def refuse_if_busy(
    uow: UnitOfWork, order: WorkOrder, technicians: Sequence[Technician]
) -> None:
    """Name the technician and their other visit when they are busy then, so
    dispatch knows what to move. The exclusion constraint stays the last word
    (a visit booked between this read and the insert is still refused)."""
    if order.status not in ACTIVE or not technicians:
        return
    start, end = block_of(order)
    clash = (
        await uow.session.execute(
            select(Assignment.technician_id, WorkOrder.starts_at, WorkOrder.ends_at)
            .join(WorkOrder, WorkOrder.id == Assignment.work_order_id)
            .where(
                Assignment.active.is_(True),
                Assignment.technician_id.in_([t.staff_user_id for t in technicians]),
                Assignment.work_order_id != order.id,
                Assignment.block_starts_at < end,
                Assignment.block_ends_at > start,
            )
            .order_by(WorkOrder.starts_at)
            .limit(1)
        )
    ).first()
    if clash is not None:
        name = next(t.full_name for t in technicians if t.staff_user_id == clash.technician_id)
        tz = zone((await load_settings(uow)).time_zone)
        raise rules.technician_busy(name, clash.starts_at, clash.ends_at, on=order.starts_at, tz=tz)


async def check_time_off(
    uow: UnitOfWork, order: WorkOrder, technicians: Sequence[Technician]
) -> None:
    """Flag an order that falls in a technician's time off; clear the flag otherwise."""
    start, end = block_of(order)
    for tech in technicians:
        off = await uow.session.scalar(
            select(TimeOff.id).where(
                TimeOff.technician_id == tech.staff_user_id,
                TimeOff.starts_at < end,
                TimeOff.ends_at > start,
            )
        )
        if off is not None and order.status in ACTIVE:
            flag_conflict(uow, order, str(tech.staff_user_id), f"{tech.full_name} is off then")
            return
    order.conflict = ""


async def technicians_named(uow: UnitOfWork, ids: Sequence[str]) -> list[Technician]:
    wanted = [uuid.UUID(i) for i in ids]
    found = await lock_technicians(uow, ids=wanted) if wanted else []
    if len(found) != len(wanted):
        raise NotFound("no such technician (or no longer a technician)", field="technician_ids")
    return found


async def load_work_order(uow: UnitOfWork, work_order_id: str, *, lock: bool = False) -> WorkOrder:
    wid = parse_uuid(work_order_id, field="work_order_id")
    order = await uow.session.get(WorkOrder, wid, with_for_update=lock)
    if order is None:
        raise NotFound("no such work order", field="work_order_id")
    return order


async def create_work_order(
    *,
    sessions: Sessions,
    principal: Principal,
    request_id: str,
    project_id: str,
    title: str,
    room_name: str,
    tasks: Sequence[str],
    technician_ids: Sequence[str],
    starts_at: datetime | None,
    ends_at: datetime | None,
) -> WorkOrderView:
    """An install visit, planned by staff, with its technicians (or none yet)."""
    tenant_id = require_dispatcher(principal)
    request_id = check_request_id(request_id) or str(uuid.uuid4())
    start, end = rules.check_window(starts_at, ends_at)
    tech_ids = rules.check_technicians(technician_ids)
    async with UnitOfWork(sessions, tenant_id) as uow:
        existing = await uow.session.scalar(
            select(WorkOrder).where(WorkOrder.request_id == request_id)
        )
        if existing is not None:
            return await view_of(uow, existing)
        fact = await load_fact(uow, project_id)
        if fact is None:
            raise NotFound("no such project", field="project_id")
        technicians = await technicians_named(uow, tech_ids)
        order = WorkOrder(
            tenant_id=tenant_uuid(uow),
            request_id=request_id,
            kind=WorkOrderKind.INSTALL,
            status=WorkOrderStatus.SCHEDULED,
            project_id=fact.project_id,
            customer_id=fact.customer_id,
            title=rules.check_title(title),
            room_name=single_line(room_name, field="room_name"),
            products=[],
            tasks=rules.check_tasks(tasks),
            photo_document_ids=[],
            starts_at=start,
            ends_at=end,
            latitude=fact.latitude,
            longitude=fact.longitude,
            created_by=principal.subject,
        )
        uow.session.add(order)
        await uow.flush()
        await refuse_if_busy(uow, order, technicians)
        await hold_time(uow, order, technicians)
        await check_time_off(uow, order, technicians)
        view = await view_of(uow, order)
        publish_work_order(uow, view, created=True)
        await uow.commit()
    return view


async def update_work_order(
    *, sessions: Sessions, principal: Principal, work_order_id: str, changes: Mapping[str, Any]
) -> WorkOrderView:
    """Assign, move, re-title or advance a work order under its row lock. A
    booking's visit moves and cancels through its booking (the client is told)."""
    tenant_id = require_dispatcher(principal)
    async with UnitOfWork(sessions, tenant_id) as uow:
        order = await load_work_order(uow, work_order_id, lock=True)
        if order.booking_id is not None and {"starts_at", "ends_at"} & changes.keys():
            raise InvalidTransition(
                "this visit was booked by the client: reschedule the booking instead",
                field="starts_at",
            )
        if "title" in changes:
            order.title = rules.check_title(changes["title"])
        if "room_name" in changes:
            order.room_name = single_line(changes["room_name"], field="room_name")
        if "tasks" in changes:
            order.tasks = rules.check_tasks(changes["tasks"])
        if "starts_at" in changes or "ends_at" in changes:
            order.starts_at, order.ends_at = rules.check_window(
                changes.get("starts_at", order.starts_at), changes.get("ends_at", order.ends_at)
            )
        if "status" in changes:
            target = _status(changes["status"])
            if order.booking_id is not None and target == WorkOrderStatus.CANCELLED:
                raise InvalidTransition(
                    "this visit was booked by the client: cancel the booking instead",
                    field="status",
                )
            rules.check_work_order_move(WorkOrderStatus(order.status), target)
            order.status = target
        current = (await view_of(uow, order)).technician_ids
        ids = rules.check_technicians(changes.get("technician_ids", list(current)))
        technicians = await technicians_named(uow, ids)
        await refuse_if_busy(uow, order, technicians)
        await hold_time(uow, order, technicians)
        await check_time_off(uow, order, technicians)
        order.sequence += 1
        order.updated_at = now_utc()
        view = await view_of(uow, order)
        publish_work_order(uow, view)
        await uow.commit()
    return view


def _status(value: Any) -> WorkOrderStatus:
    try:
        return WorkOrderStatus(value)
    except ValueError:
        raise InvalidArgument("status must be a work order status", field="status") from None


async def get_work_order(
    *, sessions: Sessions, principal: Principal, work_order_id: str
) -> WorkOrderView:
    async with UnitOfWork(sessions, require_staff_reader(principal)) as uow:
        return await view_of(uow, await load_work_order(uow, work_order_id))


async def list_work_orders(
    *,
    sessions: Sessions,
    principal: Principal,
    start: datetime,
    end: datetime,
    technician_id: str = "",
    unassigned_only: bool = False,
    project_id: str = "",
    include_cancelled: bool = False,
) -> list[WorkOrderView]:
    """The dispatch calendar: work orders overlapping [start, end), soonest first."""
    tenant_id = require_staff_reader(principal)
    if end <= start:
        raise InvalidArgument("the window must end after it starts", field="to")
    query = select(WorkOrder).where(WorkOrder.starts_at < end, WorkOrder.ends_at > start)
    if not include_cancelled:
        query = query.where(WorkOrder.status != WorkOrderStatus.CANCELLED)
    if project_id:
        query = query.where(WorkOrder.project_id == parse_uuid(project_id, field="project_id"))
    assigned = select(Assignment.work_order_id)
    if technician_id:
        tid = parse_uuid(technician_id, field="technician_id")
        query = query.where(WorkOrder.id.in_(assigned.where(Assignment.technician_id == tid)))
    if unassigned_only:
        query = query.where(WorkOrder.id.not_in(assigned))
    async with UnitOfWork(sessions, tenant_id) as uow:
        orders = (await uow.session.scalars(query.order_by(WorkOrder.starts_at).limit(2000))).all()
        return [await view_of(uow, o) for o in orders]
