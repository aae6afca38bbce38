"""One call function per bookings operation, returning the API's model: the
JSON routes and the client's pages both call these, so each request is built
in one place and a page renders what the API answers.

Bookings decides who may see and do what; these only ask it, and turn its
two refusals a person must act on into problems that help them act:
`slot_taken` carries the free times now, `past_cutoff` whom to ask instead."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp
from portal.bookings.v1 import bookings_pb2
from portal.common.v1 import common_pb2
from portal.projects.v1 import projects_pb2

from gateway.api.bookings.shapes import (
    BookableProject,
    BookableProjects,
    Booking,
    Contact,
    NewVisit,
    PastCutoffProblem,
    Product,
    Room,
    ServiceTypeList,
    SlotList,
    SlotTakenProblem,
    Visits,
    booking_out,
    service_type_out,
    slot_out,
    split_visits,
)
from gateway.api.projects import fetch_project
from gateway.backends import Backends, BookingsRemote, RemoteError, gateway_principal
from gateway.problems import ProblemError, from_rpc_error
from gateway.tenancy import Tenant
from services.chassis.auth import Principal
from services.chassis.grpc_client import error_detail

B = bookings_pb2
FRESH_DAYS = 7  # the free times offered after a slot was taken: that day and the week on
FRESH_SLOTS_KEY = "portal-fresh-slots-bin"  # BookVisit's trailer with them


def _stamp(value: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(value.astimezone(UTC))
    return out


def _code(exc: RemoteError) -> str:
    return error_detail(exc.error).code


# -- reading --------------------------------------------------------------------------


async def list_service_types(bookings: BookingsRemote, principal: Principal) -> ServiceTypeList:
    """Staff: every type; a client: the active ones (bookings decides)."""
    answer = await bookings.call(
        bookings.stub.ListServiceTypes, B.ListServiceTypesRequest(), principal=principal
    )
    return ServiceTypeList(service_types=[service_type_out(t) for t in answer.service_types])


def _rooms_out(rooms: Sequence[projects_pb2.Room]) -> list[Room]:
    return [
        Room(
            id=r.id,
            name=r.name,
            products=[
                Product(line_id=line.id, manufacturer=line.manufacturer, model=line.model)
                for line in r.lines
                if line.manufacturer.strip() or line.model.strip()
            ],
        )
        for r in rooms
    ]


async def bookable_projects(
    backends: Backends, bookings: BookingsRemote, principal: Principal
) -> BookableProjects:
    """The caller's projects bookings knows, each with the rooms and products
    projects shows this caller: the equipment a visit is booked against."""
    answer = await bookings.call(
        bookings.stub.ListBookableProjects, B.ListBookableProjectsRequest(), principal=principal
    )
    projects = backends.projects

    async def rooms_of(project_id: str) -> list[Room]:
        found = await projects.call(
            projects.stub.ListRooms,
            projects_pb2.ListRoomsRequest(project_id=project_id),
            principal=principal,
        )
        return _rooms_out(found.rooms)

    rooms = await asyncio.gather(*(rooms_of(p.project_id) for p in answer.projects))
    return BookableProjects(
        projects=[
            BookableProject(
                project_id=p.project_id,
                name=p.name,
                reference=p.reference,
                service_contract=p.service_contract,
                past_handover=p.past_handover,
                rooms=found,
            )
            for p, found in zip(answer.projects, rooms, strict=True)
        ],
        read_only=principal.read_only,
    )


async def fetch_slots(
    bookings: BookingsRemote,
    principal: Principal,
    *,
    service_type_id: str,
    project_id: str,
    from_date: str = "",
    from_time: datetime | None = None,
    days: int = 0,
    booking_id: str = "",
) -> SlotList:
    """Free starts from a day of the site's calendar (empty: today; or the day
    of `from_time` there, unless passed) for `days` (bookings' default when
    0); `booking_id`: moving that visit."""
    request = B.ListSlotsRequest(
        service_type_id=service_type_id,
        project_id=project_id,
        from_date=from_date,
        days=days,
        booking_id=booking_id,
    )
    if from_time is not None:
        request.from_time.CopyFrom(_stamp(from_time))
    answer = await bookings.call(bookings.stub.ListSlots, request, principal=principal)
    return SlotList(time_zone=answer.time_zone, slots=[slot_out(s) for s in answer.slots])


async def fetch_booking(bookings: BookingsRemote, principal: Principal, booking_id: str) -> Booking:
    answer = await bookings.call(
        bookings.stub.GetBooking, B.GetBookingRequest(booking_id=booking_id), principal=principal
    )
    return booking_out(answer.booking)


async def list_visits(
    bookings: BookingsRemote,
    principal: Principal,
    *,
    page: common_pb2.PageRequest,
    customer_id: str = "",
    project_id: str = "",
    include_cancelled: bool = False,
    now: datetime | None = None,
) -> Visits:
    """A client: their customer's visits (archived too); staff: any
    customer's, or one's with `customer_id`."""
    answer = await bookings.call(
        bookings.stub.ListBookings,
        B.ListBookingsRequest(
            customer_id=customer_id,
            project_id=project_id,
            include_cancelled=include_cancelled,
            page=page,
        ),
        principal=principal,
    )
    upcoming, past = split_visits(
        [booking_out(b) for b in answer.bookings], now or datetime.now(UTC)
    )
    return Visits(upcoming=upcoming, past=past, next_page_token=answer.page.next_page_token)


async def booking_calendar(
    bookings: BookingsRemote, principal: Principal, booking_id: str
) -> tuple[bytes, str]:
    """The booking's current .ics and its filename."""
    answer = await bookings.call(
        bookings.stub.GetBookingCalendar,
        B.GetBookingCalendarRequest(booking_id=booking_id),
        principal=principal,
    )
    return answer.ics, answer.filename or "visit.ics"


async def technician_feed(bookings: BookingsRemote, tenant_id: str, token: str) -> bytes:
    """A technician's feed by its secret alone: the gateway asks as itself
    (nobody is signed in; a calendar app holds the URL). Unknown or revoked:
    bookings answers NOT_FOUND."""
    answer = await bookings.call(
        bookings.stub.GetTechnicianFeed,
        B.GetTechnicianFeedRequest(token=token),
        principal=gateway_principal(tenant_id=tenant_id),
    )
    return answer.ics


# -- changing -------------------------------------------------------------------------


async def book_visit(
    bookings: BookingsRemote, principal: Principal, *, request_id: str, visit: NewVisit
) -> Booking:
    """BookVisit, idempotent on `request_id` (a double click books once)."""
    request = B.BookVisitRequest(
        request_id=request_id,
        project_id=str(visit.project_id),
        service_type_id=str(visit.service_type_id),
        starts_at=_stamp(visit.starts_at),
        room_id=str(visit.room_id) if visit.room_id else "",
        product_line_ids=[str(i) for i in visit.product_line_ids],
        description=visit.description.strip(),
        photo_document_ids=[str(i) for i in visit.photo_document_ids],
        fresh_slot_days=FRESH_DAYS,  # a refusal as taken brings the free times with it
    )
    try:
        answer = await bookings.call(bookings.stub.BookVisit, request, principal=principal)
    except RemoteError as exc:
        if _code(exc) == "slot_taken":
            if (fresh := _fresh_slots(exc)) is not None:
                raise _taken_problem(exc, fresh) from exc
            raise await _slot_taken(
                bookings,
                principal,
                exc,
                service_type_id=request.service_type_id,
                project_id=request.project_id,
                wanted=visit.starts_at,
            ) from exc
        raise
    return booking_out(answer.booking)


async def reschedule(
    backends: Backends,
    bookings: BookingsRemote,
    principal: Principal,
    tenant: Tenant,
    booking_id: str,
    starts_at: datetime,
) -> Booking:
    """RescheduleBooking: the same technician when free; before the cut-off
    for a client."""
    try:
        answer = await bookings.call(
            bookings.stub.RescheduleBooking,
            B.RescheduleBookingRequest(booking_id=booking_id, starts_at=_stamp(starts_at)),
            principal=principal,
        )
    except RemoteError as exc:
        code = _code(exc)
        if code == "slot_taken":
            booking = await fetch_booking(bookings, principal, booking_id)
            raise await _slot_taken(
                bookings,
                principal,
                exc,
                service_type_id=booking.service_type_id,
                project_id=booking.project_id,
                wanted=starts_at,
                booking_id=booking_id,
            ) from exc
        if code == "past_cutoff":
            raise await _past_cutoff(
                backends, bookings, principal, tenant, exc, booking_id
            ) from exc
        raise
    return booking_out(answer.booking)


async def cancel(
    backends: Backends,
    bookings: BookingsRemote,
    principal: Principal,
    tenant: Tenant,
    booking_id: str,
    reason: str,
) -> Booking:
    """CancelBooking: frees the time; before the cut-off for a client."""
    try:
        answer = await bookings.call(
            bookings.stub.CancelBooking,
            B.CancelBookingRequest(booking_id=booking_id, reason=reason.strip()),
            principal=principal,
        )
    except RemoteError as exc:
        if _code(exc) == "past_cutoff":
            raise await _past_cutoff(
                backends, bookings, principal, tenant, exc, booking_id
            ) from exc
        raise
    return booking_out(answer.booking)


# -- the refusals a person acts on ----------------------------------------------------


async def _slot_taken(
    bookings: BookingsRemote,
    principal: Principal,
    exc: RemoteError,
    *,
    service_type_id: str,
    project_id: str,
    wanted: datetime,
    booking_id: str = "",
) -> ProblemError:
    """The free times now, from the day that was wanted (on the site's clock,
    which bookings reads: one call, not the zone first)."""
    fresh = await fetch_slots(
        bookings,
        principal,
        service_type_id=service_type_id,
        project_id=project_id,
        from_time=wanted,
        days=FRESH_DAYS,
        booking_id=booking_id,
    )
    return _taken_problem(exc, fresh)


def _fresh_slots(exc: RemoteError) -> SlotList | None:
    """The free times BookVisit sent with its refusal (fresh_slot_days), if any."""
    for key, value in exc.error.trailing_metadata() or ():
        if key == FRESH_SLOTS_KEY:
            return _slots_in(bytes(value))
    return None


@functools.lru_cache(maxsize=32)
def _slots_in(trailer: bytes) -> SlotList:
    """The free times in a refusal's trailer. The losers of one race get the
    same bytes (the week after the winner's commit): parsed once, not 99
    times (~0.5 ms each for a week of slots). A pure function of the bytes
    bookings sent this caller, so sharing it shows nobody anything they were
    not sent; the SlotList is only read (copied into the problem)."""
    answer = B.ListSlotsResponse.FromString(trailer)
    return SlotList(time_zone=answer.time_zone, slots=[slot_out(s) for s in answer.slots])


def _taken_problem(exc: RemoteError, fresh: SlotList) -> ProblemError:
    base = from_rpc_error(exc.error, service=exc.service).problem
    problem = SlotTakenProblem(
        **base.model_dump(exclude={"detail"}),
        detail="That time was just taken — here are the free times now.",
        slots=fresh.slots,
        time_zone=fresh.time_zone,
    )
    return ProblemError(problem)


def contact_for(project: object, tenant: Tenant, client_name: str) -> Contact | None:
    """Whom a client writes to instead: the project manager, else the team
    (the board's own contact link; imported here, as gateway.pages imports
    this package)."""
    from gateway.pages import project_views

    link = project_views.project_contact(
        project,  # type: ignore[arg-type]  # a Project model
        team_name=tenant.display_name,
        support_email=tenant.branding.support_email,
        client_name=client_name,
    )
    return Contact(to=link.to, href=link.href, who=link.who) if link else None


async def _past_cutoff(
    backends: Backends,
    bookings: BookingsRemote,
    principal: Principal,
    tenant: Tenant,
    exc: RemoteError,
    booking_id: str,
) -> ProblemError:
    base = from_rpc_error(exc.error, service=exc.service).problem
    booking = await fetch_booking(bookings, principal, booking_id)
    project = await fetch_project(backends, principal, booking.project_id)
    contact = contact_for(project, tenant, "")
    detail = base.detail
    if contact is not None:
        detail = f"{detail.rstrip('.')}: write to {contact.who} at {contact.to}."
    return ProblemError(
        PastCutoffProblem(**base.model_dump(exclude={"detail"}), detail=detail, contact=contact)
    )
