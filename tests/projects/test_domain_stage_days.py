"""The day a stage move writes is the integrator's day, not the server's (UTC);
the moment a stage's note is dated."""

from datetime import UTC, date, datetime, timedelta

import pytest

from services.chassis.errors import InvalidArgument
from services.projects.domain import Stage
from services.projects.domain_stages import (
    StageDates,
    note_written_at,
    plan_stage_change,
    tenant_today,
)

LOS_ANGELES = "America/Los_Angeles"
AUCKLAND = "Pacific/Auckland"


def test_half_past_eleven_at_night_in_los_angeles_is_that_day_not_utcs_next():
    # 07:30 UTC on 15 January is 23:30 on the 14th in Los Angeles (PST, UTC-8).
    now = datetime(2026, 1, 15, 7, 30, tzinfo=UTC)
    assert tenant_today(now, LOS_ANGELES) == date(2026, 1, 14)
    assert tenant_today(now, "UTC") == date(2026, 1, 15)


def test_just_after_midnight_in_auckland_is_already_tomorrow_there():
    # 12:05 UTC on 10 June is 00:05 on 11 June in Auckland (NZST, UTC+12, its winter).
    now = datetime(2026, 6, 10, 12, 5, tzinfo=UTC)
    assert tenant_today(now, AUCKLAND) == date(2026, 6, 11)
    assert tenant_today(datetime(2026, 6, 10, 11, 55, tzinfo=UTC), AUCKLAND) == date(2026, 6, 10)


@pytest.mark.parametrize(
    ("utc", "day"),
    [
        # US summer time starts 8 March 2026 at 02:00 local: the offset goes -8 -> -7.
        (datetime(2026, 3, 8, 7, 59, tzinfo=UTC), date(2026, 3, 7)),  # 23:59 PST on the 7th
        (datetime(2026, 3, 8, 8, 0, tzinfo=UTC), date(2026, 3, 8)),  # 00:00 PST on the 8th
        (datetime(2026, 3, 9, 6, 59, tzinfo=UTC), date(2026, 3, 8)),  # 23:59 PDT on the 8th
        (datetime(2026, 3, 9, 7, 0, tzinfo=UTC), date(2026, 3, 9)),  # 00:00 PDT on the 9th
        # It ends 1 November 2026 at 02:00 local: -7 -> -8.
        (datetime(2026, 11, 1, 6, 59, tzinfo=UTC), date(2026, 10, 31)),  # 23:59 PDT
        (datetime(2026, 11, 2, 7, 59, tzinfo=UTC), date(2026, 11, 1)),  # 23:59 PST
        (datetime(2026, 11, 2, 8, 0, tzinfo=UTC), date(2026, 11, 2)),  # 00:00 PST
    ],
)
def test_midnight_follows_the_zones_summer_time(utc, day):
    assert tenant_today(utc, LOS_ANGELES) == day


def test_an_unknown_or_empty_zone_reads_as_utc():
    now = datetime(2026, 3, 11, 7, 30, tzinfo=UTC)
    assert tenant_today(now, "") == date(2026, 3, 11)
    assert tenant_today(now, "Mars/Olympus_Mons") == date(2026, 3, 11)


def test_a_naive_moment_is_refused_rather_than_guessed():
    with pytest.raises(ValueError, match="naive"):
        tenant_today(datetime(2026, 3, 11, 7, 30), LOS_ANGELES)


def test_a_late_evening_move_in_los_angeles_dates_both_stages_that_evening():
    """The bug: at 23:30 in LA the move finished design and started procurement
    on UTC's next day."""
    plan = plan_stage_change(
        Stage.DESIGN,
        Stage.PROCUREMENT,
        reason="",
        client_note="",
        dates={Stage.DESIGN: StageDates(actual_start=date(2026, 1, 5))},
        now=datetime(2026, 1, 15, 7, 30, tzinfo=UTC),  # 23:30 PST on the 14th
        time_zone=LOS_ANGELES,
    )
    assert plan.dates[Stage.DESIGN].actual_finish == date(2026, 1, 14)
    assert plan.dates[Stage.PROCUREMENT].actual_start == date(2026, 1, 14)


NOW = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)


def test_a_note_is_dated_now_unless_it_was_written_earlier():
    assert note_written_at(None, NOW) == NOW
    earlier = NOW - timedelta(days=50)
    assert note_written_at(earlier, NOW) == earlier


@pytest.mark.parametrize(
    "written", [NOW + timedelta(seconds=1), datetime(1999, 12, 31, 12, 0, tzinfo=UTC)]
)
def test_a_note_from_the_future_or_before_the_calendar_is_refused_on_its_date(written):
    with pytest.raises(InvalidArgument) as err:
        note_written_at(written, NOW)
    assert err.value.field == "note_written_at"
