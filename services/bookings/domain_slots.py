"""Free slots, computed. Pure: the calendars, the rules, `now` and the zone are
passed in; nothing here reads a clock or a database.

A technician may start a visit at `s` when

- the visit `[s, s + duration)` lies inside one of their working stretches
  (weekly hours on the tenant's wall clock, made instants day by day, so a
  day with a DST change is as long as it really is);
- its block `[s - buffer_before, s + duration + buffer_after)` keeps clear of
  their time off and of every other visit's block (which holds that visit's
  own buffers: the two stack), with travel time between the two sites on top;
- `now + notice <= s <= now + horizon`.

Each condition forbids an open range of starts, so what is allowed is a set
of closed ranges: each yields its first moment (rounded up to 5 minutes) and
then one start per step of the service type, so a free window long enough
always yields a slot, and slots start right after a visit ends rather than on
a fixed grid. A slot is offered when at least one qualified technician may
start then.

Wall times become instants as RFC 5545 section 3.3.5 reads a local time (and
as `zoneinfo` does with fold=0): a time the clock skips in spring is read with
the offset before the gap (02:30 on a night the clock jumps 02:00 -> 03:00 is
03:30), a time it repeats in autumn is its first occurrence. The ICS files we
send read them the same way.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.bookings.domain_sweep import (
    ROUND_S,
    Blocks,
    Search,
    Sweep,
    secs_floor,
    to_datetime,
)

ROUND = timedelta(minutes=5)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Crow-flies distance times this is roughly the road distance; at this speed.
ROAD_FACTOR = 1.3
ROAD_KMH = 40.0


@dataclass(frozen=True)
class Site:
    latitude: float
    longitude: float


@dataclass(frozen=True)
class Busy:
    """Another visit's block (its buffers included) and where it is."""

    start: datetime
    end: datetime
    site: Site | None = None
    work_order_id: str = ""


@dataclass(frozen=True)
class Stretch:
    """Part of a weekday a technician works: ISO weekday (1 = Monday), wall times."""

    weekday: int
    start: time
    end: time


@dataclass(frozen=True)
class Calendar:
    technician_id: str
    skills: frozenset[str]
    hours: tuple[Stretch, ...]
    time_off: tuple[tuple[datetime, datetime], ...] = ()
    busy: tuple[Busy, ...] = ()
    # The many, as columns of seconds (service/common.py reads them so).
    blocks: Blocks = field(default_factory=Blocks)


@dataclass(frozen=True)
class Rules:
    duration: timedelta
    step: timedelta
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)
    notice: timedelta = timedelta(0)
    horizon: timedelta = timedelta(days=30)
    skills: frozenset[str] = frozenset()

    @property
    def span(self) -> timedelta:
        """The whole block a visit takes, buffers included."""
        return self.buffer_before + self.duration + self.buffer_after


@dataclass(frozen=True)
class Travel:
    """Between two visits: from their sites' coordinates when both are known,
    else the integrator's default."""

    default: timedelta = timedelta(minutes=30)

    def between(self, a: Site | None, b: Site | None) -> timedelta:
        if a is None or b is None:
            return self.default
        km = haversine_km(a, b) * ROAD_FACTOR
        minutes = km / ROAD_KMH * 60
        # In whole 5-minute steps, so starts stay on round times.
        return timedelta(minutes=5 * math.ceil(minutes / 5))


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime
    technician_ids: tuple[str, ...] = field(default=())


def haversine_km(a: Site, b: Site) -> float:
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    dlat = lat2 - lat1
    dlon = math.radians(b.longitude - a.longitude)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


def wall_to_utc(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The instant the tenant's clock reads `at` on `day` (RFC 5545 3.3.5)."""
    return datetime.combine(day, at, tzinfo=zone).replace(fold=0).astimezone(UTC)


def days_between(first: date, count: int) -> list[date]:
    return [first + timedelta(days=i) for i in range(count)]


def working_stretches(
    hours: Iterable[Stretch], days: Iterable[date], zone: ZoneInfo
) -> list[tuple[datetime, datetime]]:
    """The instants each stretch covers on each day, in order."""
    by_weekday: dict[int, list[Stretch]] = {}
    for stretch in hours:
        by_weekday.setdefault(stretch.weekday, []).append(stretch)
    out = []
    for day in days:
        for stretch in by_weekday.get(day.isoweekday(), ()):
            start, end = wall_to_utc(day, stretch.start, zone), wall_to_utc(day, stretch.end, zone)
            if end > start:
                out.append((start, end))
    return sorted(out)


def round_up(moment: datetime, unit: timedelta = ROUND) -> datetime:
    steps = math.ceil((moment - EPOCH) / unit)
    return EPOCH + steps * unit


def _sweep(
    rules: Rules,
    *,
    days: Sequence[date],
    zone: ZoneInfo,
    now: datetime,
    site: Site | None,
    travel: Travel,
) -> Sweep:
    return Sweep(Search.of(rules, days=days, zone=zone, now=now, site=site, travel=travel))


def allowed_starts(
    calendar: Calendar,
    rules: Rules,
    *,
    days: Sequence[date],
    zone: ZoneInfo,
    now: datetime,
    site: Site | None = None,
    travel: Travel = Travel(),
    ignore: Callable[[Busy], bool] = lambda _: False,
) -> list[tuple[datetime, datetime]]:
    """Closed ranges of moments the technician may start this visit."""
    sweep = _sweep(rules, days=days, zone=zone, now=now, site=site, travel=travel)
    return [(to_datetime(lo), to_datetime(hi)) for lo, hi in sweep.allowed(calendar, ignore)]


def open_starts(
    calendars: Sequence[Calendar],
    rules: Rules,
    *,
    days: Sequence[date],
    zone: ZoneInfo,
    now: datetime,
    site: Site | None = None,
    travel: Travel = Travel(),
    ignore: Callable[[Busy], bool] = lambda _: False,
) -> list[int]:
    """Every start (epoch seconds) at least one qualified technician is free
    for, in order: what a client is offered, without saying who."""
    sweep = _sweep(rules, days=days, zone=zone, now=now, site=site, travel=travel)
    found: set[int] = set()
    for calendar in calendars:
        found.update(sweep.starts(calendar, ignore))
    return sorted(found)


def free_at(
    start: datetime,
    calendars: Sequence[Calendar],
    rules: Rules,
    *,
    zone: ZoneInfo,
    now: datetime,
    site: Site | None = None,
    travel: Travel = Travel(),
    ignore: Callable[[Busy], bool] = lambda _: False,
) -> tuple[str, ...]:
    """The technicians who may start this visit at `start` (an offered start:
    on the 5-minute grid and on a step from where their free window opens),
    in id order."""
    days = [start.astimezone(zone).date()]
    sweep = _sweep(rules, days=days, zone=zone, now=now, site=site, travel=travel)
    at = secs_floor(start)
    if at != start.timestamp():
        return ()
    step = sweep.search.step
    out = []
    for calendar in calendars:
        for lo, hi in sweep.allowed(calendar, ignore):
            first = -(-lo // ROUND_S) * ROUND_S
            if first <= at <= hi and (at - first) % step == 0:
                out.append(calendar.technician_id)
                break
    return tuple(sorted(out))


def offered_slots(
    calendars: Sequence[Calendar],
    rules: Rules,
    *,
    days: Sequence[date],
    zone: ZoneInfo,
    now: datetime,
    site: Site | None = None,
    travel: Travel = Travel(),
    ignore: Callable[[Busy], bool] = lambda _: False,
) -> list[Slot]:
    """Every start at least one qualified technician is free for, in order,
    with the technicians free then."""
    sweep = _sweep(rules, days=days, zone=zone, now=now, site=site, travel=travel)
    free: dict[int, list[str]] = {}
    for calendar in calendars:
        for start in sweep.starts(calendar, ignore):
            free.setdefault(start, []).append(calendar.technician_id)
    length = rules.duration
    return [
        Slot(at, at + length, tuple(sorted(free[start])))
        for start in sorted(free)
        for at in (to_datetime(start),)
    ]


def choose_technician(
    free: Sequence[str], load: Mapping[str, timedelta], *, keep: str | None = None
) -> str | None:
    """Who takes the visit: the one who had it (a reschedule) if free, else the
    least loaded that day, ties by id so the choice is repeatable."""
    if not free:
        return None
    if keep is not None and keep in free:
        return keep
    return min(free, key=lambda t: (load.get(t, timedelta(0)), t))


def block_of(start: datetime, rules: Rules) -> tuple[datetime, datetime]:
    """The visit's block: what the database's exclusion constraint keeps apart."""
    return start - rules.buffer_before, start + rules.duration + rules.buffer_after


def day_window(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants of one local day (23, 24 or 25 hours long)."""
    return wall_to_utc(day, time(0), zone), wall_to_utc(day + timedelta(days=1), time(0), zone)
