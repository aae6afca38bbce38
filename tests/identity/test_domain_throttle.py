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
    def allowed(by_email: int, by_ip: int) -> bool:
        return dt.link_request_throttle(
            email_requests=[NOW - MIN * (i + 1) for i in range(by_email)],
            ip_requests=[NOW - MIN * (i + 1) for i in range(by_ip)],
            now=NOW,
        ).allowed

    assert allowed(4, 19)
    assert not allowed(5, 0)
    assert not allowed(0, 20)


def test_past_the_link_cap_the_answer_says_plainly_when_links_will_be_sent_again():
    asked = [NOW - MIN * m for m in (50, 40, 30, 20, 10)]  # five in the last hour
    decision = dt.link_request_throttle(email_requests=asked, ip_requests=asked, now=NOW)
    assert not decision.allowed and decision.limit == "link_email"
    assert decision.retry_after == 10 * 60  # the one from 50 minutes ago leaves the hour in 10
    assert "no more will be sent to it for about 10 minutes" in decision.message
    # Nothing in it depends on whether the address has an account: it cannot know.
    assert "If it has access" in decision.message


def test_the_link_cap_per_client_address_names_the_network_not_the_email():
    from_here = [NOW - timedelta(minutes=59, seconds=30)] + [NOW - MIN] * 19
    decision = dt.link_request_throttle(email_requests=[], ip_requests=from_here, now=NOW)
    assert (decision.allowed, decision.limit, decision.retry_after) == (False, "link_ip", 30)
    assert decision.message == (
        "Many links have been asked for from your network recently, so no more will be sent "
        "for about 1 minute."
    )


def test_link_requests_older_than_an_hour_do_not_count():
    old = [NOW - dt.LINK_WINDOW - MIN * i for i in range(10)]
    assert dt.link_request_throttle(email_requests=old, ip_requests=old, now=NOW).allowed


def test_a_reserved_attempt_is_released_only_when_the_secret_was_right():
    assert dt.attempt_counts(secret_right=False)
    assert not dt.attempt_counts(secret_right=True)
