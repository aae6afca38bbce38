"""What the bookings use cases share: the clock, the dispatcher's role, the
tenant's settings, loading what a caller may see (anything else is NOT_FOUND),
technicians' calendars for the slot rules, and the exclusion violation."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import and_, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.bookings import domain_calendar as cal
from services.bookings import domain_slots as slots
from services.bookings.domain_bookings import ProjectFacts
from services.bookings.domain_sweep import Blocks, to_datetime
from services.bookings.models import (
    Assignment,
    Booking,
    BookingSettings,
    ProjectFact,
    ServiceType,
    Technician,
    WorkOrder,
)
from services.chassis.audience import project_visible
from services.chassis.auth import Principal
from services.chassis.db import ReadUnit, UnitOfWork
from services.chassis.errors import NotFound
from services.chassis.timefmt import zone
from services.chassis.validation import parse_uuid

Sessions = async_sessionmaker[AsyncSession]
# Who runs the dispatch calendar (owner and admin pass too).
DISPATCH_ROLE = "project_manager"
EXCLUSION_VIOLATION = "23P01"


def now_utc() -> datetime:
    return datetime.now(UTC)


def tenant_uuid(uow: UnitOfWork) -> uuid.UUID:
    return uuid.UUID(str(uow.tenant_id))


async def load_settings(uow: UnitOfWork, *, lock: bool = False) -> BookingSettings:
    """The tenant's row, made with the defaults the first time it is needed."""
    tenant = tenant_uuid(uow)
    query = select(BookingSettings).where(BookingSettings.tenant_id == tenant)
    settings = await uow.session.scalar(query.with_for_update() if lock else query)
    if settings is None:
        # Concurrent first calls (100 bookings racing on a new tenant) each try
        # to make it: one insert wins, the others read its row, none is a 500.
        await uow.session.execute(
            insert(BookingSettings)
            .values(tenant_id=tenant, time_zone="UTC", default_travel_minutes=30)
            .on_conflict_do_nothing(index_elements=[BookingSettings.tenant_id])
        )
        settings = await uow.session.scalar(query.with_for_update() if lock else query)
        assert settings is not None  # inserted now, or by the call that won
    return settings


def travel_of(settings: BookingSettings) -> slots.Travel:
    return slots.Travel(default=timedelta(minutes=settings.default_travel_minutes))


def is_exclusion_violation(exc: IntegrityError) -> bool:
    """Two blocks of one technician overlapping (the exclusion constraint)."""
    orig = exc.orig
    # asyncpg's own error (with the SQLSTATE) is the driver exception (SQLAlchemy 2.1)
    # or the cause of the DBAPI adapter's error (2.0).
    inner = (getattr(exc, "driver_exception", None), getattr(orig, "__cause__", None))
    for candidate in (orig, *inner):
        code = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if code == EXCLUSION_VIOLATION:
            return True
    return False


async def load_fact(uow: UnitOfWork, project_id: str | uuid.UUID) -> ProjectFact | None:
    pid = (
        project_id
        if isinstance(project_id, uuid.UUID)
        else parse_uuid(project_id, field="project_id")
    )
    return await uow.session.get(ProjectFact, pid)


def facts_of(row: ProjectFact | None) -> ProjectFacts | None:
    return None if row is None else ProjectFacts(row.stage, row.service_contract)


def site_of(row: ProjectFact | WorkOrder | None) -> slots.Site | None:
    if row is None or row.latitude is None or row.longitude is None:
        return None
    return slots.Site(row.latitude, row.longitude)


async def load_service_type(
    uow: UnitOfWork, service_type_id: str, *, for_client: bool
) -> ServiceType:
    sid = parse_uuid(service_type_id, field="service_type_id")
    row = await uow.session.get(ServiceType, sid)
    if row is None or (for_client and not row.active):
        raise NotFound("no such service type", field="service_type_id")
    return row


def spec_of(row: ServiceType) -> cal.ServiceTypeSpec:
    return cal.ServiceTypeSpec(
        **{name: getattr(row, name) for name in cal.SERVICE_TYPE_FIELDS if name != "skills"},
        skills=tuple(row.skills),
    )


async def load_technician(uow: UnitOfWork, technician_id: str, *, lock: bool = False) -> Technician:
    tid = parse_uuid(technician_id, field="technician_id")
    tech = await uow.session.get(Technician, tid, with_for_update=lock)
    if tech is None:
        raise NotFound("no such technician", field="technician_id")
    return tech


async def load_booking(
    uow: UnitOfWork, principal: Principal, booking_id: str, *, lock: bool = False
) -> Booking:
    """A booking the caller may see: staff any of the tenant's; a client their
    customer's, on a project that is for them. Anything else is NOT_FOUND."""
    bid = parse_uuid(booking_id, field="booking_id")
    query = select(Booking).where(Booking.id == bid)
    if principal.is_client:
        customer = parse_uuid(principal.customer_id or "", field="customer_id")
        query = query.where(
            Booking.customer_id == customer, project_visible(principal, Booking.project_id)
        )
    booking = await uow.session.scalar(query.with_for_update(of=Booking) if lock else query)
    if booking is None:
        raise NotFound("this visit isn't available", field="booking_id")
    return booking


def feed_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def require_dispatcher(principal: Principal) -> str:
    return principal.require_editor(DISPATCH_ROLE)


def require_staff_reader(principal: Principal) -> str:
    principal.require_staff()
    return principal.require_tenant()


# -- calendars -----------------------------------------------------------------------------


async def lock_technicians(
    uow: UnitOfWork, *, skills: frozenset[str] = frozenset(), ids: Sequence[uuid.UUID] = ()
) -> list[Technician]:
    """Active technicians (with the skills, or these ids), locked in id order:
    bookings that could take the same people serialise here, without
    deadlocks, and each then reads the others' committed visits."""
    query = select(Technician).where(Technician.active.is_(True))
    if skills:
        query = query.where(Technician.skills.contains(sorted(skills)))
    if ids:
        query = query.where(Technician.staff_user_id.in_(list(ids)))
    query = query.order_by(Technician.staff_user_id).with_for_update()
    return list((await uow.session.scalars(query)).all())


# One statement for a search's calendars: each qualified technician with
# their busy blocks and time off as arrays of epoch seconds (starts floored,
# ends ceiled: see domain_sweep), the arrays of one technician in one order.
# A month of 20 technicians is thousands of blocks; as rows, then datetimes,
# then an object each, they cost more than computing the slots (py-spy); as
# arrays, almost nothing. The range test is the exclusion constraint's own
# expression (its GiST index); the booking being moved is left out here; the
# visits' sites are joined only when the search has one (else travel is the
# default whatever they are).
_CALENDARS = """
SELECT t.staff_user_id, t.skills, t.working_hours,
       b.starts, b.ends, b.lats, b.lons, o.starts AS off_starts, o.ends AS off_ends
FROM technician t
LEFT JOIN LATERAL (
    SELECT array_agg(floor(date_part('epoch', a.block_starts_at))::bigint) AS starts,
           array_agg(ceil(date_part('epoch', a.block_ends_at))::bigint) AS ends,
           {sites}
    FROM assignment a {join}
    WHERE a.tenant_id = t.tenant_id AND a.technician_id = t.staff_user_id AND a.active
      AND a.block_ends_at > :lo AND a.block_starts_at < :hi
      AND a.work_order_id IS DISTINCT FROM CAST(:ignore AS uuid)
) b ON true
LEFT JOIN LATERAL (
    SELECT array_agg(floor(date_part('epoch', f.starts_at))::bigint) AS starts,
           array_agg(ceil(date_part('epoch', f.ends_at))::bigint) AS ends
    FROM time_off f
    WHERE f.technician_id = t.staff_user_id AND f.ends_at > :lo AND f.starts_at < :hi
) o ON true
WHERE t.active AND t.skills @> CAST(:skills AS varchar[])
  AND (CAST(:ids AS uuid[]) IS NULL OR t.staff_user_id = ANY(CAST(:ids AS uuid[])))
ORDER BY t.staff_user_id
"""
CALENDARS_WITH_SITES = text(
    _CALENDARS.format(
        sites="array_agg(w.latitude) AS lats, array_agg(w.longitude) AS lons",
        join="JOIN work_order w ON w.id = a.work_order_id",
    )
)
CALENDARS_WITHOUT_SITES = text(
    _CALENDARS.format(sites="NULL::float8[] AS lats, NULL::float8[] AS lons", join="")
)


async def calendars(
    uow: UnitOfWork | ReadUnit,
    *,
    start: datetime,
    end: datetime,
    skills: frozenset[str] = frozenset(),
    ids: Sequence[uuid.UUID] | None = None,
    ignore_work_order: str = "",
    with_sites: bool = True,
) -> list[slots.Calendar]:
    """The active technicians with the skills (or of `ids`): their hours, time
    off and busy blocks around [start, end) (a day either side, for buffers
    and travel reaching across), but the work order being moved; the blocks'
    sites only `with_sites` (the search's site is known). `uow` may be a
    ReadUnit (BookVisit's early refusal)."""
    lo, hi = start - timedelta(days=1), end + timedelta(days=1)
    conn = uow if isinstance(uow, ReadUnit) else await uow.session.connection()
    rows = await conn.execute(
        CALENDARS_WITH_SITES if with_sites else CALENDARS_WITHOUT_SITES,
        {
            "lo": lo,
            "hi": hi,
            "ignore": uuid.UUID(ignore_work_order) if ignore_work_order else None,
            "skills": sorted(skills),
            "ids": list(ids) if ids is not None else None,
        },
    )
    out = []
    for tid, skill_list, hours, starts, ends, lats, lons, off_starts, off_ends in rows:
        sites = [
            slots.Site(a, o) if a is not None and o is not None else None
            for a, o in zip(lats or (), lons or (), strict=True)
        ] or [None] * len(starts or ())
        out.append(
            slots.Calendar(
                technician_id=str(tid),
                skills=frozenset(skill_list),
                hours=cal.stretches_of(hours),
                time_off=tuple(
                    (to_datetime(a), to_datetime(b))
                    for a, b in zip(off_starts or (), off_ends or (), strict=True)
                ),
                blocks=Blocks(starts or (), ends or (), sites),
            )
        )
    return out


async def day_load(
    uow: UnitOfWork, technician_ids: Sequence[str], *, day: date, time_zone: str
) -> dict[str, timedelta]:
    """How much of that local day each technician already has booked."""
    lo, hi = slots.day_window(day, zone(time_zone))
    ids = [uuid.UUID(t) for t in technician_ids]
    rows = await uow.session.execute(
        select(
            Assignment.technician_id, Assignment.block_starts_at, Assignment.block_ends_at
        ).where(
            and_(
                Assignment.technician_id.in_(ids),
                Assignment.active.is_(True),
                Assignment.block_ends_at > lo,
                Assignment.block_starts_at < hi,
            )
        )
    )
    load: dict[str, timedelta] = {}
    for tid, s, e in rows:
        load[str(tid)] = load.get(str(tid), timedelta(0)) + (min(e, hi) - max(s, lo))
    return load
