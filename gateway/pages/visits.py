"""The client's visits: "Book a visit" (the equipment from their rooms or
"something else", what is wrong, a photo, a day then a time, confirm) and
"My visits" (upcoming and past; move, cancel, the .ics).

Phone first and without JavaScript: the choices travel in the URL (GET) until
the last step, which posts one multipart form (the photo last, as the upload
reader wants it). Every call is the API's own (`gateway.api.bookings.calls`),
as the portal principal; bookings decides, this only shows its answers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from fastapi import APIRouter, Request
from portal.common.v1 import common_pb2
from portal.identity.v1 import identity_pb2
from starlette.responses import Response

from gateway import csrf
from gateway.api.bookings import calls
from gateway.api.bookings.photos import send_photo
from gateway.api.bookings.shapes import (
    BookableProject,
    BookableProjects,
    NewVisit,
    ServiceType,
    Slot,
    SlotList,
    SlotTakenProblem,
)
from gateway.api.documents import open_upload
from gateway.api.documents.common import CHUNK_SIZE
from gateway.api.projects import fetch_project
from gateway.backends import RemoteError
from gateway.deps import BackendsDep, BookingsDep, ClientPage, DocumentsDep, TenantDep
from gateway.pages.forms import Form, refusal
from gateway.pages.projects import page_id, portal_of
from gateway.pages.rendering import render, see_other
from gateway.problems import ProblemError
from gateway.sessions import SignedIn
from services.chassis.timefmt import format_datetime

router = APIRouter(include_in_schema=False)
SHOWN_DAYS = 14  # the days offered at once: two weeks on a phone's row of chips
OTHER = "other"  # the equipment choice "something else"


def why_not_booking(signed_in: SignedIn) -> str | None:
    """Why this person cannot book, in their words, or None. (Bookings
    refuses anyway; the page says so before they fill anything in.)"""
    principal = portal_of(signed_in)
    if signed_in.viewing_as_client:
        return "You are viewing the portal as the client: booking is switched off."
    if signed_in.session.access_state == identity_pb2.ACCESS_STATE_ARCHIVED:
        return (
            "Your account is archived, so new visits can't be booked online. "
            "You can still see your visit history."
        )
    if principal.read_only:
        return "This portal is read-only: new visits can't be booked."
    if "approver" not in principal.roles:
        return "Only an approver on your account can book a visit; you can see the visits."
    return None


# -- the equipment choice -------------------------------------------------------------


@dataclass(frozen=True)
class Equipment:
    value: str  # "room:<id>:<line id>", "room:<id>", or OTHER
    label: str
    room_id: str = ""
    line_id: str = ""


def equipment_of(project: BookableProject) -> list[Equipment]:
    found: list[Equipment] = []
    for room in project.rooms:
        for p in room.products:
            name = " ".join(x for x in (p.manufacturer, p.model) if x.strip())
            found.append(
                Equipment(
                    f"room:{room.id}:{p.line_id}", f"{name} — {room.name}", room.id, p.line_id
                )
            )
        found.append(Equipment(f"room:{room.id}", f"Something in the {room.name}", room.id))
    found.append(Equipment(OTHER, "Something else"))
    return found


def chosen_equipment(project: BookableProject, value: str) -> Equipment | None:
    return next((e for e in equipment_of(project) if e.value == value), None)


# -- days and times -------------------------------------------------------------------


@dataclass
class Day:
    value: str
    slots: list[Slot] = field(default_factory=list)

    @property
    def date(self) -> date:
        return date.fromisoformat(self.value)


def days_of(slots: SlotList) -> list[Day]:
    days: dict[str, Day] = {}
    for slot in slots.slots:
        days.setdefault(slot.local_date, Day(slot.local_date)).slots.append(slot)
    return list(days.values())


def day_chosen(days: list[Day], wanted: str) -> Day | None:
    return next((d for d in days if d.value == wanted), days[0] if days else None)


def _is_id(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def parse_start(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else None


# -- Book a visit ---------------------------------------------------------------------


@dataclass
class Choice:
    """What the person has chosen so far, from the URL or the form."""

    project: BookableProject | None
    service_type: ServiceType | None
    equipment: Equipment | None
    day: str = ""


def _choose(
    found: BookableProjects, types: list[ServiceType], project: str, kind: str, item: str
) -> Choice:
    chosen = next((p for p in found.projects if p.project_id == project), None)
    if chosen is None and len(found.projects) == 1:
        chosen = found.projects[0]
    stype = next((t for t in types if t.id == kind), types[0] if len(types) == 1 else None)
    equipment = chosen_equipment(chosen, item) if chosen else None
    return Choice(chosen, stype, equipment)


async def _book_page(
    request: Request,
    signed_in: SignedIn,
    bookings,
    backends,
    *,
    project: str,
    kind: str,
    item: str,
    day: str,
    description: str = "",
    photo_ids: list[str] | None = None,
    error: str | None = None,
    fresh: SlotList | None = None,
    status: int = 200,
) -> Response:
    principal = portal_of(signed_in)
    found = await calls.bookable_projects(backends, bookings, principal)
    types = (await calls.list_service_types(bookings, principal)).service_types
    choice = _choose(found, types, project, kind, item)
    ready = choice.project and choice.service_type and choice.equipment
    blocked = why_not_booking(signed_in)
    slots = fresh
    if ready and not blocked and slots is None:
        assert choice.project and choice.service_type
        slots = await calls.fetch_slots(
            bookings,
            principal,
            service_type_id=choice.service_type.id,
            project_id=choice.project.project_id,
            days=SHOWN_DAYS,
        )
    days = days_of(slots) if slots else []
    return render(
        request,
        "visit_book.html",
        signed_in=signed_in,
        surface="portal",
        status=status,
        projects=found.projects,
        types=types,
        choice=choice,
        equipment=equipment_of(choice.project) if choice.project else [],
        ready=ready,
        blocked=blocked,
        time_zone=slots.time_zone if slots else "",
        days=days,
        day=day_chosen(days, day),
        description=description,
        photo_ids=photo_ids or [],
        error=error,
        request_id=str(uuid.uuid4()),  # a double click books once
    )


@router.get("/visits/book")
async def book_page(
    request: Request,
    signed_in: ClientPage,
    backends: BackendsDep,
    bookings: BookingsDep,
    project: str = "",
    type: str = "",  # the URL's own word
    item: str = "",
    day: str = "",
) -> Response:
    return await _book_page(
        request, signed_in, bookings, backends, project=project, kind=type, item=item, day=day
    )


async def _read_booking_form(request: Request, signed_in: SignedIn, documents) -> tuple[Form, str]:
    """The multipart form's fields (CSRF checked), then its photo, if one was
    chosen, stored in the project's documents: (the form, the photo's id)."""
    principal = portal_of(signed_in)
    incoming = await open_upload(request, documents, principal)
    form = Form(incoming.fields)
    csrf.check_session_token(
        request.app.state.settings.csrf_secret, signed_in.token, form.get(csrf.FORM_FIELD)
    )
    if incoming.file is None or not incoming.file.filename:
        if incoming.file is not None:
            async for _ in incoming.reader.file_chunks(CHUNK_SIZE):
                pass  # the empty file part: read to the end before answering
        return form, ""
    project_id = page_id(form.get("project"), "project")
    photo = await send_photo(
        incoming,
        documents,
        principal,
        project_id=project_id,
        request_id=f"{form.get('request_id')}-photo",
    )
    return form, photo.document_id


@router.post("/visits/book")
async def book(
    request: Request,
    signed_in: ClientPage,
    backends: BackendsDep,
    bookings: BookingsDep,
    documents: DocumentsDep,
    tenant: TenantDep,
) -> Response:
    form, photo_id = await _read_booking_form(request, signed_in, documents)
    principal = portal_of(signed_in)
    project, kind, item = form.get("project"), form.get("type"), form.get("item")
    description = form.text("description")
    photo_ids = [p for p in [*form.getlist("photo_ids"), photo_id] if _is_id(p)][:10]
    again = dict(
        project=project, kind=kind, item=item, description=description, photo_ids=photo_ids
    )
    starts_at = parse_start(form.get("starts_at"))
    if starts_at is None:
        return await _book_page(
            request,
            signed_in,
            bookings,
            backends,
            day=form.get("day"),
            error="Choose a time for the visit.",
            status=422,
            **again,
        )
    found = await calls.bookable_projects(backends, bookings, principal)
    chosen = next((p for p in found.projects if p.project_id == project), None)
    equipment = chosen_equipment(chosen, item) if chosen else None
    try:
        visit = NewVisit(
            project_id=page_id(project, "project"),
            service_type_id=page_id(kind, "service type"),
            starts_at=starts_at,
            room_id=(equipment.room_id or None) if equipment else None,
            product_line_ids=[equipment.line_id] if equipment and equipment.line_id else [],
            description=description,
            photo_document_ids=photo_ids,
        )
        booked = await calls.book_visit(
            bookings, principal, request_id=form.get("request_id") or str(uuid.uuid4()), visit=visit
        )
    except ProblemError as exc:
        if not isinstance(exc.problem, SlotTakenProblem):
            raise
        fresh = SlotList(time_zone=exc.problem.time_zone, slots=exc.problem.slots)
        return await _book_page(
            request,
            signed_in,
            bookings,
            backends,
            day=starts_at.date().isoformat(),
            error=exc.problem.detail,
            fresh=fresh,
            status=409,
            **again,
        )
    except RemoteError as exc:
        refused = refusal(exc)
        return await _book_page(
            request,
            signed_in,
            bookings,
            backends,
            day=form.get("day"),
            error=refused.message,
            status=refused.status,
            **again,
        )
    when = _when(booked.starts_at, booked.time_zone or tenant.time_zone)
    return see_other(
        request, f"/visits#visit-{booked.id}", flash=f"Booked: {booked.service_type_name}, {when}."
    )


def _when(moment: datetime | None, zone: str) -> str:
    return format_datetime(moment, zone) if moment else ""


# -- My visits ------------------------------------------------------------------------


@router.get("/visits")
async def visits_page(
    request: Request, signed_in: ClientPage, backends: BackendsDep, bookings: BookingsDep
) -> Response:
    principal = portal_of(signed_in)
    visits = await calls.list_visits(
        bookings, principal, page=common_pb2.PageRequest(page_size=50), include_cancelled=True
    )
    # A cancelled visit is history, whenever it would have been.
    upcoming = [v for v in visits.upcoming if v.status != "cancelled"]
    history = [v for v in visits.upcoming if v.status == "cancelled"] + visits.past
    visits = visits.model_copy(update={"upcoming": upcoming, "past": history})
    # Whom to write to about a visit too close to change online, per project.
    late = {v.project_id for v in visits.upcoming if not (v.can_cancel and v.can_reschedule)}
    tenant = request.state.tenant
    contacts = {}
    for project_id in late:
        project = await fetch_project(backends, principal, project_id)
        contacts[project_id] = calls.contact_for(project, tenant, signed_in.session.full_name)
    return render(
        request,
        "visits.html",
        signed_in=signed_in,
        surface="portal",
        visits=visits,
        blocked=why_not_booking(signed_in),
        contacts=contacts,
    )
