"""Throttling decisions for sign-in and one-time link requests."""

from datetime import UTC, datetime, timedelta

from services.identity import domain_throttle as dt

NOW = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def test_four_recent_failures_still_allow_a_try():
    failures = [NOW - i * MIN for i in range(1, 5)]
    assert dt.sign_in_throttle(email_failures=failures, ip_failures=[], now=NOW).allowed


def test_the_fifth_failure_locks_the_account_until_the_oldest_ages_out():
    failures = [NOW - i * MIN for i in range(1, 6)]  # 1..5 minutes ago
    decision = dt.sign_in_throttle(email_failures=failures, ip_failures=[], now=NOW)
    assert not decision.allowed
    assert decision.retry_after == 10 * 60  # the one from 5 minutes ago leaves the window in 10
    assert decision.message == (
        "Too many sign-in attempts. Try again in 10 minutes, or use a sign-in link."
    )


def test_failures_older_than_the_window_do_not_count():
    failures = [NOW - dt.SIGN_IN_WINDOW - MIN * i for i in range(0, 10)]
    assert dt.sign_in_throttle(email_failures=failures, ip_failures=[], now=NOW).allowed


def test_with_many_failures_the_wait_is_until_enough_have_aged_out():
    failures = [NOW - i * MIN for i in range(1, 8)]  # 7 failures, 1..7 minutes ago
    decision = dt.sign_in_throttle(email_failures=failures, ip_failures=[], now=NOW)
    # 3 must age out to leave 4: the third oldest (5 minutes ago) leaves in 10 minutes.
    assert decision.retry_after == 10 * 60


def test_an_address_is_limited_across_accounts():
    ip_failures = [NOW - timedelta(seconds=10 * i) for i in range(1, 31)]
    decision = dt.sign_in_throttle(email_failures=[], ip_failures=ip_failures, now=NOW)
    assert not decision.allowed and decision.retry_after > 0
    assert dt.sign_in_throttle(email_failures=[], ip_failures=ip_failures[:29], now=NOW).allowed


def test_the_message_says_one_minute_in_the_singular_and_never_zero():
    assert "in 1 minute," in dt.ThrottleDecision(allowed=False, retry_after=1).message
    assert "in 2 minutes," in dt.ThrottleDecision(allowed=False, retry_after=61).message


def test_at_most_twenty_sign_in_tries_an_hour_per_account():
    # ASVS: never 100 failures an hour; with 5 per 15 minutes the ceiling is 20.
    per_hour = dt.SIGN_IN_MAX_PER_EMAIL * (timedelta(hours=1) / dt.SIGN_IN_WINDOW)
    assert per_hour == 20


def test_link_requests_are_limited_per_email_and_per_address():
    assert dt.link_request_allowed(email_requests=4, ip_requests=19)
    assert not dt.link_request_allowed(email_requests=5, ip_requests=0)
    assert not dt.link_request_allowed(email_requests=0, ip_requests=20)
