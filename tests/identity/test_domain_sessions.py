"""Session lifetimes (absolute and idle), one-time link lifetimes, small checks."""

from datetime import UTC, datetime, timedelta

import pytest

from services.chassis.errors import InvalidArgument
from services.identity import domain_sessions as ds

NOW = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(("kind", "days"), [("staff", 7), ("client", 30)])
def test_absolute_lifetime_by_kind(kind, days):
    expires = ds.session_expires_at(kind, NOW)
    assert expires == NOW + timedelta(days=days)
    alive = dict(expires_at=expires, revoked_at=None)
    # Used a minute ago, the session is cut at its absolute end however active it is.
    just_before = expires - timedelta(seconds=1)
    assert ds.session_end_reason(kind, now=just_before, last_seen_at=just_before, **alive) is None
    assert ds.session_end_reason(kind, now=expires, last_seen_at=expires, **alive) == "expired"


@pytest.mark.parametrize(
    ("kind", "idle"), [("staff", timedelta(hours=12)), ("client", timedelta(days=14))]
)
def test_idle_timeout_by_kind(kind, idle):
    args = dict(expires_at=NOW + timedelta(days=60), revoked_at=None, last_seen_at=NOW)
    assert ds.session_end_reason(kind, now=NOW + idle - timedelta(seconds=1), **args) is None
    assert ds.session_end_reason(kind, now=NOW + idle, **args) == "idle"


def test_a_revoked_session_is_over_whatever_its_dates():
    reason = ds.session_end_reason(
        "client", now=NOW, expires_at=NOW + timedelta(days=1), last_seen_at=NOW, revoked_at=NOW
    )
    assert reason == "revoked"


@pytest.mark.parametrize(
    ("purpose", "ttl"),
    [
        ("invite", timedelta(days=7)),
        ("magic_link", timedelta(minutes=15)),
        ("password_reset", timedelta(minutes=30)),
    ],
)
def test_one_time_link_lifetimes(purpose, ttl):
    assert ds.login_token_expires_at(purpose, NOW) == NOW + ttl


def test_only_invites_and_resets_set_a_password():
    assert ds.purpose_needs_password("invite") and ds.purpose_needs_password("password_reset")
    assert not ds.purpose_needs_password("magic_link")


def test_last_seen_is_written_at_most_once_a_minute():
    assert not ds.should_touch(NOW, NOW + timedelta(seconds=59))
    assert ds.should_touch(NOW, NOW + timedelta(seconds=60))


def test_user_agent_is_truncated_and_stripped_of_control_characters():
    assert ds.clean_user_agent("Mozilla\x00/5.0\n" + "x" * 400) == ("Mozilla/5.0" + "x" * 400)[:300]


def test_the_current_session_in_a_request_must_be_the_callers():
    ds.check_current_session("", "s1")
    ds.check_current_session("s1", "s1")
    with pytest.raises(InvalidArgument):
        ds.check_current_session("s2", "s1")
    with pytest.raises(InvalidArgument):
        ds.check_current_session("s2", None)


def test_read_only_for_archived_clients_and_staff_viewing_as_a_client():
    assert ds.session_read_only(kind="client", view_as=False, customer_state="archived")
    assert not ds.session_read_only(kind="client", view_as=False, customer_state="active")
    assert ds.session_read_only(kind="staff", view_as=True, customer_state="active")
    assert not ds.session_read_only(kind="staff", view_as=False, customer_state=None)


def test_a_login_token_works_once_until_it_expires_or_is_revoked():
    later = NOW + timedelta(minutes=15)
    fresh = dict(used_at=None, revoked_at=None, expires_at=later)
    assert ds.login_token_usable(**fresh, now=NOW)
    assert not ds.login_token_usable(**fresh, now=later)
    assert not ds.login_token_usable(**{**fresh, "used_at": NOW}, now=NOW)
    assert not ds.login_token_usable(**{**fresh, "revoked_at": NOW}, now=NOW)


def test_redeeming_a_reset_sets_the_password_and_ends_other_sessions():
    plan = ds.plan_redemption("password_reset", new_password="a long new passphrase", email="a@b.c")
    assert plan == ds.RedemptionPlan(sets_password=True, ends_other_sessions=True)
    invite = ds.plan_redemption("invite", new_password="a long new passphrase", email="a@b.c")
    assert invite == ds.RedemptionPlan(sets_password=True, ends_other_sessions=False)


def test_redeeming_a_magic_link_ignores_the_password_field():
    plan = ds.plan_redemption("magic_link", new_password="", email="a@b.c")
    assert plan == ds.RedemptionPlan(sets_password=False, ends_other_sessions=False)


def test_redeeming_refuses_a_weak_password_before_the_link_is_spent():
    with pytest.raises(InvalidArgument) as err:
        ds.plan_redemption("invite", new_password="short", email="a@b.c")
    assert err.value.field == "new_password"


def test_an_emailed_link_opens_no_session_past_two_step_verification():
    assert ds.link_opens_session(totp_enabled=False)
    assert not ds.link_opens_session(totp_enabled=True)
