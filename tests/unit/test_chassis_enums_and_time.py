"""Enum names both ways, and dates on the tenant's clock."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from portal.identity.v1 import identity_pb2
from portal.notifications.v1 import notifications_pb2
from portal.projects.v1 import projects_pb2

from services.chassis import enums, timefmt


def test_short_names_and_labels_come_from_the_enum_itself():
    Stage = projects_pb2.Stage
    assert enums.short_name(Stage, projects_pb2.STAGE_COMMISSIONING) == "commissioning"
    assert enums.label(Stage, projects_pb2.STAGE_COMMISSIONING) == "Commissioning"
    assert enums.value(Stage, "install") == projects_pb2.STAGE_INSTALL
    assert enums.short_name(identity_pb2.StaffRole, identity_pb2.STAFF_ROLE_PROJECT_MANAGER) == (
        "project_manager"
    )
    assert enums.label(identity_pb2.StaffRole, identity_pb2.STAFF_ROLE_PROJECT_MANAGER) == (
        "Project manager"
    )
    assert enums.short_name(identity_pb2.LoginTokenPurpose, 3) == "password_reset"
    assert enums.value(notifications_pb2.EmailStatus, "SENT") == notifications_pb2.EMAIL_STATUS_SENT
    assert enums.names(identity_pb2.AccessState) == ("active", "archived", "deleted", "purged")


def test_unspecified_and_unknown_numbers():
    Stage = projects_pb2.Stage
    assert enums.short_name(Stage, 0) == "unspecified"
    assert enums.known_name(Stage, 0) is None
    assert enums.known_name(Stage, 99) is None
    assert enums.label(Stage, 99) == "\u2014"
    assert enums.short_name(Stage, 99, unknown="unknown(99)") == "unknown(99)"
    with pytest.raises(ValueError):
        enums.short_name(Stage, 99)
    with pytest.raises(ValueError):
        enums.value(Stage, "nowhere")


def test_every_value_of_every_enum_round_trips():
    for enum in (
        projects_pb2.Stage,
        projects_pb2.ProposalStatus,
        identity_pb2.StaffRole,
        identity_pb2.ContactRole,
        identity_pb2.AccessState,
        identity_pb2.LoginTokenPurpose,
        notifications_pb2.EmailStatus,
    ):
        for number in enum.values():
            assert enums.value(enum, enums.short_name(enum, number)) == number


def test_dates_and_moments_read_one_way_on_the_tenants_clock():
    assert timefmt.format_date("2026-03-12") == "12 Mar 2026"
    assert timefmt.format_date(date(2026, 3, 2)) == "2 Mar 2026"
    assert timefmt.format_date("") == timefmt.format_date("nonsense") == ""
    late = datetime(2025, 11, 25, 23, 30, tzinfo=UTC)
    assert timefmt.format_date(late, "Asia/Tokyo") == "26 Nov 2025"  # already tomorrow there
    assert timefmt.format_datetime(late, "America/New_York") == "25 Nov 2025, 18:30 EST"
    ts = Timestamp()
    ts.FromDatetime(late)
    assert timefmt.format_datetime(ts, "Europe/London") == "25 Nov 2025, 23:30 GMT"
    assert timefmt.format_datetime(Timestamp()) == timefmt.format_datetime(None) == "\u2014"


def test_summer_time_is_applied_per_instant():
    before = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # the night the UK clocks go forward
    after = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert timefmt.format_datetime(before, "Europe/London") == "29 Mar 2026, 00:30 GMT"
    assert timefmt.format_datetime(after, "Europe/London") == "29 Mar 2026, 02:30 BST"


def test_an_unknown_zone_falls_back_to_utc_and_naive_times_are_refused():
    moment = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    assert timefmt.format_datetime(moment, "Mars/Olympus") == "5 Jan 2026, 09:00 UTC"
    assert timefmt.format_datetime(moment, "") == "5 Jan 2026, 09:00 UTC"
    with pytest.raises(ValueError):
        timefmt.format_datetime(datetime(2026, 1, 5, 9, 0))


def test_a_zone_reads_in_plain_words_never_its_raw_name():
    assert timefmt.zone_words("America/New_York") == "New York time"
    assert timefmt.zone_words("America/Argentina/Buenos_Aires") == "Buenos Aires time"
    assert timefmt.zone_words("UTC") == timefmt.zone_words("") == "UTC"
    assert timefmt.zone_words("EST5EDT") == "local time"
    # A zone whose abbreviation is only an offset ("+04") is named by its place.
    at = datetime(2025, 11, 25, 18, 5, tzinfo=UTC)
    assert timefmt.format_datetime(at, "Asia/Dubai") == "25 Nov 2025, 22:05 Dubai time"
    assert timefmt.format_datetime(at, "America/New_York") == "25 Nov 2025, 13:05 EST"


def test_the_zone_picker_offers_places_by_region_and_no_aliases():
    groups = dict(timefmt.zone_choices())
    names = list(groups)
    assert (names[0], names[-1]) == ("Africa", "Other")
    america = dict(groups["America"])
    assert america["America/New_York"] == "New York"
    assert america["America/Argentina/Buenos_Aires"] == "Buenos Aires, Argentina"
    offered = {name for zones in groups.values() for name, _ in zones}
    assert "Europe/London" in offered and "UTC" in offered
    assert not offered & {"US/Eastern", "EST5EDT", "Etc/GMT+5", "GB"}


def test_a_schedule_impact_reads_the_same_on_pages_and_in_the_certificate():
    assert [timefmt.format_days_change(n) for n in (2, 1, 0, None, -1, -3)] == [
        "+2 days",
        "+1 day",
        "No change",
        "No change",
        "-1 day",
        "-3 days",
    ]
