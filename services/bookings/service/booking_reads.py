"""Reading bookings: one booking as the caller may see it (with what they may
still change), the list of a customer's visits, a booking's .ics."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import case, select

from services.bookings import domain_bookings as rules
from services.bookings.domain_bookings import BookingStatus
from services.bookings.models import Assignment, Booking, ProjectFact, Technician, WorkOrder
from services.bookings.service.calendars import booking_ics
from services.bookings.service.common import (
    Sessions,
    load_booking,
    load_service_type,
    now_utc,
    spec_of,
)
from services.bookings.service.messages import BookingView
from services.chassis.access import require_open_portal
from services.chassis.audience import project_visible
from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.validation import parse_uuid


async def booking_view(uow: UnitOfWork, principal: Principal, booking: Booking) -> BookingView:
    order = await uow.session.get(WorkOrder, booking.work_order_id)
    assert order is not None  # a booking is made with its work order
    tech = await uow.session.scalar(
        select(Technician)
        .join(Assignment, Assignment.technician_id == Technician.staff_user_id)
        .where(Assignment.work_order_id == order.id)
    )
    fact = await uow.session.get(ProjectFact, booking.project_id)
    stype_row = await load_service_type(uow, str(booking.service_type_id), for_client=False)
    spec = spec_of(stype_row)
    now = now_utc()
    open_ = booking.status != BookingStatus.CANCELLED and booking.starts_at > now
    by_client = principal.is_client

    def allowed(action: str, cutoff: int) -> bool:
        if not open_:
            return False
        return not by_client or rules.may_still(
            action, starts_at=booking.starts_at, now=now, cutoff=timedelta(minutes=cutoff)
        )

    return BookingView(
        booking,
        order,
        tech,
        fact.name if fact else "",
        can_reschedule=allowed("rescheduled", spec.reschedule_cutoff_minutes),
        can_cancel=allowed("cancelled", spec.cancel_cutoff_minutes),
    )


async def get_booking(*, sessions: Sessions, principal: Principal, booking_id: str) -> BookingView:
    async with UnitOfWork(sessions, principal.require_reader()) as uow:
        await require_open_portal(uow, principal)
        return await booking_view(uow, principal, await load_booking(uow, principal, booking_id))


async def booking_calendar(
    *, sessions: Sessions, principal: Principal, booking_id: str
) -> tuple[bytes, str]:
    view = await get_booking(sessions=sessions, principal=principal, booking_id=booking_id)
    return booking_ics(view), f"visit-{view.booking.starts_at:%Y-%m-%d}.ics"


async def list_bookings(
    *,
    sessions: Sessions,
    principal: Principal,
    customer_id: str = "",
    project_id: str = "",
    include_cancelled: bool = False,
    page_size: int = 0,
    page_token: str = "",
) -> tuple[list[BookingView], str]:
    """Upcoming first (soonest), then past (newest first). A client sees their
    customer's visits on projects that are for them, archived or not; a
    deleted customer's contacts nothing (the portal is closed)."""
    size = min(max(page_size or 50, 1), 200)
    offset = int(page_token) if page_token.isdigit() else 0
    now = now_utc()
    query = select(Booking)
    if principal.is_client:
        customer = parse_uuid(principal.customer_id or "", field="customer_id")
        query = query.where(
            Booking.customer_id == customer, project_visible(principal, Booking.project_id)
        )
    elif customer_id:
        query = query.where(Booking.customer_id == parse_uuid(customer_id, field="customer_id"))
    if project_id:
        query = query.where(Booking.project_id == parse_uuid(project_id, field="project_id"))
    if not include_cancelled:
        query = query.where(Booking.status != BookingStatus.CANCELLED)
    upcoming = Booking.ends_at > now
    query = query.order_by(
        case((upcoming, 0), else_=1),
        case((upcoming, Booking.starts_at)),
        Booking.starts_at.desc(),
        Booking.id,
    )
    async with UnitOfWork(sessions, principal.require_reader()) as uow:
        await require_open_portal(uow, principal)
        rows = (await uow.session.scalars(query.offset(offset).limit(size + 1))).all()
        views = [await booking_view(uow, principal, b) for b in rows[:size]]
    return views, str(offset + size) if len(rows) > size else ""
