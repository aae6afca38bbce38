"""The refusal dispatch reads when a technician already has a visit: who,
and when that other visit is, on the tenant's clock."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from services.bookings.domain_bookings import SlotTaken, technician_busy

LONDON = ZoneInfo("Europe/London")


def test_a_busy_technician_is_named_with_their_other_visit_on_the_local_clock():
    # 09:00-11:00 UTC in British Summer Time is 10:00-12:00 on the wall.
    refusal = technician_busy(
        "Tom",
        datetime(2026, 6, 3, 9, 0, tzinfo=UTC),
        datetime(2026, 6, 3, 11, 0, tzinfo=UTC),
        on=datetime(2026, 6, 3, 10, 0, tzinfo=UTC),
        tz=LONDON,
    )
    assert isinstance(refusal, SlotTaken) and refusal.code == "slot_taken"
    assert str(refusal).startswith("Tom is already booked 10:00-12:00 on that day")
    assert refusal.field == "technician_ids"


def test_a_visit_that_began_the_day_before_says_its_date():
    refusal = technician_busy(
        "Ana",
        datetime(2026, 1, 5, 22, 0, tzinfo=UTC),
        datetime(2026, 1, 6, 2, 0, tzinfo=UTC),
        on=datetime(2026, 1, 6, 1, 0, tzinfo=UTC),
        tz=LONDON,
    )
    assert "Ana is already booked 22:00-02:00 from 5 Jan" in str(refusal)
