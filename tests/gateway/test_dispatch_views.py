"""What the dispatch pages show, from bookings' answers: days on the booking
zone's clock, the hours form both ways, and a day grouped by technician
with what waits, what no one is on and what bookings flagged."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from gateway.api.bookings.dispatch_shapes import Technician, TimeOff, WorkingHours, WorkOrder
from gateway.pages import console_dispatch_views as views

LONDON = "Europe/London"


def tech(name: str, *, active: bool = True) -> Technician:
    return Technician(
        staff_user_id=uuid.uuid4(),
        full_name=name,
        email=f"{name.lower()}@example.com",
        active=active,
        skills=[],
        home_base="",
        home=None,
        working_hours=[
            WorkingHours(weekday=1, start="13:00", end="17:00"),
            WorkingHours(weekday=1, start="08:00", end="12:00"),
        ],
        has_feed=False,
    )


def order(
    start: datetime, hours: int, techs: list[Technician], *, status="scheduled", conflict=""
) -> WorkOrder:
    return WorkOrder(
        id=uuid.uuid4(),
        kind="install",
        status=status,
        project_id=uuid.uuid4(),
        project_name="Cinema",
        customer_id=uuid.UUID(int=7),
        booking_id=None,
        title="Rack",
        room_id="",
        room_name="Closet",
        products=[],
        tasks=[],
        description="",
        photo_document_ids=[],
        starts_at=start,
        ends_at=start + timedelta(hours=hours),
        buffer_before_minutes=0,
        buffer_after_minutes=0,
        technician_ids=[t.staff_user_id for t in techs],
        conflict=conflict,
        sequence=0,
    )


def test_a_day_across_the_clocks_going_back_is_25_hours_on_the_zones_clock():
    start, end = views.day_window(date(2026, 10, 25), LONDON)
    assert end - start == timedelta(hours=25)
    assert start.astimezone(UTC) == datetime(2026, 10, 24, 23, 0, tzinfo=UTC)


def test_a_wall_time_is_read_on_the_zones_clock_and_nonsense_is_a_sentence():
    at = views.wall_time("2026-07-01", "10:00", LONDON)
    assert at.astimezone(UTC) == datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="09:30"):
        views.wall_time("July 1", "10", LONDON)


def test_the_hours_form_reads_what_it_shows():
    t = tech("Tom")
    assert views.hours_text(t)[1] == "08:00-12:00, 13:00-17:00"
    assert views.hours_on(t, date(2026, 7, 6)) == "08:00-12:00, 13:00-17:00"  # a Monday
    assert views.hours_on(t, date(2026, 7, 7)) == "Not working"
    assert views.parse_hours("08:00-12:00, 13:00-17:00", 1) == [
        (1, "08:00", "12:00"),
        (1, "13:00", "17:00"),
    ]
    assert views.parse_hours("  ", 3) == []
    with pytest.raises(ValueError, match="Wednesday"):
        views.parse_hours("9 to 5", 3)


def test_a_day_groups_visits_by_technician_and_lists_what_needs_someone():
    tom, ana, gone = tech("Tom"), tech("Ana"), tech("Zed", active=False)
    nine = datetime(2026, 7, 6, 8, 0, tzinfo=UTC)  # 09:00 in London
    mine = order(nine, 2, [tom], conflict="Tom is off then")
    theirs = order(nine, 1, [], status="pending")
    legacy = order(nine + timedelta(hours=3), 1, [gone])
    off = TimeOff(
        id=uuid.uuid4(),
        technician_id=ana.staff_user_id,
        starts_at=nine,
        ends_at=nine + timedelta(hours=8),
        reason="Course",
    )
    cal = views.calendar(
        [mine, theirs, legacy],
        [tom, ana, gone],
        [off],
        customers={str(uuid.UUID(int=7)): "The Harrisons"},
        time_zone=LONDON,
        day=date(2026, 7, 6),
    )
    assert [lane.technician.full_name for lane in cal.lanes if lane.technician] == [
        "Ana",
        "Tom",
        "Zed",
    ]
    ana_lane, tom_lane, zed_lane = cal.lanes
    assert ana_lane.visits == [] and "Course" in ana_lane.time_off[0]
    (visit,) = tom_lane.visits
    assert (visit.starts, visit.ends, visit.customer) == ("09:00", "11:00", "The Harrisons")
    assert zed_lane.hours == "No longer a technician"
    assert [v.order.id for v in cal.unassigned] == [theirs.id]
    assert [v.order.id for v in cal.pending] == [theirs.id]
    assert [v.order.id for v in cal.conflicts] == [mine.id]


def test_an_empty_day_is_free_only_for_someone_working_and_not_off():
    tom, ana, sam = tech("Tom"), tech("Ana"), tech("Sam")
    monday = date(2026, 7, 6)  # tech() works Mondays only
    nine = datetime(2026, 7, 6, 8, 0, tzinfo=UTC)
    off = TimeOff(
        id=uuid.uuid4(), technician_id=ana.staff_user_id, starts_at=nine, ends_at=nine, reason=""
    )

    def words(day: date) -> dict[str, str]:
        cal = views.calendar([], [tom, ana, sam], [off], customers={}, time_zone=LONDON, day=day)
        return {lane.technician.full_name: lane.empty_words for lane in cal.lanes}

    assert words(monday) == {
        "Ana": "Nothing booked.",
        "Sam": "Free all day.",
        "Tom": "Free all day.",
    }
    tuesday = words(monday + timedelta(days=1))  # nobody works: "Not working", not "free"
    assert set(tuesday.values()) == {"Nothing booked."}
