"""The slot rules of domain_slots on whole epoch seconds: the hot loop of a
month's search (20 technicians, thousands of visits) without a datetime,
timedelta or object per visit. Pure, like domain_slots; its functions call in
here and keep their datetime signatures.

A start `s` is an integer second. An open range of forbidden starts `(lo, hi)`
forbids exactly the integers `floor(lo) < s < ceil(hi)`, so busy blocks and
time off are read with their starts floored and their ends ceiled (the
database hands them over so, see service/common.py) and the answer is the
same as on datetimes for every start on the 5-minute grid.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from services.bookings.domain_slots import Busy, Calendar, Rules, Site, Stretch, Travel

ROUND_S = 300  # starts are on 5-minute marks


@dataclass(frozen=True)
class Blocks:
    """Busy blocks (buffers included) as the database hands them over:
    parallel columns of epoch seconds, in any order, and each visit's site
    (None: unknown, or not asked for because the search has no site).
    Thousands of visits cost no object each; `Calendar.busy` still takes
    `Busy` objects for callers with a few."""

    starts: Sequence[int] = ()
    ends: Sequence[int] = ()
    sites: Sequence[Site | None] = ()


def secs_floor(moment: datetime) -> int:
    return math.floor(moment.timestamp())


def secs_ceil(moment: datetime) -> int:
    return math.ceil(moment.timestamp())


def to_datetime(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


@dataclass(frozen=True)
class Search:
    """What every technician of one search shares, worked out once: the rules
    in seconds, the window, travel from the site to each other site."""

    duration: int
    step: int
    before: int
    after: int
    earliest: int
    latest: int
    skills: frozenset[str]
    site: Site | None
    travel: Travel
    days: tuple[date, ...]
    zone: ZoneInfo

    @classmethod
    def of(
        cls,
        rules: Rules,
        *,
        days: Sequence[date],
        zone: ZoneInfo,
        now: datetime,
        site: Site | None,
        travel: Travel,
    ) -> Search:
        return cls(
            duration=int(rules.duration.total_seconds()),
            step=max(1, int(rules.step.total_seconds())),
            before=int(rules.buffer_before.total_seconds()),
            after=int(rules.buffer_after.total_seconds()),
            earliest=secs_ceil(now + rules.notice),
            latest=secs_floor(now + rules.horizon),
            skills=rules.skills,
            site=site,
            travel=travel,
            days=tuple(days),
            zone=zone,
        )


class Sweep:
    """One search over many technicians: working stretches per distinct week
    of hours and travel per distinct site are computed once, not per
    technician or per visit."""

    def __init__(self, search: Search) -> None:
        self.search = search
        self._stretches: dict[tuple[Stretch, ...], list[tuple[int, int]]] = {}
        self._travel: dict[tuple[float, float], int] = {}
        self._default = int(search.travel.default.total_seconds())

    def stretches(self, hours: tuple[Stretch, ...]) -> list[tuple[int, int]]:
        found = self._stretches.get(hours)
        if found is None:
            from services.bookings.domain_slots import working_stretches

            s = self.search
            found = [
                (secs_ceil(a), secs_floor(b)) for a, b in working_stretches(hours, s.days, s.zone)
            ]
            self._stretches[hours] = found
        return found

    def travel_to(self, other: Site | None) -> int:
        """Seconds between the search's site and `other` (the same both ways)."""
        if other is None or self.search.site is None:
            return self._default
        key = (other.latitude, other.longitude)
        found = self._travel.get(key)
        if found is None:
            found = int(self.search.travel.between(self.search.site, other).total_seconds())
            self._travel[key] = found
        return found

    def forbidden(
        self, calendar: Calendar, ignore: Callable[[Busy], bool]
    ) -> list[tuple[int, int]]:
        """The merged open ranges of starts the calendar rules out."""
        s = self.search
        reach_back, reach_on = s.after + s.duration, s.before
        ranges = [
            (secs_floor(lo) - reach_back, secs_ceil(hi) + reach_on) for lo, hi in calendar.time_off
        ]
        blocks = calendar.blocks
        if s.site is None or not any(blocks.sites):
            t = self._default
            ranges.extend(
                zip(
                    [b - t - reach_back for b in blocks.starts],
                    [e + t + reach_on for e in blocks.ends],
                    strict=True,
                )
            )
        else:
            for b, e, where in zip(blocks.starts, blocks.ends, blocks.sites, strict=True):
                t = self.travel_to(where)
                ranges.append((b - t - reach_back, e + t + reach_on))
        for busy in calendar.busy:
            if not ignore(busy):
                t = self.travel_to(busy.site)
                ranges.append(
                    (secs_floor(busy.start) - t - reach_back, secs_ceil(busy.end) + t + reach_on)
                )
        return merged(ranges)

    def allowed(
        self, calendar: Calendar, ignore: Callable[[Busy], bool] = lambda _: False
    ) -> list[tuple[int, int]]:
        """Closed ranges of seconds the technician may start this visit."""
        s = self.search
        if not s.skills <= calendar.skills:
            return []
        return subtract(
            self.stretches(calendar.hours),
            self.forbidden(calendar, ignore),
            duration=s.duration,
            earliest=s.earliest,
            latest=s.latest,
        )

    def starts(self, calendar: Calendar, ignore: Callable[[Busy], bool] = lambda _: False):
        return starts_in(self.allowed(calendar, ignore), self.search.step)


def merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Open ranges merged where they overlap (two that only touch leave the
    touching second allowed)."""
    ranges.sort()
    out: list[tuple[int, int]] = []
    for lo, hi in ranges:
        if out and lo < out[-1][1]:
            if hi > out[-1][1]:
                out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out


def subtract(
    stretches: Iterable[tuple[int, int]],
    blocked: Sequence[tuple[int, int]],
    *,
    duration: int,
    earliest: int,
    latest: int,
) -> list[tuple[int, int]]:
    """Closed ranges of starts inside the stretches (the visit fits before
    each one ends), within [earliest, latest], outside the merged open
    `blocked` ranges: one sweep, both lists in order."""
    out: list[tuple[int, int]] = []
    i, n = 0, len(blocked)
    for work_start, work_end in stretches:
        lo = work_start if work_start > earliest else earliest
        hi = work_end - duration
        if hi > latest:
            hi = latest
        # Ranges ending at or before lo rule nothing out from here on.
        while i < n and blocked[i][1] <= lo:
            i += 1
        j = i
        while lo <= hi:
            if j >= n or blocked[j][0] >= hi:
                out.append((lo, hi))
                break
            b_lo, b_hi = blocked[j]
            if b_lo >= lo:
                out.append((lo, b_lo))
            if b_hi > lo:
                lo = b_hi
            j += 1
    return out


def starts_in(ranges: Iterable[tuple[int, int]], step: int) -> list[int]:
    """Each range's first 5-minute mark, then one per step."""
    out: list[int] = []
    for lo, hi in ranges:
        first = -(-lo // ROUND_S) * ROUND_S
        if first <= hi:
            out.extend(range(first, hi + 1, step))
    return out
