"""The slot rules on epoch seconds (domain_sweep): the columns the database
hands over give the slots `Busy` objects give, the client's list and the
booking's check agree with `offered_slots`, and the answer's local times hold
across a DST change."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings

from services.bookings.domain_slots import (
    Busy,
    Calendar,
    Rules,
    Site,
    Stretch,
    Travel,
    free_at,
    offered_slots,
    open_starts,
)
from services.bookings.domain_sweep import Blocks, merged, starts_in, subtract
from services.bookings.grpc_api.convert import slots_pb
from services.bookings.service.availability import SlotList
from tests.bookings.test_domain_slots import calendars as generated

M = timedelta(minutes=1)
EVERY_DAY = tuple(Stretch(d, time(9), time(17)) for d in range(1, 8))


def test_merged_joins_overlaps_but_leaves_a_touching_second_allowed():
    assert merged([(50, 60), (0, 10), (5, 20), (20, 30)]) == [(0, 20), (20, 30), (50, 60)]


def test_subtract_cuts_the_blocked_ranges_out_of_each_stretch():
    # Two stretches [0, 100] and [200, 300], 10-second visits, blocked (20, 40) and (250, 400).
    found = subtract(
        [(0, 100), (200, 300)], [(20, 40), (250, 400)], duration=10, earliest=5, latest=1000
    )
    assert found == [(5, 20), (40, 90), (200, 250)]


def test_starts_in_begin_on_a_five_minute_mark_and_step_on():
    assert starts_in([(1, 1200), (1300, 1310)], 600) == [300, 900]


def _with_columns(cal: Calendar) -> Calendar:
    """The same calendar with its visits as the database hands them over."""
    return Calendar(
        cal.technician_id,
        cal.skills,
        cal.hours,
        cal.time_off,
        blocks=Blocks(
            [int(b.start.timestamp()) for b in cal.busy],
            [int(b.end.timestamp()) for b in cal.busy],
            [b.site for b in cal.busy],
        ),
    )


@settings(max_examples=150, deadline=None)
@given(generated())
def test_columns_of_seconds_give_the_slots_busy_objects_give(case):
    zone, days, cal, r, now, travel = case
    kw = {"days": days, "zone": zone, "now": now, "travel": travel}
    by_objects = offered_slots([cal], r, **kw)
    assert offered_slots([_with_columns(cal)], r, **kw) == by_objects
    assert open_starts([cal], r, **kw) == [int(s.start.timestamp()) for s in by_objects]
    for s in by_objects:
        assert free_at(s.start, [cal], r, zone=zone, now=now, travel=travel) == ("t",)


def test_free_at_names_who_is_free_and_refuses_a_start_off_their_step():
    zone = ZoneInfo("Europe/London")
    day = date(2026, 6, 1)
    nine = datetime(2026, 6, 1, 8, tzinfo=UTC)  # 09:00 BST
    busy = Busy(nine, nine + 2 * 60 * M, Site(51.5, -0.12))
    a = Calendar("a", frozenset(), EVERY_DAY)
    b = Calendar("b", frozenset(), EVERY_DAY, busy=(busy,))
    r = Rules(duration=60 * M, step=60 * M)
    kw = {"zone": zone, "now": nine - timedelta(days=1), "travel": Travel(30 * M)}
    assert free_at(nine, [a, b], r, **kw) == ("a",)
    assert free_at(nine + 30 * M, [a, b], r, **kw) == ()  # a's starts are on the hour
    later = nine + 4 * 60 * M  # b is free again 30 minutes after 11:00, on 11:30's steps
    assert free_at(later + 30 * M, [a, b], r, **kw) == ("b",)
    assert open_starts([a, b], r, days=[day], **kw)[:3] == [
        int((nine + n * 30 * M).timestamp()) for n in (0, 2, 4)
    ]


def test_the_answer_reads_local_times_across_the_autumn_change():
    zone = ZoneInfo("Europe/London")
    # 2026-10-25: 01:00-02:00 BST, then the clock goes back to 01:00 GMT.
    first = int(datetime(2026, 10, 24, 23, 30, tzinfo=UTC).timestamp())
    starts = [first + n * 15 * 60 for n in range(12)]
    answer = slots_pb(SlotList(starts, 3600), zone, time_zone=zone.key).slots
    expected = [datetime.fromtimestamp(s, zone).strftime("%H:%M") for s in starts]
    assert [s.local_time for s in answer] == expected
    assert expected[:2] == ["00:30", "00:45"] and "01:00" in expected[2:]
    assert [s.local_date for s in answer] == ["2026-10-25"] * 12
    assert answer[0].ends_at.seconds - answer[0].starts_at.seconds == 3600
