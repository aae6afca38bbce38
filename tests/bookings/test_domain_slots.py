"""Slot computation over generated calendars (hypothesis) and across DST
changes in the zones our integrators work in."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.bookings.domain_slots import (
    Busy,
    Calendar,
    Rules,
    Site,
    Stretch,
    Travel,
    choose_technician,
    offered_slots,
    wall_to_utc,
    working_stretches,
)

M = timedelta(minutes=1)
ZONES = (
    "Europe/London",
    "America/New_York",
    "Australia/Sydney",
    "Asia/Kolkata",
    "America/Sao_Paulo",
)
EVERY_DAY = tuple(Stretch(d, time(9), time(17)) for d in range(1, 8))
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)
FOREVER = timedelta(days=100 * 365)

# (zone, a day the clocks change or, for Kolkata, a day they never do).
CHANGE_DAYS = [
    ("Europe/London", date(2026, 3, 29)),
    ("Europe/London", date(2026, 10, 25)),
    ("America/New_York", date(2026, 3, 8)),
    ("America/New_York", date(2026, 11, 1)),
    ("Australia/Sydney", date(2026, 4, 5)),
    ("Australia/Sydney", date(2026, 10, 4)),
    ("Asia/Kolkata", date(2026, 3, 29)),
    # Brazil has kept no summer time since 2019; its last changes, at midnight.
    ("America/Sao_Paulo", date(2018, 11, 4)),
    ("America/Sao_Paulo", date(2019, 2, 16)),
]
# The stretch a night shift works on each change day, around the change.
NIGHT = {date(2018, 11, 4): (time(0), time(6)), date(2019, 2, 16): (time(19), time(23, 55))}


def rules(minutes: int, step: int | None = None, **kw) -> Rules:
    return Rules(
        duration=minutes * M, step=(step or minutes) * M, horizon=kw.pop("horizon", FOREVER), **kw
    )


def tech(hours=EVERY_DAY, **kw) -> Calendar:
    return Calendar(technician_id=kw.pop("tid", "t1"), skills=frozenset(), hours=hours, **kw)


def local_times(slots, zone: ZoneInfo) -> dict[date, list[str]]:
    out: dict[date, list[str]] = {}
    for s in slots:
        at = s.start.astimezone(zone)
        out.setdefault(at.date(), []).append(at.strftime("%H:%M"))
    return out


@pytest.mark.parametrize(("zone_name", "change"), CHANGE_DAYS)
def test_working_hours_stay_on_the_wall_clock_in_the_weeks_around_a_change(zone_name, change):
    zone = ZoneInfo(zone_name)
    days = [change + timedelta(days=i) for i in range(-7, 8)]
    found = offered_slots([tech()], rules(60), days=days, zone=zone, now=LONG_AGO)
    by_day = local_times(found, zone)
    hours = [f"{h:02d}:00" for h in range(9, 17)]
    assert by_day == {d: hours for d in days}
    assert all(s.end - s.start == 60 * M for s in found)


@pytest.mark.parametrize(("zone_name", "change"), CHANGE_DAYS)
def test_slots_straddling_the_change_last_their_real_length(zone_name, change):
    """A night stretch 00:00-06:00 across the change: as many real hours as
    the clock gives it (5 in spring, 7 in autumn), every two-hour visit two
    real hours, every start a time the clock really shows."""
    zone = ZoneInfo(zone_name)
    start, end = NIGHT.get(change, (time(0), time(6)))
    night = (Stretch(change.isoweekday(), start, end),)
    found = offered_slots(
        [tech(hours=night)], rules(120, 30), days=[change], zone=zone, now=LONG_AGO
    )
    real = wall_to_utc(change, end, zone) - wall_to_utc(change, start, zone)
    assert len(found) == (real - 120 * M) // (30 * M) + 1
    for s in found:
        assert s.end - s.start == 120 * M
        shown = s.start.astimezone(zone)
        # The clock really shows that time: none of a skipped hour is offered.
        back = wall_to_utc(shown.date(), shown.time(), zone).astimezone(zone)
        assert back.replace(tzinfo=None, fold=0) == shown.replace(tzinfo=None, fold=0)
    # Kolkata keeps one offset; Sao Paulo's last change repeats 23:00-24:00,
    # after a stretch ending 23:55 read as its first occurrence (RFC 5545).
    if change not in (date(2026, 3, 29), date(2019, 2, 16)) or zone_name == "Europe/London":
        assert real != datetime.combine(change, end) - datetime.combine(change, start)


def test_london_spring_forward_skips_the_missing_hour_and_autumn_gives_one_back():
    london = ZoneInfo("Europe/London")
    night = lambda day: (Stretch(day.isoweekday(), time(0), time(4)),)  # noqa: E731
    spring = date(2026, 3, 29)
    found = offered_slots(
        [tech(hours=night(spring))], rules(60), days=[spring], zone=london, now=LONG_AGO
    )
    # 00:00 GMT, then the clock jumps 01:00 -> 02:00: 02:00 BST is one real hour
    # later, and the stretch to 04:00 BST is three real hours.
    assert local_times(found, london)[spring] == ["00:00", "02:00", "03:00"]
    autumn = date(2026, 10, 25)
    found = offered_slots(
        [tech(hours=night(autumn))], rules(60), days=[autumn], zone=london, now=LONG_AGO
    )
    # 01:00 happens twice; both are offered, each a real hour.
    starts = [s.start.astimezone(london) for s in found]
    assert [s.strftime("%H:%M %Z") for s in starts] == [
        "00:00 BST",
        "01:00 BST",
        "01:00 GMT",
        "02:00 GMT",
        "03:00 GMT",
    ]


def test_buffers_stack_with_the_neighbours_and_travel_comes_on_top():
    day = date(2026, 6, 10)  # a Wednesday
    utc = ZoneInfo("UTC")
    at = lambda h, m=0: datetime(2026, 6, 10, h, m, tzinfo=UTC)  # noqa: E731
    # Another visit 10:00-11:00 whose block (its own 15 minutes each side) is 09:45-11:15.
    busy = (Busy(at(9, 45), at(11, 15)),)
    r = rules(60, 5, buffer_before=timedelta(minutes=10), buffer_after=timedelta(minutes=5))
    hours = (Stretch(3, time(7), time(17)),)
    found = offered_slots(
        [tech(hours=hours, busy=busy)],
        r,
        days=[day],
        zone=utc,
        now=LONG_AGO,
        travel=Travel(timedelta(minutes=20)),
    )
    starts = {s.start for s in found}
    # Before it: the visit, its 5 minutes after and 20 of travel end by 09:45.
    assert at(8, 20) in starts and at(8, 25) not in starts
    # After it: 11:15, 20 of travel, our 10 minutes before: 11:45.
    assert at(11, 40) not in starts and at(11, 45) in starts
    assert not any(at(8, 25) <= s < at(11, 45) for s in starts)


def test_notice_and_horizon_bound_the_offer():
    utc = ZoneInfo("UTC")
    now = datetime(2026, 6, 10, 12, 7, tzinfo=UTC)
    days = [date(2026, 6, 10) + timedelta(days=i) for i in range(5)]
    found = offered_slots(
        [tech()],
        Rules(duration=60 * M, step=60 * M, notice=timedelta(hours=24), horizon=timedelta(days=2)),
        days=days,
        zone=utc,
        now=now,
    )
    assert min(s.start for s in found) >= now + timedelta(hours=24)
    assert max(s.start for s in found) <= now + timedelta(days=2)
    # The first start is the first round time after the notice, not the grid's.
    assert found[0].start == datetime(2026, 6, 11, 12, 10, tzinfo=UTC)


def test_skills_decide_who_may_go_and_the_least_loaded_is_chosen():
    utc = ZoneInfo("UTC")
    day = [date(2026, 6, 10)]
    a = Calendar("a", frozenset({"networking"}), EVERY_DAY)
    b = Calendar("b", frozenset({"networking", "cinema calibration"}), EVERY_DAY)
    r = Rules(
        duration=60 * M, step=60 * M, horizon=FOREVER, skills=frozenset({"cinema calibration"})
    )
    found = offered_slots([a, b], r, days=day, zone=utc, now=LONG_AGO)
    assert {s.technician_ids for s in found} == {("b",)}
    assert choose_technician(["a", "b"], {"a": 3 * 60 * M, "b": 60 * M}) == "b"
    assert choose_technician(["a", "b"], {"a": 3 * 60 * M}, keep="a") == "a"
    assert choose_technician(["a", "b"], {}) == "a"
    assert choose_technician([], {}) is None


def test_travel_from_coordinates_when_both_sites_are_known():
    london, oxford = Site(51.5074, -0.1278), Site(51.752, -1.2577)
    travel = Travel(timedelta(minutes=30))
    assert travel.between(london, None) == 30 * M
    assert travel.between(london, london) == timedelta(0)
    # ~80 km crow-flies, ~104 km by road at 40 km/h: 2h40 in 5-minute steps.
    assert timedelta(hours=2) < travel.between(london, oxford) < timedelta(hours=3)
    assert travel.between(london, oxford).total_seconds() % 300 == 0


# -- generated calendars ---------------------------------------------------------------------

FIVE = timedelta(minutes=5)


@st.composite
def calendars(draw):
    zone = ZoneInfo(draw(st.sampled_from(ZONES)))
    first = draw(st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 25)))
    days = [first + timedelta(days=i) for i in range(3)]
    hours = []
    for d in range(1, 8):
        if draw(st.booleans()) or d == first.isoweekday():
            s = draw(st.integers(5 * 12, 11 * 12))  # in 5-minute steps
            e = draw(st.integers(s + 6, 22 * 12))
            hours.append(Stretch(d, time(s // 12, s % 12 * 5), time(e // 12, e % 12 * 5)))
    origin = datetime.combine(first, time(0), tzinfo=zone).astimezone(UTC)

    def interval():
        start = origin + draw(st.integers(0, 3 * 24 * 12)) * FIVE
        return start, start + draw(st.integers(1, 48)) * FIVE

    busy = tuple(
        sorted((Busy(*interval()) for _ in range(draw(st.integers(0, 12)))), key=lambda b: b.start)
    )
    off = tuple(interval() for _ in range(draw(st.integers(0, 2))))
    r = Rules(
        duration=draw(st.integers(1, 36)) * FIVE,
        step=draw(st.integers(1, 24)) * FIVE,
        buffer_before=draw(st.integers(0, 12)) * FIVE,
        buffer_after=draw(st.integers(0, 12)) * FIVE,
        notice=draw(st.integers(0, 48)) * FIVE,
        horizon=FOREVER,
    )
    now = origin + draw(st.integers(-100, 12 * 12)) * FIVE
    travel = Travel(draw(st.integers(0, 12)) * FIVE)
    return zone, days, Calendar("t", frozenset(), tuple(hours), off, busy), r, now, travel


def may_start(at: datetime, cal: Calendar, r: Rules, stretches, now, travel) -> bool:
    """The rule, checked the slow way for one moment."""
    if at < now + r.notice:
        return False
    if not any(s <= at and at + r.duration <= e for s, e in stretches):
        return False
    lo, hi = at - r.buffer_before, at + r.duration + r.buffer_after
    if any(a < hi and lo < b for a, b in cal.time_off):
        return False
    return all(lo >= b.end + travel.default or hi + travel.default <= b.start for b in cal.busy)


@settings(max_examples=300, deadline=None)
@given(calendars())
def test_offered_slots_never_overlap_a_busy_block_and_every_free_window_yields_one(case):
    zone, days, cal, r, now, travel = case
    found = offered_slots([cal], r, days=days, zone=zone, now=now, travel=travel)
    stretches = working_stretches(cal.hours, days, zone)
    # Sound: every slot is a moment the technician may start (buffers, travel, time off).
    for s in found:
        assert may_start(s.start, cal, r, stretches, now, travel), s
    # Complete: each run of moments they may start (on the 5-minute grid) holds a slot.
    starts = {s.start for s in found}
    for w_start, w_end in stretches:
        run: list[datetime] = []
        at = w_start
        while at <= w_end:
            if may_start(at, cal, r, stretches, now, travel):
                run.append(at)
            elif run:
                assert starts & set(run), (run[0], run[-1])
                run = []
            at += FIVE
        if run:
            assert starts & set(run), (run[0], run[-1])
