"""What the dispatch calendar is made of, in the console: technicians (skills,
home base, weekly hours, time off, their calendar feed URL) and the service
types clients book (duration, skills, buffers, notice, horizon, cut-offs,
confirmation, who may book), with the booking settings. Bookings checks every
value and decides who may change them; a refusal comes back as the flash.
A new feed URL is a secret shown once, in the POST's own answer."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from gateway.api.bookings import dispatch_calls as calls
from gateway.api.bookings.dispatch_shapes import SERVICE_TYPE_FIELDS, ServiceTypeFields
from gateway.backends import RemoteError
from gateway.deps import BackendsDep, StaffPage
from gateway.pages import console_dispatch_views as views
from gateway.pages.console_dispatch import bookings_of
from gateway.pages.console_projects.common import act, form_request_id
from gateway.pages.projects import page_id
from gateway.pages.rendering import Form, refusal, render, see_other, signed_in_form
from gateway.sessions import SignedIn
from services.chassis.timefmt import zone, zone_choices

router = APIRouter(include_in_schema=False)
TECHNICIANS = "/console/technicians"
SERVICE_TYPES = "/console/service-types"


# -- technicians ------------------------------------------------------------------------------


async def _technicians_page(
    request: Request, signed_in: SignedIn, backends: Any, *, feed: dict[str, str] | None = None
) -> Response:
    bookings = await bookings_of(backends)
    person = signed_in.person
    time_zone = (await calls.fetch_settings(bookings, person)).time_zone
    now = datetime.now(zone(time_zone))
    technicians = await calls.list_technicians(bookings, person)
    off = await calls.list_time_off(bookings, person, start=now, end=now + timedelta(days=180))
    return render(
        request,
        "console/technicians.html",
        signed_in=signed_in,
        surface="console",
        technicians=technicians,
        hours={t.staff_user_id: views.hours_text(t) for t in technicians},
        time_off={
            t.staff_user_id: [o for o in off if o.technician_id == t.staff_user_id]
            for t in technicians
        },
        weekdays=list(enumerate(views.WEEKDAYS, start=1)),
        time_zone=time_zone,
        today=now.date(),
        feed=feed,
        request_id=str(uuid.uuid4()),
    )


@router.get(TECHNICIANS)
async def technicians_page(
    request: Request, signed_in: StaffPage, backends: BackendsDep
) -> Response:
    return await _technicians_page(request, signed_in, backends)


def _technician_changes(form: Form) -> dict[str, Any]:
    """The technician form as TechnicianChange's fields; ValueError with a sentence."""
    hours: list[tuple[int, str, str]] = []
    for weekday in range(1, 8):
        hours += views.parse_hours(form[f"hours_{weekday}"], weekday)
    changes: dict[str, Any] = {
        "skills": [s.strip() for s in form["skills"].split(",") if s.strip()],
        "home_base": form["home_base"],
        "working_hours": [{"weekday": d, "start": s, "end": e} for d, s, e in hours],
    }
    lat, lon = form["latitude"], form["longitude"]
    if lat or lon:
        try:
            changes["home"] = {"latitude": float(lat), "longitude": float(lon)}
        except ValueError:
            raise ValueError(
                "Give the home base's latitude and longitude as numbers, like 51.5072 and -0.1276."
            ) from None
    else:
        changes["home"] = None
    return changes


def _technician_id(value: str) -> uuid.UUID:
    return uuid.UUID(page_id(value, "technician"))


@router.post(TECHNICIANS + "/{technician_id}")
async def change_technician(
    request: Request, technician_id: str, signed_in: StaffPage, backends: BackendsDep
) -> Response:
    form = await signed_in_form(request, signed_in)
    tid = _technician_id(technician_id)
    bookings = await bookings_of(backends)
    back = f"{TECHNICIANS}#tech-{tid}"
    try:
        changes = _technician_changes(form)
    except ValueError as exc:
        return see_other(request, back, flash=str(exc), kind="error")
    call = calls.change_technician(bookings, signed_in.person, tid, changes)
    return await act(request, call, then=back, done="The technician is saved.")


@router.post(TECHNICIANS + "/{technician_id}/time-off")
async def add_time_off(
    request: Request, technician_id: str, signed_in: StaffPage, backends: BackendsDep
) -> Response:
    form = await signed_in_form(request, signed_in)
    tid = _technician_id(technician_id)
    bookings = await bookings_of(backends)
    back = f"{TECHNICIANS}#tech-{tid}"
    time_zone = (await calls.fetch_settings(bookings, signed_in.person)).time_zone
    try:
        starts = views.wall_time(form["from_date"], form["from_time"] or "00:00", time_zone)
        ends = views.wall_time(
            form["to_date"] or form["from_date"], form["to_time"] or "23:59", time_zone
        )
    except ValueError as exc:
        return see_other(request, back, flash=str(exc), kind="error")
    try:
        added = await calls.add_time_off(
            bookings,
            signed_in.person,
            tid,
            request_id=form_request_id(form),
            starts_at=starts,
            ends_at=ends,
            reason=form["reason"],
        )
    except RemoteError as exc:
        return see_other(request, back, flash=refusal(exc).message, kind="error")
    flagged = len(added.conflicting_work_order_ids)
    done = "The time off is added."
    if flagged == 1:
        done += " 1 visit inside it is flagged on the calendar: reassign or move it."
    elif flagged:
        done += f" {flagged} visits inside it are flagged on the calendar: reassign or move them."
    return see_other(request, back, flash=done, kind="info" if flagged else "success")


@router.post(TECHNICIANS + "/{technician_id}/time-off/{time_off_id}/remove")
async def remove_time_off(
    request: Request,
    technician_id: str,
    time_off_id: str,
    signed_in: StaffPage,
    backends: BackendsDep,
) -> Response:
    await signed_in_form(request, signed_in)
    tid = _technician_id(technician_id)
    bookings = await bookings_of(backends)
    call = calls.remove_time_off(
        bookings, signed_in.person, uuid.UUID(page_id(time_off_id, "time off"))
    )
    return await act(
        request, call, then=f"{TECHNICIANS}#tech-{tid}", done="The time off is removed."
    )


@router.post(TECHNICIANS + "/{technician_id}/feed")
async def issue_feed(
    request: Request, technician_id: str, signed_in: StaffPage, backends: BackendsDep
) -> Response:
    await signed_in_form(request, signed_in)
    tid = _technician_id(technician_id)
    bookings = await bookings_of(backends)
    try:
        token = await calls.issue_feed_token(bookings, signed_in.person, tid)
    except RemoteError as exc:
        return see_other(
            request, f"{TECHNICIANS}#tech-{tid}", flash=refusal(exc).message, kind="error"
        )
    url = calls.feed_url(str(request.base_url), token)
    return await _technicians_page(
        request, signed_in, backends, feed={"technician_id": str(tid), "url": url}
    )


@router.post(TECHNICIANS + "/{technician_id}/feed/revoke")
async def revoke_feed(
    request: Request, technician_id: str, signed_in: StaffPage, backends: BackendsDep
) -> Response:
    await signed_in_form(request, signed_in)
    tid = _technician_id(technician_id)
    bookings = await bookings_of(backends)
    call = calls.revoke_feed_token(bookings, signed_in.person, tid)
    done = "The feed URL is revoked: calendars subscribed to it stop updating."
    return await act(request, call, then=f"{TECHNICIANS}#tech-{tid}", done=done)


# -- service types and settings ------------------------------------------------------------------

# Form fields in hours, sent in minutes: people think of notice and cut-offs in hours.
HOURS_FIELDS = {
    "min_notice_hours": "min_notice_minutes",
    "cancel_cutoff_hours": "cancel_cutoff_minutes",
    "reschedule_cutoff_hours": "reschedule_cutoff_minutes",
}
MINUTES_FIELDS = (
    "duration_minutes",
    "step_minutes",
    "buffer_before_minutes",
    "buffer_after_minutes",
)
FLAGS = ("requires_confirmation", "allow_service_contract", "allow_after_handover", "active")


def _service_type_values(form: Form) -> dict[str, Any]:
    """Every field of the service type form; ValueError with a sentence."""
    values: dict[str, Any] = {
        "name": form["name"],
        "description": form.text("description"),
        "skills": [s.strip() for s in form["skills"].split(",") if s.strip()],
        "horizon_days": form.whole_number("horizon_days", default=30, what="horizon"),
    }
    for name in MINUTES_FIELDS:
        values[name] = form.whole_number(name, default=0, what=name.replace("_", " "))
    for name, minutes in HOURS_FIELDS.items():
        values[minutes] = form.whole_number(name, default=0, what=name.replace("_", " ")) * 60
    for name in FLAGS:
        values[name] = form.has(name)
    if not values["name"]:
        raise ValueError("Give the service type a name, like Projector check.")
    return values


@router.get(SERVICE_TYPES)
async def service_types_page(
    request: Request, signed_in: StaffPage, backends: BackendsDep
) -> Response:
    bookings = await bookings_of(backends)
    settings = await calls.fetch_settings(bookings, signed_in.person)
    types = await calls.list_service_types(bookings, signed_in.person)
    return render(
        request,
        "console/service_types.html",
        signed_in=signed_in,
        surface="console",
        service_types=types,
        settings=settings,
        zones=zone_choices(),
        request_id=str(uuid.uuid4()),
    )


@router.post(SERVICE_TYPES)
async def create_service_type(
    request: Request, signed_in: StaffPage, backends: BackendsDep
) -> Response:
    form = await signed_in_form(request, signed_in)
    bookings = await bookings_of(backends)
    try:
        body = ServiceTypeFields(**_service_type_values(form))
    except ValueError as exc:
        return see_other(request, f"{SERVICE_TYPES}#new", flash=_said(exc), kind="error")
    call = calls.create_service_type(
        bookings, signed_in.person, body, request_id=form_request_id(form)
    )
    return await act(request, call, then=SERVICE_TYPES, done=f"{body.name} can be booked.")


@router.post(SERVICE_TYPES + "/{service_type_id}")
async def change_service_type(
    request: Request, service_type_id: str, signed_in: StaffPage, backends: BackendsDep
) -> Response:
    form = await signed_in_form(request, signed_in)
    sid = uuid.UUID(page_id(service_type_id, "service type"))
    bookings = await bookings_of(backends)
    back = f"{SERVICE_TYPES}#type-{sid}"
    try:
        values = _service_type_values(form)
    except ValueError as exc:
        return see_other(request, back, flash=_said(exc), kind="error")
    changes = {name: values[name] for name in SERVICE_TYPE_FIELDS}  # the whole form, as its mask
    call = calls.change_service_type(bookings, signed_in.person, sid, changes)
    return await act(request, call, then=back, done=f"{values['name']} is saved.")


@router.post("/console/booking-settings")
async def change_booking_settings(
    request: Request, signed_in: StaffPage, backends: BackendsDep
) -> Response:
    form = await signed_in_form(request, signed_in)
    bookings = await bookings_of(backends)
    try:
        travel = form.whole_number("default_travel_minutes", default=30, what="travel time")
    except ValueError as exc:
        return see_other(request, f"{SERVICE_TYPES}#settings", flash=str(exc), kind="error")
    changes = {"time_zone": form["time_zone"], "default_travel_minutes": travel}
    call = calls.change_settings(bookings, signed_in.person, changes)
    return await act(
        request, call, then=f"{SERVICE_TYPES}#settings", done="The booking settings are saved."
    )


def _said(exc: ValueError) -> str:
    """A sentence from our own ValueError, or pydantic's first complaint."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())).replace("_", " ")
        return f"The {where}: {first.get('msg', 'is not right')}."
    return str(exc)
