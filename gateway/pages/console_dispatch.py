"""The dispatch calendar in the console: a day by technician (with the visits
no one is on, the bookings waiting for confirmation and what bookings flagged
as a conflict), one technician's week, and the quick forms to plan an install
visit, assign, move, confirm, advance or cancel. Forms post, then go back to
the day they were on, saying what happened or, in bookings' words, why not
("Tom already has a visit then ..."). Bookings decides who may change the
calendar: another staff role reads it and is told so when they try."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from portal.common.v1 import common_pb2
from starlette.responses import Response

from gateway.api.bookings import dispatch_calls as calls
from gateway.api.bookings.dispatch_shapes import WorkOrder
from gateway.api.customers import customers_of
from gateway.api.projects.calls import list_projects_page
from gateway.backends import Backends, BookingsRemote, RemoteError
from gateway.deps import BackendsDep, StaffPage, bookings_remote
from gateway.pages import console_dispatch_views as views
from gateway.pages.console_projects.common import act, form_request_id
from gateway.pages.projects import not_found, page_id
from gateway.pages.rendering import Form, render, see_other, signed_in_form
from gateway.sessions import SignedIn
from services.chassis.timefmt import parse_day, zone

router = APIRouter(include_in_schema=False)
BASE = "/console/dispatch"


async def bookings_of(backends: Backends) -> BookingsRemote:
    """Bookings, or the 503 page (asked for after the form is read)."""
    return await bookings_remote(backends)


async def _zone(bookings: BookingsRemote, signed_in: SignedIn) -> str:
    return (await calls.fetch_settings(bookings, signed_in.person)).time_zone


def _today(time_zone: str) -> date:
    return datetime.now(zone(time_zone)).date()


def day_url(day: date | str, anchor: str = "") -> str:
    return f"{BASE}?day={day}" + (f"#{anchor}" if anchor else "")


async def customer_names(backends: Backends, signed_in: SignedIn) -> dict[str, str]:
    listed = await customers_of(backends, signed_in.person, include_deleted=True)
    return {c.id: c.name for c in listed}


async def _context(backends: Backends, signed_in: SignedIn) -> dict[str, Any]:
    """Who the customers are (names for the calendar) and which projects a
    new install visit can be for."""
    customers = await customer_names(backends, signed_in)
    projects = await list_projects_page(
        backends, signed_in.person, common_pb2.PageRequest(page_size=100)
    )
    return {
        "customers": customers,
        "projects": projects.projects,
    }


@router.get(BASE)
async def dispatch_day(
    request: Request, signed_in: StaffPage, backends: BackendsDep, day: str = ""
) -> Response:
    bookings = await bookings_of(backends)
    time_zone = await _zone(bookings, signed_in)
    on = parse_day(day[:10]) or _today(time_zone)
    start, end = views.day_window(on, time_zone)
    person = signed_in.person
    orders = await calls.list_work_orders(bookings, person, start=start, end=end)
    technicians = await calls.list_technicians(bookings, person, include_inactive=True)
    time_off = await calls.list_time_off(bookings, person, start=start, end=end)
    # Pending bookings and unassigned visits of the coming fortnight, wherever they fall.
    ahead = await calls.list_work_orders(
        bookings, person, start=start, end=end + timedelta(days=14)
    )
    context = await _context(backends, signed_in)
    day_view = views.calendar(
        orders, technicians, time_off, customers=context["customers"], time_zone=time_zone, day=on
    )
    soon = views.calendar(
        ahead, technicians, [], customers=context["customers"], time_zone=time_zone, day=on
    )
    return render(
        request,
        "console/dispatch.html",
        signed_in=signed_in,
        surface="console",
        day=on,
        weekday=views.WEEKDAYS[on.weekday()],
        previous=on - timedelta(days=1),
        following=on + timedelta(days=1),
        today=_today(time_zone),
        time_zone=time_zone,
        cal=day_view,
        waiting=soon.pending,
        nobody=soon.unassigned,
        technicians=[t for t in technicians if t.active],
        statuses=[(s, views.STATUS_LABELS[s]) for s in views.STATUS_CHOICES],
        request_id=str(uuid.uuid4()),
        **context,
    )


@router.get(BASE + "/technicians/{technician_id}")
async def technician_week(
    request: Request, technician_id: str, signed_in: StaffPage, backends: BackendsDep, day: str = ""
) -> Response:
    technician_id = page_id(technician_id, "technician")
    bookings = await bookings_of(backends)
    time_zone = await _zone(bookings, signed_in)
    days = views.week_of(parse_day(day[:10]) or _today(time_zone))
    start, _ = views.day_window(days[0], time_zone)
    _, end = views.day_window(days[-1], time_zone)
    person = signed_in.person
    technicians = await calls.list_technicians(bookings, person, include_inactive=True)
    tech = next((t for t in technicians if str(t.staff_user_id) == technician_id), None)
    if tech is None:
        raise not_found("technician")
    orders = await calls.list_work_orders(
        bookings, person, start=start, end=end, technician_id=tech.staff_user_id
    )
    time_off = await calls.list_time_off(
        bookings, person, start=start, end=end, technician_id=tech.staff_user_id
    )
    customers = await customer_names(backends, signed_in)
    week = views.week_by_day(
        orders, technicians, customers=customers, time_zone=time_zone, days=days
    )
    lane = views.calendar([], [tech], time_off, customers={}, time_zone=time_zone, day=days[0])
    return render(
        request,
        "console/dispatch_technician.html",
        signed_in=signed_in,
        surface="console",
        tech=tech,
        week=[(d, views.WEEKDAYS[d.weekday()], views.hours_on(tech, d), v) for d, v in week],
        time_off=lane.lanes[0].time_off if lane.lanes else [],
        previous=days[0] - timedelta(days=7),
        following=days[0] + timedelta(days=7),
        time_zone=time_zone,
    )


# -- the forms ----------------------------------------------------------------------------


def _window(form: Form, time_zone: str) -> tuple[Any, Any]:
    starts = views.wall_time(form["date"], form["start"], time_zone)
    ends = views.wall_time(form["date"], form["end"], time_zone)
    if ends <= starts:  # an evening visit that ends after midnight
        ends = views.wall_time(
            (date.fromisoformat(form["date"]) + timedelta(days=1)).isoformat(),
            form["end"],
            time_zone,
        )
    return starts, ends


def _technician_ids(form: Form) -> list[uuid.UUID]:
    ids = []
    for value in form.getlist("technician_ids"):
        try:
            ids.append(uuid.UUID(value))
        except ValueError:
            continue  # not one the form offered
    return ids


def _back(form: Form, anchor: str = "") -> str:
    day = parse_day(form["day"][:10])
    return day_url(day, anchor) if day else BASE


@router.post(BASE + "/work-orders")
async def plan_install(request: Request, signed_in: StaffPage, backends: BackendsDep) -> Response:
    form = await signed_in_form(request, signed_in)
    bookings = await bookings_of(backends)
    time_zone = await _zone(bookings, signed_in)
    back = _back(form, "plan")
    try:
        project_id = uuid.UUID(form["project_id"])
    except ValueError:
        return see_other(request, back, flash="Choose the project.", kind="error")
    try:
        starts, ends = _window(form, time_zone)
    except ValueError as exc:
        return see_other(request, back, flash=str(exc), kind="error")
    call = calls.create_work_order(
        bookings,
        signed_in.person,
        project_id,
        request_id=form_request_id(form),
        title=form["title"],
        room_name=form["room_name"],
        tasks=[t.strip() for t in form.text("tasks").splitlines() if t.strip()],
        technician_ids=_technician_ids(form),
        starts_at=starts,
        ends_at=ends,
    )
    done = f"{form['title'] or 'The visit'} is on the calendar."
    return await act(request, call, then=day_url(starts.date()), done=done)


async def _order(bookings: BookingsRemote, signed_in: SignedIn, work_order_id: str) -> WorkOrder:
    return await calls.fetch_work_order(
        bookings, signed_in.person, uuid.UUID(page_id(work_order_id, "work order"))
    )


@router.post(BASE + "/work-orders/{work_order_id}/assign")
async def assign(
    request: Request, work_order_id: str, signed_in: StaffPage, backends: BackendsDep
) -> Response:
    form = await signed_in_form(request, signed_in)
    bookings = await bookings_of(backends)
    order = await _order(bookings, signed_in, work_order_id)
    ids = _technician_ids(form)
    call = calls.change_work_order(bookings, signed_in.person, order.id, {"technician_ids": ids})
    done = "The visit is assigned." if ids else "The visit is unassigned."
    return await act(request, call, then=_back(form, f"wo-{order.id}"), done=done)


@router.post(BASE + "/work-orders/{work_order_id}/move")
async def move(
    request: Request, work_order_id: str, signed_in: StaffPage, backends: BackendsDep
) -> Response:
    """An install visit moves itself; a client's booking moves through the
    booking (its length is the service type's, and the client is emailed)."""
    form = await signed_in_form(request, signed_in)
    bookings = await bookings_of(backends)
    order = await _order(bookings, signed_in, work_order_id)
    time_zone = await _zone(bookings, signed_in)
    try:
        if order.booking_id:
            starts = views.wall_time(form["date"], form["start"], time_zone)
            call: Any = calls.reschedule_booking(
                bookings, signed_in.person, order.booking_id, starts
            )
        else:
            starts, ends = _window(form, time_zone)
            call = calls.change_work_order(
                bookings, signed_in.person, order.id, {"starts_at": starts, "ends_at": ends}
            )
    except ValueError as exc:
        return see_other(request, _back(form, f"wo-{order.id}"), flash=str(exc), kind="error")
    done = f"The visit is moved to {starts:%d %b %H:%M}."
    return await act(request, call, then=day_url(starts.date(), f"wo-{order.id}"), done=done)


@router.post(BASE + "/work-orders/{work_order_id}/status")
async def advance(
    request: Request, work_order_id: str, signed_in: StaffPage, backends: BackendsDep
) -> Response:
    form = await signed_in_form(request, signed_in)
    bookings = await bookings_of(backends)
    order = await _order(bookings, signed_in, work_order_id)
    wanted = form["status"]
    if wanted not in views.STATUS_CHOICES:
        return see_other(request, _back(form), flash="Choose a status.", kind="error")
    if wanted == "cancelled" and order.booking_id:
        call: Any = calls.cancel_booking(
            bookings, signed_in.person, order.booking_id, form.text("reason")
        )
    else:
        call = calls.change_work_order(bookings, signed_in.person, order.id, {"status": wanted})
    done = f"The visit is {views.STATUS_LABELS[wanted].lower()}."
    return await act(request, call, then=_back(form, f"wo-{order.id}"), done=done)


@router.post(BASE + "/work-orders/{work_order_id}/confirm")
async def confirm(
    request: Request, work_order_id: str, signed_in: StaffPage, backends: BackendsDep
) -> Response:
    form = await signed_in_form(request, signed_in)
    bookings = await bookings_of(backends)
    order = await _order(bookings, signed_in, work_order_id)
    if not order.booking_id:
        return see_other(request, _back(form), flash="Only a client's booking waits.", kind="error")
    call = calls.confirm_booking(bookings, signed_in.person, order.booking_id)
    done = "The booking is confirmed."
    return await act(request, call, then=_back(form, f"wo-{order.id}"), done=done)


async def visits_of_customer(backends: Backends, signed_in: SignedIn, customer_id: str) -> Any:
    """The customer page's "Visits": their service-call history, or why it
    cannot be shown (bookings not configured or down) without failing the page."""
    if backends.bookings is None:
        return None, "Visits are not available on this portal yet."
    try:
        page = await calls.customer_bookings(
            backends.bookings,
            signed_in.person,
            uuid.UUID(customer_id),
            common_pb2.PageRequest(page_size=50),
        )
    except (RemoteError, ValueError):
        return None, "Visits cannot be shown just now; try again shortly."
    return [(b, _local_day(b.starts_at, b.time_zone)) for b in page.bookings], None


def _local_day(moment: Any, time_zone: str) -> str:
    return moment.astimezone(zone(time_zone)).date().isoformat() if moment else ""
