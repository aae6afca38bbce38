"""Client bookings: book, reschedule, cancel, confirm, read. One transaction
each: the booking, its service work order and the technician's time change
together, with their events (each carrying the change's .ics)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from portal.bookings.v1 import events_pb2
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.bookings import domain_bookings as rules
from services.bookings import domain_calendar as cal
from services.bookings.domain_bookings import BookingStatus, WorkOrderKind
from services.bookings.models import Assignment, Booking, Technician, WorkOrder
from services.bookings.projects_client import Room
from services.bookings.service.availability import (
    check_may_book,
    free_technicians,
    take_technician,
)
from services.bookings.service.booking_reads import booking_view
from services.bookings.service.calendars import booking_ics, technician_ics
from services.bookings.service.common import (
    Sessions,
    load_booking,
    load_service_type,
    load_settings,
    now_utc,
    site_of,
    spec_of,
    tenant_uuid,
)
from services.bookings.service.messages import BookingView, booking_pb, ts
from services.bookings.service.work_orders import hold_time, publish_work_order, view_of
from services.chassis.access import require_open_portal
from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.errors import Conflict, InvalidArgument
from services.chassis.idempotency import fingerprint, refuse_reuse
from services.chassis.validation import check_request_id, multiline_text, parse_uuid


class Projects(Protocol):
    async def site_address(self, principal: Principal, project_id: str) -> str: ...
    async def rooms(self, principal: Principal, project_id: str) -> list[Room]: ...


def _booker(principal: Principal, action: str) -> str:
    if principal.is_client:
        return principal.require_approver(action)
    return principal.require_editor("project_manager")


async def _publish(
    uow: UnitOfWork, view: BookingView, event_type, *, left: Technician | None = None, **extra
) -> None:
    """The booking's event with the .ics of this change (its sequence already
    up): the client's copy, and the technician's as their feed holds it; `left`,
    a technician the visit moved away from, gets theirs cancelled."""
    zone = (await load_settings(uow)).time_zone
    tech, order = view.technician, view.work_order
    if left is not None:
        extra |= {
            "previous_technician_email": left.email,
            "previous_technician_name": left.full_name,
            "previous_technician_ics": technician_ics(
                order, view.project_name, zone, cancelled=True
            ),
        }
    uow.publish(
        event_type(
            booking=booking_pb(view),
            ics=booking_ics(view),
            technician_email=tech.email if tech else "",
            technician_name=tech.full_name if tech else "",
            technician_ics=technician_ics(order, view.project_name, zone) if tech else b"",
            **extra,
        ),
        aggregate_type="booking",
        aggregate_id=str(view.booking.id),
    )


def pick_products(
    rooms: Sequence[Room], room_id: str, line_ids: Sequence[str]
) -> tuple[str, list[dict]]:
    """The room and products as the caller sees them in projects; anything
    else is refused like an id that does not exist."""
    if not room_id:
        return "", []
    room = next((r for r in rooms if r.room_id == room_id), None)
    if room is None:
        raise InvalidArgument("no such room in this project", field="room_id")
    by_id = {p.line_id: p for p in room.products}
    missing = [x for x in line_ids if x not in by_id]
    if missing:
        raise InvalidArgument("no such product in this room", field="product_line_ids")
    return room.name, [
        {"line_id": x, "manufacturer": by_id[x].manufacturer, "model": by_id[x].model}
        for x in line_ids
    ]


async def book_visit(
    *,
    sessions: Sessions,
    projects: Projects,
    principal: Principal,
    request_id: str,
    project_id: str,
    service_type_id: str,
    starts_at: datetime | None,
    room_id: str,
    product_line_ids: Sequence[str],
    description: str,
    photo_document_ids: Sequence[str],
) -> BookingView:
    tenant_id = _booker(principal, "book a visit")
    request_id = check_request_id(request_id) or str(uuid.uuid4())
    visit = rules.check_visit_request(
        room_id=room_id,
        product_line_ids=product_line_ids,
        description=description,
        photos=photo_document_ids,
    )
    if starts_at is None:
        raise InvalidArgument("pick a time", field="starts_at")
    parse_uuid(project_id, field="project_id")
    sha = fingerprint(
        "book_visit", project=project_id, type=service_type_id, start=starts_at, **vars(visit)
    )
    async with UnitOfWork(sessions, tenant_id) as uow:
        if (found := await _retry(uow, principal, request_id, sha)) is not None:
            return found
        taken = await _already_taken(uow, principal, project_id, service_type_id, starts_at)
    if taken:
        if visit.room_id:  # a room not theirs is told first; the address is not needed
            pick_products(
                await projects.rooms(principal, project_id),
                visit.room_id,
                visit.product_line_ids,
            )
        raise rules.SlotTaken()
    # Projects decides what this caller may see of the project: asked first, outside the tx.
    address, rooms = await asyncio.gather(
        projects.site_address(principal, project_id),
        projects.rooms(principal, project_id) if visit.room_id else _no_rooms(),
    )
    room_name, products = pick_products(rooms, visit.room_id, visit.product_line_ids)
    async with UnitOfWork(sessions, tenant_id) as uow:
        stype = await load_service_type(uow, service_type_id, for_client=principal.is_client)
        fact = await check_may_book(uow, principal, project_id, stype)
        settings = await load_settings(uow)
        spec = spec_of(stype)
        slot_rules = cal.rules_of(spec, for_client=principal.is_client)
        technician = await take_technician(
            uow, rules=slot_rules, settings=settings, start=starts_at, site=site_of(fact)
        )
        status = rules.status_after_booking(spec.requires_confirmation)
        order = WorkOrder(
            tenant_id=tenant_uuid(uow),
            request_id=f"booking:{request_id}",
            kind=WorkOrderKind.SERVICE,
            status=rules.work_order_status_for(status),
            project_id=fact.project_id,
            customer_id=fact.customer_id,
            title=stype.name,
            room_id=visit.room_id,
            room_name=room_name,
            products=products,
            tasks=[],
            description=visit.description,
            site_address=address,
            photo_document_ids=list(visit.photo_document_ids),
            starts_at=starts_at,
            ends_at=starts_at + slot_rules.duration,
            buffer_before_minutes=spec.buffer_before_minutes,
            buffer_after_minutes=spec.buffer_after_minutes,
            latitude=fact.latitude,
            longitude=fact.longitude,
            created_by=principal.subject,
        )
        uow.session.add(order)
        await _flush_or_conflict(uow)
        booking = Booking(
            tenant_id=order.tenant_id,
            request_id=request_id,
            request_sha256=sha,
            customer_id=fact.customer_id,
            project_id=fact.project_id,
            service_type_id=stype.id,
            service_type_name=stype.name,
            status=status,
            starts_at=order.starts_at,
            ends_at=order.ends_at,
            time_zone=settings.time_zone,
            work_order_id=order.id,
            booked_by=principal.subject,
        )
        uow.session.add(booking)
        await _flush_or_conflict(uow)
        order.booking_id = booking.id
        tech = await uow.session.get(Technician, uuid.UUID(technician))
        assert tech is not None  # locked by take_technician
        await hold_time(uow, order, [tech])
        view = await booking_view(uow, principal, booking)
        await _publish(uow, view, events_pb2.BookingRequested)
        publish_work_order(uow, await view_of(uow, order), created=True)
        await uow.commit()
    return view


async def _already_taken(
    uow: UnitOfWork, principal: Principal, project_id: str, service_type_id: str, start: datetime
) -> bool:
    """Before asking projects and locking anyone: is nobody qualified free at
    that start by the committed calendars? Then it is SlotTaken without a
    lock (a race's losers stop here once the winner has committed, instead of
    each taking its turn on the technicians' rows). Somebody free is no
    promise: take_technician decides under the lock."""
    stype = await load_service_type(uow, service_type_id, for_client=principal.is_client)
    fact = await check_may_book(uow, principal, project_id, stype)
    slot_rules = cal.rules_of(spec_of(stype), for_client=principal.is_client)
    settings = await load_settings(uow)
    free = await free_technicians(
        uow, rules=slot_rules, settings=settings, start=start, site=site_of(fact)
    )
    return not free


async def _no_rooms() -> list[Room]:
    return []


async def _flush_or_conflict(uow: UnitOfWork) -> None:
    try:
        await uow.flush()
    except IntegrityError:
        # The same request id, sent twice at once: the other one is making it.
        raise Conflict("this booking is already being made; refresh in a moment") from None


async def _retry(
    uow: UnitOfWork, principal: Principal, request_id: str, sha: str
) -> BookingView | None:
    existing = await uow.session.scalar(select(Booking).where(Booking.request_id == request_id))
    if existing is None:
        return None
    refuse_reuse(stored=existing.request_sha256, given=sha)
    return await booking_view(uow, principal, await load_booking(uow, principal, str(existing.id)))


async def _change(
    uow: UnitOfWork, principal: Principal, booking_id: str, action: str
) -> tuple[Booking, WorkOrder, cal.ServiceTypeSpec]:
    await require_open_portal(uow, principal, write=True)
    booking = await load_booking(uow, principal, booking_id, lock=True)
    rules.check_open(BookingStatus(booking.status), action)
    order = await uow.session.get(WorkOrder, booking.work_order_id, with_for_update=True)
    assert order is not None
    stype = await load_service_type(uow, str(booking.service_type_id), for_client=False)
    return booking, order, spec_of(stype)


async def _current_technician(uow: UnitOfWork, order: WorkOrder) -> str | None:
    tid = await uow.session.scalar(
        select(Assignment.technician_id).where(Assignment.work_order_id == order.id)
    )
    return str(tid) if tid else None


async def reschedule_booking(
    *, sessions: Sessions, principal: Principal, booking_id: str, starts_at: datetime | None
) -> BookingView:
    """Before the cut-off (clients), to a time a technician is free; the same
    technician when they are free then."""
    tenant_id = _booker(principal, "reschedule a visit")
    if starts_at is None:
        raise InvalidArgument("pick a time", field="starts_at")
    async with UnitOfWork(sessions, tenant_id) as uow:
        booking, order, spec = await _change(uow, principal, booking_id, "rescheduled")
        rules.check_cutoff(
            "rescheduled",
            starts_at=booking.starts_at,
            now=now_utc(),
            cutoff=timedelta(minutes=spec.reschedule_cutoff_minutes),
            by_client=principal.is_client,
        )
        settings = await load_settings(uow)
        slot_rules = cal.rules_of(spec, for_client=principal.is_client)
        previous_start, previous_tech = booking.starts_at, await _current_technician(uow, order)
        technician = await take_technician(
            uow,
            rules=slot_rules,
            settings=settings,
            start=starts_at,
            site=site_of(order),
            keep=previous_tech,
            ignore_work_order=str(order.id),
        )
        booking.status = rules.status_after_reschedule(
            BookingStatus(booking.status),
            requires_confirmation=spec.requires_confirmation,
            by_client=principal.is_client,
        )
        booking.starts_at = order.starts_at = starts_at
        booking.ends_at = order.ends_at = starts_at + slot_rules.duration
        order.status = rules.work_order_status_for(BookingStatus(booking.status))
        tech = await uow.session.get(Technician, uuid.UUID(technician))
        assert tech is not None
        await hold_time(uow, order, [tech])
        view = await _bump(uow, principal, booking, order)
        left = None
        if previous_tech and previous_tech != technician:
            left = await uow.session.get(Technician, uuid.UUID(previous_tech))
        await _publish(
            uow,
            view,
            events_pb2.BookingRescheduled,
            left=left,
            previous_starts_at=ts(previous_start),
            previous_technician_id=previous_tech or "",
        )
        publish_work_order(uow, await view_of(uow, order))
        await uow.commit()
    return view


async def _bump(
    uow: UnitOfWork, principal: Principal, booking: Booking, order: WorkOrder
) -> BookingView:
    """Every change is a new SEQUENCE for both calendars."""
    now = now_utc()
    booking.sequence += 1
    order.sequence += 1
    booking.updated_at = order.updated_at = now
    await uow.flush()
    return await booking_view(uow, principal, booking)


async def cancel_booking(
    *, sessions: Sessions, principal: Principal, booking_id: str, reason: str
) -> BookingView:
    tenant_id = _booker(principal, "cancel a visit")
    why = multiline_text(reason, field="reason", max_len=1000)
    async with UnitOfWork(sessions, tenant_id) as uow:
        booking, order, spec = await _change(uow, principal, booking_id, "cancelled")
        now = now_utc()
        rules.check_cutoff(
            "cancelled",
            starts_at=booking.starts_at,
            now=now,
            cutoff=timedelta(minutes=spec.cancel_cutoff_minutes),
            by_client=principal.is_client,
        )
        booking.status, booking.cancelled_at, booking.cancel_reason = (
            BookingStatus.CANCELLED,
            now,
            why,
        )
        order.status = rules.WorkOrderStatus.CANCELLED
        await _release(uow, order)
        view = await _bump(uow, principal, booking, order)
        await _publish(uow, view, events_pb2.BookingCancelled, cancelled_by=principal.subject)
        publish_work_order(uow, await view_of(uow, order))
        await uow.commit()
    return view


async def _release(uow: UnitOfWork, order: WorkOrder) -> None:
    """The technician's time is free again (the assignment row stays, inactive, as history)."""
    for a in await uow.session.scalars(
        select(Assignment).where(Assignment.work_order_id == order.id)
    ):
        a.active = False


async def confirm_booking(
    *, sessions: Sessions, principal: Principal, booking_id: str
) -> BookingView:
    tenant_id = principal.require_editor("project_manager")
    async with UnitOfWork(sessions, tenant_id) as uow:
        booking, order, _ = await _change(uow, principal, booking_id, "confirmed")
        rules.check_confirm(BookingStatus(booking.status))
        booking.status = BookingStatus.CONFIRMED
        order.status = rules.work_order_status_for(BookingStatus.CONFIRMED)
        view = await _bump(uow, principal, booking, order)
        await _publish(uow, view, events_pb2.BookingConfirmed)
        publish_work_order(uow, await view_of(uow, order))
        await uow.commit()
    return view
