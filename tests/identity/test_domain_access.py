"""The customer access state machine, with an injected clock."""

from datetime import UTC, datetime, timedelta

import pytest

from services.chassis.errors import InvalidArgument, InvalidTransition
from services.identity import domain_access as access

NOW = datetime(2025, 3, 30, 1, 30, tzinfo=UTC)  # a DST night in Europe: UTC does not care
DAY = timedelta(days=1)


@pytest.mark.parametrize(
    ("current", "target"),
    [("active", "archived"), ("archived", "active")],
)
def test_archive_and_restore_move_freely_without_a_purge_date(current, target):
    change = access.plan_access_change(current, target, purge_after=None, now=NOW)
    assert (change.from_state, change.to_state, change.changed) == (current, target, True)
    assert change.purge_after is None and not change.ends_sessions


@pytest.mark.parametrize("current", ["active", "archived"])
def test_delete_sets_purge_after_thirty_days_on_and_ends_sessions(current):
    change = access.plan_access_change(current, "deleted", purge_after=None, now=NOW)
    assert change.to_state == "deleted"
    assert change.purge_after == NOW + 30 * DAY
    assert change.ends_sessions and change.action == "customer.deleted"


def test_deleted_customer_is_restorable_until_the_last_moment_before_purge_after():
    purge_after = NOW + 30 * DAY
    just_before = purge_after - timedelta(microseconds=1)
    change = access.plan_access_change(
        "deleted", "active", purge_after=purge_after, now=just_before
    )
    assert change.to_state == "active" and change.purge_after is None
    assert change.action == "customer.restored"


@pytest.mark.parametrize("late", [timedelta(0), timedelta(seconds=1), 5 * DAY])
def test_restore_at_or_after_purge_after_is_refused(late):
    purge_after = NOW + 30 * DAY
    with pytest.raises(InvalidTransition, match="can no longer be restored"):
        access.plan_access_change(
            "deleted", "active", purge_after=purge_after, now=purge_after + late
        )


def test_deleted_cannot_go_straight_to_archived_and_says_what_is_allowed():
    with pytest.raises(InvalidTransition, match="only be restored to active"):
        access.plan_access_change("deleted", "archived", purge_after=NOW + DAY, now=NOW)


@pytest.mark.parametrize("target", ["active", "archived", "deleted"])
def test_a_purged_customer_is_gone_for_good(target):
    with pytest.raises(InvalidTransition, match="purged"):
        access.plan_access_change("purged", target, purge_after=None, now=NOW)


@pytest.mark.parametrize("target", ["purged", "unspecified", "frozen"])
def test_purge_and_unknown_states_cannot_be_asked_for(target):
    with pytest.raises(InvalidArgument, match="active \\(restore\\), archived or deleted"):
        access.plan_access_change("active", target, purge_after=None, now=NOW)


def test_asking_for_the_current_state_changes_nothing_and_keeps_purge_after():
    purge_after = NOW + 10 * DAY
    change = access.plan_access_change("deleted", "deleted", purge_after=purge_after, now=NOW)
    assert not change.changed and change.purge_after == purge_after
    assert not access.plan_access_change("active", "active", purge_after=None, now=NOW).changed


def test_purge_only_once_purge_after_has_passed():
    purge_after = NOW + 30 * DAY
    with pytest.raises(InvalidTransition, match="can still be restored"):
        access.plan_purge("deleted", purge_after=purge_after, now=purge_after - DAY)
    change = access.plan_purge("deleted", purge_after=purge_after, now=purge_after)
    assert change.to_state == "purged" and change.action == "customer.purged"
    with pytest.raises(InvalidTransition):
        access.plan_purge("archived", purge_after=None, now=NOW)


def test_purge_is_due_exactly_at_purge_after():
    purge_after = NOW + 30 * DAY
    assert not access.is_purge_due("deleted", purge_after, purge_after - timedelta(seconds=1))
    assert access.is_purge_due("deleted", purge_after, purge_after)
    assert not access.is_purge_due("active", None, purge_after)


def test_portal_is_open_read_only_when_archived_and_closed_when_deleted():
    assert access.portal_open("active") and not access.portal_read_only("active")
    assert access.portal_open("archived") and access.portal_read_only("archived")
    assert not access.portal_open("deleted") and not access.portal_open("purged")


def test_new_things_need_an_active_customer_unless_archived_is_allowed():
    access.require_accepts_changes("active", what="inviting a contact")
    with pytest.raises(InvalidTransition, match="archived, so inviting a contact"):
        access.require_accepts_changes("archived", what="inviting a contact")
    access.require_accepts_changes("archived", what="renaming", allow_archived=True)
    with pytest.raises(InvalidTransition, match="deleted, so renaming"):
        access.require_accepts_changes("deleted", what="renaming", allow_archived=True)
