"""Which projects may book, the free slots, and taking a technician for one:
the slot rules run in domain_slots over calendars read here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from services.bookings import domain_calendar as cal
from services.bookings import domain_slots as slots
from services.bookings.domain_bookings import HANDOVER, SlotTaken, may_book
from services.bookings.models import BookingSettings, ProjectFact, ServiceType
from services.bookings.service.common import (
    Sessions,
    calendars,
    day_load,
    facts_of,
    load_booking,
    load_fact,
    load_service_type,
    load_settings,
    lock_technicians,
    now_utc,
    spec_of,
    travel_of,
)
from services.chassis.access import require_open_portal
from services.chassis.audience import project_visible, require_project_visible
from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.errors import InvalidArgument, NotFound
from services.chassis.timefmt import zone
from services.chassis.validation import bounded_int, parse_uuid

MAX_DAYS = 62


@dataclass(frozen=True)
class SlotList:
    """Free starts in epoch seconds, in order, each `duration` seconds long:
    a month is hundreds, turned straight into the answer's timestamps."""

    starts: list[int]
    duration: int


@dataclass(frozen=True)
class Bookable:
    fact: ProjectFact

    @property
    def past_handover(self) -> bool:
        return self.fact.stage == HANDOVER


async def list_bookable_projects(*, sessions: Sessions, principal: Principal) -> list[Bookable]:
    """The caller's projects with the facts that decide who may book."""
    async with UnitOfWork(sessions, principal.require_reader()) as uow:
        await require_open_portal(uow, principal)
        query = select(ProjectFact).order_by(ProjectFact.name, ProjectFact.project_id)
        if principal.is_client:
            customer = parse_uuid(principal.customer_id or "", field="customer_id")
            query = query.where(
                ProjectFact.customer_id == customer,
                project_visible(principal, ProjectFact.project_id),
            )
        return [Bookable(f) for f in (await uow.session.scalars(query.limit(500))).all()]


async def check_may_book(
    uow: UnitOfWork, principal: Principal, project_id: str, stype: ServiceType
) -> ProjectFact:
    """A client books for their own visible project, by the service type's
    rule; staff book for any project we know (on the customer's behalf)."""
    if principal.is_client:
        await require_open_portal(uow, principal, write=True)
        await require_project_visible(uow, principal, project_id)
    fact = await load_fact(uow, project_id)
    if principal.is_client:
        customer = parse_uuid(principal.customer_id or "", field="customer_id")
        if fact is not None and fact.customer_id != customer:
            raise NotFound("no such project", field="project_id")
        may_book(
            facts_of(fact),
            allow_service_contract=stype.allow_service_contract,
            allow_after_handover=stype.allow_after_handover,
        )
    if fact is None:
        raise NotFound("no such project", field="project_id")
    return fact


def first_day(value: str, time_zone: str, now: datetime, at: datetime | None = None) -> date:
    """`value` (YYYY-MM-DD) or, without it, the local day of `at` unless that
    has passed; else today, on the tenant's clock."""
    today = now.astimezone(zone(time_zone)).date()
    if not value:
        return today if at is None else max(today, at.astimezone(zone(time_zone)).date())
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidArgument("from date must be a date as YYYY-MM-DD", field="from_date") from None


async def list_slots(
    *,
    sessions: Sessions,
    principal: Principal,
    service_type_id: str,
    project_id: str,
    from_date: str,
    days: int,
    booking_id: str = "",
    from_time: datetime | None = None,
) -> tuple[SlotList, str]:
    """Free starts for the project's site over `days` local days."""
    tenant_id = principal.require_reader()
    days = bounded_int(days or 7, field="days", low=1, high=MAX_DAYS)
    now = now_utc()
    async with UnitOfWork(sessions, tenant_id) as uow:
        stype = await load_service_type(uow, service_type_id, for_client=principal.is_client)
        fact = await check_may_book(uow, principal, project_id, stype)
        settings = await load_settings(uow)
        ignore = await _own_work_order(uow, principal, booking_id)
        first = first_day(from_date, settings.time_zone, now, from_time)
        found = await open_slots(
            uow, principal, stype, fact, settings, first=first, days=days, now=now, ignore=ignore
        )
    return found, settings.time_zone


async def open_slots(
    uow: UnitOfWork,
    principal: Principal,
    stype: ServiceType,
    fact: ProjectFact,
    settings: BookingSettings,
    *,
    first: date,
    days: int,
    now: datetime,
    ignore: str = "",
) -> SlotList:
    """The free starts at the project's site over `days` local days from
    `first`, the caller's rules (notice and horizon for clients)."""
    rules = cal.rules_of(spec_of(stype), for_client=principal.is_client)
    tz = zone(settings.time_zone)
    span = slots.days_between(first, days)
    lo, hi = slots.day_window(span[0], tz)[0], slots.day_window(span[-1], tz)[1]
    site = _site(fact)
    found = slots.open_starts(
        await calendars(
            uow,
            start=lo,
            end=hi,
            skills=rules.skills,
            ignore_work_order=ignore,
            with_sites=site is not None,
        ),
        rules,
        days=span,
        zone=tz,
        now=now,
        site=site,
        travel=travel_of(settings),
    )
    return SlotList(found, int(rules.duration.total_seconds()))


class TakenNow(SlotTaken):
    """SlotTaken with the free times now, for a caller who asked for them
    with the booking (one call, not a ListSlots after the refusal)."""

    def __init__(self, fresh: SlotList, time_zone: str) -> None:
        super().__init__()
        self.fresh = fresh
        self.time_zone = time_zone


def _site(fact: ProjectFact | None) -> slots.Site | None:
    if fact is None or fact.latitude is None or fact.longitude is None:
        return None
    return slots.Site(fact.latitude, fact.longitude)


async def _own_work_order(uow: UnitOfWork, principal: Principal, booking_id: str) -> str:
    """Rescheduling: the booking's own visit is not in its way."""
    if not booking_id:
        return ""
    booking = await load_booking(uow, principal, booking_id)
    return str(booking.work_order_id)


async def free_technicians(
    uow: UnitOfWork,
    *,
    rules: slots.Rules,
    settings: BookingSettings,
    start: datetime,
    site: slots.Site | None,
    ids: list[uuid.UUID] | None = None,
    ignore_work_order: str = "",
) -> tuple[str, ...]:
    """Who may start a visit at `start`, by the calendars as committed now."""
    tz = zone(settings.time_zone)
    lo, hi = slots.day_window(start.astimezone(tz).date(), tz)
    return slots.free_at(
        start,
        await calendars(
            uow,
            start=lo,
            end=hi,
            skills=rules.skills,
            ids=ids,
            ignore_work_order=ignore_work_order,
            with_sites=site is not None,
        ),
        rules,
        zone=tz,
        now=now_utc(),
        site=site,
        travel=travel_of(settings),
    )


async def take_technician(
    uow: UnitOfWork,
    *,
    rules: slots.Rules,
    settings: BookingSettings,
    start: datetime,
    site: slots.Site | None,
    keep: str | None = None,
    ignore_work_order: str = "",
) -> str:
    """Lock the qualified technicians, read their day again and pick who takes
    a visit at `start`: the one who had it if free, else the least loaded.
    Nobody free (another booking just took the last one): SlotTaken."""
    tz = zone(settings.time_zone)
    day = start.astimezone(tz).date()
    locked = await lock_technicians(uow, skills=rules.skills)
    free = await free_technicians(
        uow,
        rules=rules,
        settings=settings,
        start=start,
        site=site,
        ids=[t.staff_user_id for t in locked],
        ignore_work_order=ignore_work_order,
    )
    if not free:
        raise SlotTaken()
    load = (
        {}
        if len(free) == 1
        else await day_load(uow, list(free), day=day, time_zone=settings.time_zone)
    )
    chosen = slots.choose_technician(free, load, keep=keep)
    if chosen is None:
        raise SlotTaken()
    return chosen
