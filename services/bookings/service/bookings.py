"""Client bookings: reschedule, cancel, confirm (booking one: book_visit.py).
One transaction each: the booking, its service work order and the
technician's time change together, with their events (each carrying the
change's .ics)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from portal.bookings.v1 import events_pb2
from sqlalchemy import select

from services.bookings import domain_bookings as rules
from services.bookings import domain_calendar as cal
from services.bookings.domain_bookings import BookingStatus
from services.bookings.models import (
    Assignment,
    Booking,
    Technician,
    WorkOrder,
)
from services.bookings.service.availability import (
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
)
from services.bookings.service.messages import BookingView, booking_pb, ts
from services.bookings.service.work_orders import hold_time, publish_work_order, view_of
from services.chassis.access import require_open_portal
from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.errors import InvalidArgument
from services.chassis.validation import (
    multiline_text,
)


def booker(principal: Principal, action: str) -> str:
    if principal.is_client:
        return principal.require_approver(action)
    return principal.require_editor("project_manager")


async def publish_booking(
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
    tenant_id = booker(principal, "reschedule a visit")
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
        await publish_booking(
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
    tenant_id = booker(principal, "cancel a visit")
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
        await publish_booking(
            uow, view, events_pb2.BookingCancelled, cancelled_by=principal.subject
        )
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
        await publish_booking(uow, view, events_pb2.BookingConfirmed)
        publish_work_order(uow, await view_of(uow, order))
        await uow.commit()
    return view
