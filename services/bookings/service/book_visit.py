"""Booking a visit: a race's losers refused cheaply first (by the committed
calendars, without a lock, with the free times now when asked), then one
transaction creates the booking, its service work order and the
technician's time, with their events."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from portal.bookings.v1 import events_pb2
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.bookings import domain_bookings as rules
from services.bookings import domain_calendar as cal
from services.bookings.domain_bookings import WorkOrderKind
from services.bookings.models import (
    Booking,
    BookingSettings,
    ProjectFact,
    ServiceType,
    Technician,
    WorkOrder,
)
from services.bookings.projects_client import Room
from services.bookings.service.availability import (
    MAX_DAYS,
    TakenNow,
    check_may_book,
    first_day,
    free_technicians,
    open_slots,
    take_technician,
)
from services.bookings.service.booking_reads import booking_view
from services.bookings.service.bookings import booker, publish_booking
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
from services.bookings.service.first_look import Look, first_look, turn
from services.bookings.service.messages import BookingView
from services.bookings.service.work_orders import hold_time, publish_work_order, view_of
from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.errors import Conflict, InvalidArgument
from services.chassis.idempotency import fingerprint, refuse_reuse
from services.chassis.validation import bounded_int, check_request_id, parse_uuid


class Projects(Protocol):
    async def site_address(self, principal: Principal, project_id: str) -> str: ...
    async def rooms(self, principal: Principal, project_id: str) -> list[Room]: ...


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
    fresh_days: int = 0,
) -> BookingView:
    """`fresh_days`: a refusal as taken carries the free times from that day
    on (TakenNow), read in the same transaction that found it taken."""
    tenant_id = booker(principal, "book a visit")
    fresh_days = bounded_int(fresh_days, field="fresh_slot_days", low=0, high=MAX_DAYS)
    request_id = check_request_id(request_id) or str(uuid.uuid4())
    visit = rules.check_visit_request(
        room_id=room_id,
        product_line_ids=product_line_ids,
        description=description,
        photos=photo_document_ids,
    )
    if starts_at is None:
        raise InvalidArgument("pick a time", field="starts_at")
    project = parse_uuid(project_id, field="project_id")
    stype_id = parse_uuid(service_type_id, field="service_type_id")
    sha = fingerprint(
        "book_visit", project=project_id, type=service_type_id, start=starts_at, **vars(visit)
    )

    async def look() -> Look:
        return await first_look(
            sessions,
            principal,
            tenant_id=tenant_id,
            request_id=request_id,
            project_id=project,
            service_type_id=stype_id,
            start=starts_at,
            fresh_days=fresh_days,
            now=now_utc(),
        )

    try:
        # Racers for this very time: the first books (or fails) while the others
        # wait, then they look and are refused, instead of queueing on the
        # technicians' row locks with a pooled connection each.
        async with turn(tenant_id, stype_id, starts_at, look) as seen:
            taken = seen.taken
            if seen.undecided:  # the booking's own checks answer it, and a retry
                async with UnitOfWork(sessions, tenant_id) as uow:
                    if (found := await _retry(uow, principal, request_id, sha)) is not None:
                        return found
                    taken = await _already_taken(
                        uow, principal, project_id, service_type_id, starts_at, fresh_days
                    )
            if taken is not None:
                if visit.room_id:  # a room not theirs is told first; the address is not needed
                    pick_products(
                        await projects.rooms(principal, project_id),
                        visit.room_id,
                        visit.product_line_ids,
                    )
                raise taken
            # Projects decides what this caller may see of the project: asked outside the tx.
            address, rooms = await asyncio.gather(
                projects.site_address(principal, project_id),
                projects.rooms(principal, project_id) if visit.room_id else _no_rooms(),
            )
            room_name, products = pick_products(rooms, visit.room_id, visit.product_line_ids)
            return await _book(
                sessions=sessions,
                principal=principal,
                tenant_id=tenant_id,
                request_id=request_id,
                sha=sha,
                project_id=project_id,
                service_type_id=service_type_id,
                starts_at=starts_at,
                visit=visit,
                address=address,
                room_name=room_name,
                products=products,
            )
    except TakenNow:
        raise
    except rules.SlotTaken:
        if not fresh_days:
            raise
    # Refused under the technicians' locks (taken by another process's booking):
    # the free times from a new transaction, the winner's commit in view.
    async with UnitOfWork(sessions, tenant_id) as uow:
        refusal = await _taken_now(
            uow, principal, project_id, service_type_id, starts_at, fresh_days
        )
    raise refusal


async def _book(
    *,
    sessions: Sessions,
    principal: Principal,
    tenant_id: str,
    request_id: str,
    sha: str,
    project_id: str,
    service_type_id: str,
    starts_at: datetime,
    visit: rules.VisitRequest,
    address: str,
    room_name: str,
    products: list[dict],
) -> BookingView:
    """The booking's one transaction: the technicians locked, the slot
    recomputed, the rows and events written; SlotTaken when nobody is free."""
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
        await publish_booking(uow, view, events_pb2.BookingRequested)
        publish_work_order(uow, await view_of(uow, order), created=True)
        await uow.commit()
    return view


async def _already_taken(
    uow: UnitOfWork,
    principal: Principal,
    project_id: str,
    service_type_id: str,
    start: datetime,
    fresh_days: int,
) -> rules.SlotTaken | None:
    """Before asking projects and locking anyone: is nobody qualified free at
    that start by the committed calendars? Then the refusal, without a lock
    (a race's losers stop here once the winner has committed, instead of
    each taking its turn on the technicians' rows). Somebody free is no
    promise: take_technician decides under the lock."""
    stype = await load_service_type(uow, service_type_id, for_client=principal.is_client)
    fact = await check_may_book(uow, principal, project_id, stype)
    slot_rules = cal.rules_of(spec_of(stype), for_client=principal.is_client)
    settings = await load_settings(uow)
    free = await free_technicians(
        uow, rules=slot_rules, settings=settings, start=start, site=site_of(fact)
    )
    if free:
        return None
    if not fresh_days:
        return rules.SlotTaken()
    return await _fresh(uow, principal, stype, fact, settings, start, fresh_days)


async def _taken_now(
    uow: UnitOfWork,
    principal: Principal,
    project_id: str,
    service_type_id: str,
    start: datetime,
    days: int,
) -> TakenNow:
    stype = await load_service_type(uow, service_type_id, for_client=principal.is_client)
    fact = await check_may_book(uow, principal, project_id, stype)
    return await _fresh(uow, principal, stype, fact, await load_settings(uow), start, days)


async def _fresh(
    uow: UnitOfWork,
    principal: Principal,
    stype: ServiceType,
    fact: ProjectFact,
    settings: BookingSettings,
    start: datetime,
    days: int,
) -> TakenNow:
    """The free times from the wanted day (today when that has passed)."""
    now = now_utc()
    found = await open_slots(
        uow,
        principal,
        stype,
        fact,
        settings,
        first=first_day("", settings.time_zone, now, start),
        days=days,
        now=now,
    )
    return TakenNow(found, settings.time_zone)


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
