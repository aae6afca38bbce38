"""Visits: what a client may book against, the free times, booking, their
visits, moving and cancelling one, its .ics, and each technician's feed.

Staff read the same resources (any customer's visits). Bookings decides who
may see and do what; a client sees only their customer's equipment and
visits, anything else is 404 whatever the id. The shapes live in `shapes`,
the calls the pages share in `calls`, the photo upload in `photos`; this
module holds the JSON routes. Without GATEWAY_BOOKINGS_TARGET every route
here answers 503."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response, status

from gateway import files
from gateway.api.bookings import calls
from gateway.api.bookings.photos import photo_router
from gateway.api.bookings.shapes import (
    BookableProjects,
    Booking,
    Cancellation,
    NewVisit,
    PastCutoffProblem,
    Reschedule,
    ServiceTypeList,
    SlotList,
    SlotTakenProblem,
    Visits,
)
from gateway.api.fields import Int32
from gateway.deps import (
    BackendsDep,
    BookingsDep,
    CallerDep,
    PageDep,
    RequestIdDep,
    TenantDep,
)
from gateway.problems import MEDIA_TYPE, problem_responses

__all__ = ["calls", "feed_router", "photo_router", "router"]

ICS_MEDIA_TYPE = "text/calendar; charset=utf-8"

router = APIRouter(
    prefix="/bookings", tags=["bookings"], responses=problem_responses(401, 403, 409)
)


def _conflict(model: type, description: str) -> dict[int | str, dict]:
    return {
        409: {
            "model": model,
            "description": description,
            "content": {MEDIA_TYPE: {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}},
        }
    }


@router.get("/service-types", summary="The kinds of visit (clients: the bookable ones)")
async def list_service_types(caller: CallerDep, bookings: BookingsDep) -> ServiceTypeList:
    return await calls.list_service_types(bookings, caller)


@router.get(
    "/projects", summary="The projects a visit can be booked for, with their rooms and products"
)
async def list_bookable_projects(
    caller: CallerDep, backends: BackendsDep, bookings: BookingsDep
) -> BookableProjects:
    return await calls.bookable_projects(backends, bookings, caller)


@router.get("/slots", summary="Free start times for a kind of visit at a project")
async def list_slots(
    caller: CallerDep,
    bookings: BookingsDep,
    service_type_id: UUID,
    project_id: UUID,
    from_date: Annotated[
        date | None, Query(alias="from", description="The site's calendar; default today.")
    ] = None,
    days: Annotated[Int32, Query(ge=1, le=62, description="How many days (default 7).")] = 7,
    booking_id: Annotated[
        UUID | None, Query(description="Moving this visit: its own time is not busy.")
    ] = None,
) -> SlotList:
    return await calls.fetch_slots(
        bookings,
        caller,
        service_type_id=str(service_type_id),
        project_id=str(project_id),
        from_date=from_date.isoformat() if from_date else "",
        days=days,
        booking_id=str(booking_id) if booking_id else "",
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Book a visit",
    description="Send an `Idempotency-Key`: the same key again answers the same booking. "
    "A time just taken by someone else is 409 `slot_taken` with the free times now.",
    responses=_conflict(SlotTakenProblem, "The time was just taken: the free times now"),
)
async def book_visit(
    body: NewVisit,
    caller: CallerDep,
    bookings: BookingsDep,
    request_id: RequestIdDep,
    request: Request,
    response: Response,
) -> Booking:
    booked = await calls.book_visit(bookings, caller, request_id=request_id, visit=body)
    response.headers["Location"] = request.app.url_path_for("get_booking", booking_id=booked.id)
    return booked


@router.get("", summary="Visits: upcoming (soonest first), then past (newest first)")
async def list_bookings(
    caller: CallerDep,
    bookings: BookingsDep,
    page: PageDep,
    customer_id: Annotated[UUID | None, Query(description="Staff: one customer's.")] = None,
    project_id: UUID | None = None,
    include_cancelled: bool = False,
) -> Visits:
    return await calls.list_visits(
        bookings,
        caller,
        page=page,
        customer_id=str(customer_id) if customer_id else "",
        project_id=str(project_id) if project_id else "",
        include_cancelled=include_cancelled,
    )


@router.get("/{booking_id}", summary="A visit, with what the caller may still change")
async def get_booking(booking_id: UUID, caller: CallerDep, bookings: BookingsDep) -> Booking:
    return await calls.fetch_booking(bookings, caller, str(booking_id))


_CUTOFF = _conflict(PastCutoffProblem, "Too late to change online (`past_cutoff`): whom to ask")


@router.post(
    "/{booking_id}/reschedule",
    summary="Move a visit to another free time",
    responses={
        **_CUTOFF,
        409: {
            **_CUTOFF[409],
            "description": "`past_cutoff` (with the contact) or `slot_taken` (with free times)",
        },
    },
)
async def reschedule_booking(
    booking_id: UUID,
    body: Reschedule,
    caller: CallerDep,
    backends: BackendsDep,
    bookings: BookingsDep,
    tenant: TenantDep,
) -> Booking:
    return await calls.reschedule(
        backends, bookings, caller, tenant, str(booking_id), body.starts_at
    )


@router.post("/{booking_id}/cancel", summary="Cancel a visit (frees its time)", responses=_CUTOFF)
async def cancel_booking(
    booking_id: UUID,
    body: Cancellation,
    caller: CallerDep,
    backends: BackendsDep,
    bookings: BookingsDep,
    tenant: TenantDep,
) -> Booking:
    return await calls.cancel(backends, bookings, caller, tenant, str(booking_id), body.reason)


@router.get(
    "/{booking_id}/calendar.ics",
    summary="The visit as an .ics file (stable UID; SEQUENCE of its last change)",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}},
)
async def booking_calendar(booking_id: UUID, caller: CallerDep, bookings: BookingsDep) -> Response:
    ics, filename = await calls.booking_calendar(bookings, caller, str(booking_id))
    return calendar_response(ics, filename)


def calendar_response(ics: bytes, filename: str | None = None) -> Response:
    headers = {"Cache-Control": "private, no-store"}
    if filename:
        headers["Content-Disposition"] = files.content_disposition(filename)
    return Response(ics, media_type=ICS_MEDIA_TYPE, headers=headers)


# -- the technician's feed: a secret URL a calendar app subscribes to --------------------

feed_router = APIRouter(include_in_schema=False)


@feed_router.get("/ics/{token}.ics")
async def technician_feed(token: str, tenant: TenantDep, bookings: BookingsDep) -> Response:
    """No session, no CSRF: the token is the permission (a GET changes
    nothing). Revoked or unknown: bookings' NOT_FOUND, a 404."""
    return calendar_response(await calls.technician_feed(bookings, tenant.id, token))
