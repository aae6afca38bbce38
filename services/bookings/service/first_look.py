"""BookVisit's first look, and its queue: a race's losers told "taken" in
one short read once the winner has committed, rather than each queueing on
PostgreSQL's row locks with a pooled connection.

The first look is a ReadUnit (its statements and nothing around them), one
statement for everything the booking's own checks read (a retry of the
request, the service type, the portal's state, the project's visibility and
facts, the tenant's settings), one for the calendars of the wanted day and
of the free times offered instead, ROLLBACK: four round trips and no ORM
session, where the same checks through the unit of work took eleven (py-spy:
a loser's cost was mostly SQLAlchemy's ORM and its round trips, on the one
event loop every racer shares). It only ever refuses as taken, and only when
every check the booking makes would pass: anything else (a retry, a project
not visible, a closed portal, a tenant without settings yet) is `undecided`,
and the booking's own checks answer it as they always did.

"Free" is no promise: the booking's transaction decides under the
technicians' locks, and the exclusion constraint is the last word. The turn
(per start of one service type, in this process) lets the first of a race's
racers look, ask projects and book while the others wait without a
connection; then they look, see the winner's commit and are refused by the
look alone (a hundred racers: one booking and 99 looks, where all of them
had seen the slot still free, asked projects and waited on the row locks).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, Select, Table, Uuid, bindparam, exists, literal, select, true

from services.bookings import domain_calendar as cal
from services.bookings import domain_slots as slots
from services.bookings.domain_bookings import NotBookable, ProjectFacts, SlotTaken, may_book
from services.bookings.models import Base, Booking, BookingSettings, ProjectFact, ServiceType
from services.bookings.service.availability import SlotList, TakenNow, first_day
from services.bookings.service.common import Sessions, calendars
from services.chassis.access import portal_state_column, portal_state_params, portal_writable
from services.chassis.audience import project_audience, visibility_of, visibility_rule
from services.chassis.auth import Principal
from services.chassis.db import ReadUnit
from services.chassis.timefmt import zone
from services.chassis.validation import parse_uuid

_FACT = ("project_id", "customer_id", "stage", "service_contract", "latitude", "longitude")
_SETTINGS = ("time_zone", "default_travel_minutes")


@dataclass(frozen=True)
class Look:
    """`taken`: the refusal (with the free times when asked), or None:
    somebody is free (no promise), or `undecided`."""

    taken: SlotTaken | None
    undecided: bool = False


UNDECIDED = Look(None, undecided=True)


@dataclass(frozen=True)
class Context:
    """What the slot rules need, from the look's row."""

    spec: cal.ServiceTypeSpec
    site: slots.Site | None
    time_zone: str
    travel: slots.Travel


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _look_query(kind: str) -> Select:
    """Built once per visibility rule; the caller's values are parameters.
    Columns by name, prefixed by table (`st_`, `f_`, `s_`); no ORM objects."""
    st, fact, settings = _table(ServiceType), _table(ProjectFact), _table(BookingSettings)
    if kind == "staff":
        portal: Any = literal(None, Integer).label("portal_state")
        visible: Any = true()
    else:
        a = project_audience.c
        portal = portal_state_column(True)
        visible = exists().where(
            a.project_id == bindparam("project_id", type_=Uuid),
            visibility_rule(kind, customer=a.customer_id, contacts=a.visible_contact_ids),
        )
    retry = exists().where(_table(Booking).c.request_id == bindparam("request_id"))
    columns = [
        *(st.c[n].label(f"st_{n}") for n in ("id", *cal.SERVICE_TYPE_FIELDS)),
        *(fact.c[n].label(f"f_{n}") for n in _FACT),
        *(settings.c[n].label(f"s_{n}") for n in _SETTINGS),
    ]
    joined = st.outerjoin(fact, fact.c.project_id == bindparam("project_id", type_=Uuid)).outerjoin(
        settings, settings.c.tenant_id == st.c.tenant_id
    )
    return (
        select(retry.label("retry"), portal, visible.label("visible"), *columns)
        .select_from(joined)
        .where(st.c.id == bindparam("service_type_id", type_=Uuid))
    )


_LOOKS = {kind: _look_query(kind) for kind in ("staff", "customer", "contact")}


def context_of(principal: Principal, row: Any) -> Context | None:
    """The service type's rules, the site and the tenant's clock, when every
    check the booking makes passes on the row; else None (undecided)."""
    if row is None or row.retry or row.st_id is None:
        return None
    if row.f_project_id is None or row.s_time_zone is None:
        return None  # a project we never heard of; no settings yet (the booking makes them)
    spec = cal.ServiceTypeSpec(
        **{n: getattr(row, f"st_{n}") for n in cal.SERVICE_TYPE_FIELDS if n != "skills"},
        skills=tuple(row.st_skills),
    )
    if principal.is_client:
        if not spec.active or not portal_writable(row.portal_state) or not row.visible:
            return None
        if row.f_customer_id != parse_uuid(principal.customer_id or "", field="customer_id"):
            return None
        try:
            may_book(
                ProjectFacts(row.f_stage, row.f_service_contract),
                allow_service_contract=spec.allow_service_contract,
                allow_after_handover=spec.allow_after_handover,
            )
        except NotBookable:
            return None
    has_site = row.f_latitude is not None and row.f_longitude is not None
    return Context(
        spec=spec,
        site=slots.Site(row.f_latitude, row.f_longitude) if has_site else None,
        time_zone=row.s_time_zone,
        travel=slots.Travel(default=timedelta(minutes=row.s_default_travel_minutes)),
    )


async def first_look(
    sessions: Sessions,
    principal: Principal,
    *,
    tenant_id: str,
    request_id: str,
    project_id: uuid.UUID,
    service_type_id: uuid.UUID,
    start: datetime,
    fresh_days: int,
    now: datetime,
) -> Look:
    """Is nobody qualified free at `start` by the committed calendars? Then
    the refusal, with the free times from that day over `fresh_days` days
    (none when 0), read in the same transaction."""
    kind, visibility = visibility_of(principal)
    params = {
        **visibility,
        **portal_state_params(principal),
        "request_id": request_id,
        "project_id": project_id,
        "service_type_id": service_type_id,
    }
    async with ReadUnit(sessions, tenant_id) as read:
        found = context_of(principal, (await read.execute(_LOOKS[kind], params)).first())
        if found is None:
            return UNDECIDED
        rules = cal.rules_of(found.spec, for_client=principal.is_client)
        tz = zone(found.time_zone)
        lo, hi = slots.day_window(start.astimezone(tz).date(), tz)
        span = slots.days_between(first_day("", found.time_zone, now, start), fresh_days)
        if span:  # the wanted day and the days offered instead, in one read
            lo = min(lo, slots.day_window(span[0], tz)[0])
            hi = max(hi, slots.day_window(span[-1], tz)[1])
        cals = await calendars(
            read, start=lo, end=hi, skills=rules.skills, with_sites=found.site is not None
        )
    site, travel = found.site, found.travel
    if slots.free_at(start, cals, rules, zone=tz, now=now, site=site, travel=travel):
        return Look(None)
    if not span:
        return Look(SlotTaken())
    starts = slots.open_starts(cals, rules, days=span, zone=tz, now=now, site=site, travel=travel)
    fresh = SlotList(starts, int(rules.duration.total_seconds()))
    return Look(TakenNow(fresh, found.time_zone))


# Who is booking a time now in this process (tenant, service type, start, on
# its event loop), and the racers for it wait for: set once they are done.
_AHEAD: dict[tuple[int, str, uuid.UUID, datetime], asyncio.Event] = {}


@asynccontextmanager
async def turn(
    tenant_id: str, service_type_id: uuid.UUID, start: datetime, look: Callable[[], Awaitable[Look]]
) -> AsyncIterator[Look]:
    """The look to act on. The first racer for a time takes the turn at once
    (no await before it) and looks; the others wait without a connection
    until it is done, then look together (concurrently, the winner's commit
    in view): refused, they never hold the turn; still free (it failed), one
    of them takes it. Only an economy: another process's racers are not in
    it; the technicians' locks and the exclusion constraint decide."""
    key = (id(asyncio.get_running_loop()), tenant_id, service_type_id, start)
    seen: Look | None = None
    while (ahead := _AHEAD.get(key)) is not None:
        await ahead.wait()
        seen = await look()
        if seen.taken is not None:
            yield seen
            return
    done = _AHEAD[key] = asyncio.Event()
    try:
        # Looked just now (nothing awaited since) or never: look now.
        yield seen if seen is not None else await look()
    finally:
        del _AHEAD[key]
        done.set()
