"""Changing a visit from "My visits": move it to another free time, cancel
it, download its .ics. Before the cut-offs bookings allows it; after them
the page explains and offers the contact button (bookings' `past_cutoff`,
with the contact the API's problem carries)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from gateway.api.bookings import calendar_response, calls
from gateway.api.bookings.shapes import Booking, PastCutoffProblem, SlotList, SlotTakenProblem
from gateway.api.projects import fetch_project
from gateway.backends import Backends, BookingsRemote, RemoteError
from gateway.deps import BackendsDep, BookingsDep, ClientPage, TenantDep
from gateway.pages.forms import refusal, signed_in_form
from gateway.pages.projects import page_id, portal_of
from gateway.pages.rendering import render, see_other
from gateway.pages.visits import SHOWN_DAYS, day_chosen, days_of, parse_start, why_not_booking
from gateway.problems import ProblemError
from gateway.sessions import SignedIn
from gateway.tenancy import Tenant
from services.chassis.timefmt import format_datetime

router = APIRouter(include_in_schema=False)


async def _contact(
    backends: Backends, signed_in: SignedIn, tenant: Tenant, booking: Booking
) -> calls.Contact | None:
    project = await fetch_project(backends, portal_of(signed_in), booking.project_id)
    return calls.contact_for(project, tenant, signed_in.session.full_name)


async def _reschedule_page(
    request: Request,
    signed_in: SignedIn,
    backends: Backends,
    bookings: BookingsRemote,
    tenant: Tenant,
    booking: Booking,
    *,
    day: str = "",
    error: str | None = None,
    fresh: SlotList | None = None,
    status: int = 200,
) -> Response:
    principal = portal_of(signed_in)
    slots = fresh
    if slots is None and booking.can_reschedule:
        slots = await calls.fetch_slots(
            bookings,
            principal,
            service_type_id=booking.service_type_id,
            project_id=booking.project_id,
            days=SHOWN_DAYS,
            booking_id=booking.id,
        )
    days = days_of(slots) if slots else []
    contact = (
        None if booking.can_reschedule else await _contact(backends, signed_in, tenant, booking)
    )
    return render(
        request,
        "visit_move.html",
        signed_in=signed_in,
        surface="portal",
        status=status,
        booking=booking,
        days=days,
        day=day_chosen(days, day),
        time_zone=slots.time_zone if slots else booking.time_zone,
        error=error,
        contact=contact,
        blocked=why_not_booking(signed_in),
    )


@router.get("/visits/{booking_id}/move")
async def move_page(
    request: Request,
    booking_id: str,
    signed_in: ClientPage,
    backends: BackendsDep,
    bookings: BookingsDep,
    tenant: TenantDep,
    day: str = "",
) -> Response:
    booking = await calls.fetch_booking(
        bookings, portal_of(signed_in), page_id(booking_id, "visit")
    )
    return await _reschedule_page(request, signed_in, backends, bookings, tenant, booking, day=day)


@router.post("/visits/{booking_id}/move")
async def move(
    request: Request,
    booking_id: str,
    signed_in: ClientPage,
    backends: BackendsDep,
    bookings: BookingsDep,
    tenant: TenantDep,
) -> Response:
    form = await signed_in_form(request, signed_in)
    principal = portal_of(signed_in)
    booking_id = page_id(booking_id, "visit")
    starts_at = parse_start(form.get("starts_at"))
    try:
        if starts_at is None:
            booking = await calls.fetch_booking(bookings, principal, booking_id)
            return await _reschedule_page(
                request,
                signed_in,
                backends,
                bookings,
                tenant,
                booking,
                day=form.get("day"),
                error="Choose a new time for the visit.",
                status=422,
            )
        moved = await calls.reschedule(backends, bookings, principal, tenant, booking_id, starts_at)
    except ProblemError as exc:
        problem = exc.problem
        if not isinstance(problem, SlotTakenProblem | PastCutoffProblem):
            raise
        booking = await calls.fetch_booking(bookings, principal, booking_id)
        fresh = (
            SlotList(time_zone=problem.time_zone, slots=problem.slots)
            if isinstance(problem, SlotTakenProblem)
            else None
        )
        return await _reschedule_page(
            request,
            signed_in,
            backends,
            bookings,
            tenant,
            booking,
            day=form.get("day"),
            error=problem.detail,
            fresh=fresh,
            status=409,
        )
    except RemoteError as exc:
        refused = refusal(exc)
        booking = await calls.fetch_booking(bookings, principal, booking_id)
        return await _reschedule_page(
            request,
            signed_in,
            backends,
            bookings,
            tenant,
            booking,
            error=refused.message,
            status=refused.status,
        )
    when = format_datetime(moved.starts_at, moved.time_zone or tenant.time_zone)
    return see_other(request, f"/visits#visit-{moved.id}", flash=f"Moved to {when}.")


@router.post("/visits/{booking_id}/cancel")
async def cancel(
    request: Request,
    booking_id: str,
    signed_in: ClientPage,
    backends: BackendsDep,
    bookings: BookingsDep,
    tenant: TenantDep,
) -> Response:
    form = await signed_in_form(request, signed_in)
    principal = portal_of(signed_in)
    booking_id = page_id(booking_id, "visit")
    try:
        await calls.cancel(backends, bookings, principal, tenant, booking_id, form.text("reason"))
    except ProblemError as exc:
        if not isinstance(exc.problem, PastCutoffProblem):
            raise
        booking = await calls.fetch_booking(bookings, principal, booking_id)
        return render(
            request,
            "visit_cutoff.html",
            signed_in=signed_in,
            surface="portal",
            status=409,
            booking=booking,
            detail=exc.problem.detail,
            contact=exc.problem.contact,
        )
    except RemoteError as exc:
        refused = refusal(exc)
        return see_other(request, "/visits", flash=refused.message, kind="error")
    return see_other(request, "/visits", flash="Your visit is cancelled; the time is free again.")


@router.get("/visits/{booking_id}/calendar.ics")
async def calendar(booking_id: str, signed_in: ClientPage, bookings: BookingsDep) -> Response:
    ics, filename = await calls.booking_calendar(
        bookings, portal_of(signed_in), page_id(booking_id, "visit")
    )
    return calendar_response(ics, filename)
