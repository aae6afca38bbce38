"""The pure rules around slots: service types, hours, who may book, cut-offs,
and the .ics every change sends (UID, SEQUENCE, UTC and TZID)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from services.bookings.domain_bookings import (
    BookingStatus,
    NotBookable,
    PastCutoff,
    ProjectFacts,
    WorkOrderStatus,
    check_cutoff,
    check_visit_request,
    check_work_order_move,
    may_book,
    status_after_reschedule,
)
from services.bookings.domain_calendar import check_hours, check_service_type, rules_of
from services.bookings.domain_ics import Visit, feed_ics, uid_for, visit_ics
from services.chassis.errors import InvalidArgument, InvalidTransition

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def test_who_may_book_follows_the_service_types_rule():
    handed_over, contract = ProjectFacts("handover", False), ProjectFacts("install", True)
    may_book(handed_over, allow_service_contract=False, allow_after_handover=True)
    may_book(contract, allow_service_contract=True, allow_after_handover=False)
    with pytest.raises(NotBookable, match="service contract"):
        may_book(handed_over, allow_service_contract=True, allow_after_handover=False)
    with pytest.raises(NotBookable, match="handed over"):
        may_book(None, allow_service_contract=True, allow_after_handover=True)


def test_cut_offs_hold_clients_only():
    start = NOW + timedelta(hours=10)
    with pytest.raises(PastCutoff, match="24 hours before"):
        check_cutoff(
            "cancelled", starts_at=start, now=NOW, cutoff=timedelta(hours=24), by_client=True
        )
    check_cutoff("cancelled", starts_at=start, now=NOW, cutoff=timedelta(hours=24), by_client=False)
    check_cutoff("cancelled", starts_at=start, now=NOW, cutoff=timedelta(hours=9), by_client=True)


def test_a_clients_move_waits_for_staff_again_when_the_type_needs_confirming():
    confirmed = BookingStatus.CONFIRMED
    assert (
        status_after_reschedule(confirmed, requires_confirmation=True, by_client=True) == "pending"
    )
    assert (
        status_after_reschedule(confirmed, requires_confirmation=True, by_client=False) == confirmed
    )
    with pytest.raises(InvalidTransition):
        check_work_order_move(WorkOrderStatus.COMPLETED, WorkOrderStatus.SCHEDULED)


def test_service_types_are_checked_whole_and_name_the_field():
    spec = check_service_type(
        {"name": "Calibration", "duration_minutes": 90, "skills": ["Cinema  Calibration"]}
    )
    assert spec.skills == ("cinema calibration",)
    rules = rules_of(spec, for_client=True)
    assert rules.step == rules.duration == timedelta(minutes=90)
    assert rules_of(spec, for_client=False).notice == timedelta(0)
    for bad, field in [
        ({"duration_minutes": 7}, "duration_minutes"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"horizon_days": 0}, "horizon_days"),
        (
            {"allow_service_contract": False, "allow_after_handover": False},
            "allow_service_contract",
        ),
    ]:
        with pytest.raises(InvalidArgument) as err:
            check_service_type({"name": "X", "duration_minutes": 60, **bad})
        assert err.value.field == field


def test_weekly_hours_refuse_overlaps_and_backwards_stretches():
    assert check_hours([(1, "13:00", "17:00"), (1, "08:00", "12:00")])[0]["start"] == "08:00"
    with pytest.raises(InvalidArgument, match="overlap on Monday"):
        check_hours([(1, "08:00", "12:00"), (1, "11:00", "17:00")])
    with pytest.raises(InvalidArgument, match="after the start") as err:
        check_hours([(2, "17:00", "09:00")])
    assert err.value.field == "working_hours[0].end"
    with pytest.raises(InvalidArgument):
        check_hours([(8, "09:00", "17:00")])


def test_products_need_their_room_and_ids_are_uuids():
    with pytest.raises(InvalidArgument, match="room"):
        check_visit_request(
            room_id="",
            product_line_ids=["6f0f5d8e-6a43-4d55-9a0b-3c7e2d1f0a11"],
            description="x",
            photos=[],
        )
    with pytest.raises(InvalidArgument) as err:
        check_visit_request(room_id="", product_line_ids=[], description="  ", photos=[])
    assert err.value.field == "description"


@pytest.mark.parametrize(
    ("zone", "local"),
    [
        ("Europe/London", datetime(2026, 3, 29, 9, 0)),
        ("America/New_York", datetime(2026, 11, 1, 1, 30)),  # the first of two 01:30s
        ("Australia/Sydney", datetime(2026, 10, 4, 9, 0)),
        ("Asia/Kolkata", datetime(2026, 3, 29, 9, 30)),
        ("America/Sao_Paulo", datetime(2026, 7, 1, 14, 0)),
    ],
)
def test_the_ics_carries_the_site_clock_with_tzid_and_utc_stamps(zone, local):
    tz = ZoneInfo(zone)
    start = local.replace(tzinfo=tz).astimezone(UTC)
    visit = Visit(
        uid=uid_for("booking", "b1"),
        sequence=3,
        summary="Projector check",
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        time_zone=zone,
    )
    calendar = Calendar.from_ical(visit_ics(visit, stamp=NOW))
    (event,) = calendar.walk("VEVENT")
    assert str(event["uid"]) == "booking-b1@bookings.integrator-portal"
    assert int(event["sequence"]) == 3
    assert event["dtstart"].params["TZID"] == zone
    assert event["dtstart"].to_ical().decode() == local.strftime("%Y%m%dT%H%M%S")
    assert event.decoded("dtstart").astimezone(UTC) == start
    assert event.decoded("dtend").astimezone(UTC) == start + timedelta(hours=1)
    if zone == "America/New_York":
        # 01:30 EDT + 1 h is the second 01:30 (EST): TZID cannot name it, UTC can.
        assert event["dtend"].to_ical().decode() == "20261101T063000Z"
    assert event["dtstamp"].to_ical().decode() == "20260601T120000Z"
    (vtz,) = calendar.walk("VTIMEZONE")
    assert str(vtz["tzid"]) == zone
    cancelled = Visit(**{**visit.__dict__, "cancelled": True, "sequence": 4})
    (gone,) = Calendar.from_ical(feed_ics("Tom", [cancelled], stamp=NOW)).walk("VEVENT")
    assert (str(gone["status"]), int(gone["sequence"])) == ("CANCELLED", 4)
