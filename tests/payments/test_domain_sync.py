"""The accounting sync's pure rules: backoff, giving up, retrying, the OAuth2 state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.chassis.errors import InvalidArgument, InvalidTransition
from services.payments import domain_sync as d

NOW = datetime(2026, 3, 12, 10, 0, tzinfo=UTC)
POLICY = d.RetryPolicy(max_attempts=5, base_seconds=30, cap_seconds=600)


def test_backoff_doubles_from_the_base_and_stops_at_the_cap():
    waits = [d.backoff(n, POLICY).total_seconds() for n in range(1, 8)]
    assert waits == [30, 60, 120, 240, 480, 600, 600]
    assert d.backoff(10_000, POLICY).total_seconds() == 600  # no overflow


def test_a_transient_failure_backs_off_until_the_attempts_run_out():
    first = d.failed_attempt(1, "503", NOW, POLICY, retryable=True)
    assert (first.state, first.next_attempt_at) == (
        d.SyncState.PENDING,
        NOW + timedelta(seconds=30),
    )
    last = d.failed_attempt(5, "503", NOW, POLICY, retryable=True)
    assert (last.state, last.last_error) == (d.SyncState.FAILED, "503")


def test_a_refused_record_fails_at_once():
    assert d.failed_attempt(1, "invalid", NOW, POLICY, retryable=False).state == d.SyncState.FAILED


def test_waiting_for_another_record_gives_the_attempt_back():
    outcome = d.waiting(3, "waits for its invoice", NOW, POLICY)
    assert (outcome.state, outcome.attempts) == (d.SyncState.PENDING, 2)
    assert d.waiting(0, "x", NOW, POLICY).attempts == 0


def test_only_a_failed_record_can_be_retried():
    d.plan_retry("failed")
    for state in ("posted", "pending"):
        with pytest.raises(InvalidTransition):
            d.plan_retry(state)


def test_a_state_must_match_be_unspent_and_in_time():
    digest = d.state_digest("s3cret")
    d.check_state("s3cret", stored_digest=digest, expires_at=NOW + d.STATE_TTL, now=NOW)
    with pytest.raises(InvalidArgument, match="not one this portal started"):
        d.check_state("other", stored_digest=digest, expires_at=NOW + d.STATE_TTL, now=NOW)
    with pytest.raises(InvalidArgument, match="not one this portal started"):
        d.check_state("s3cret", stored_digest="", expires_at=None, now=NOW)  # spent
    with pytest.raises(InvalidArgument, match="expired"):
        d.check_state("s3cret", stored_digest=digest, expires_at=NOW, now=NOW)


def test_providers_and_redirects_are_checked():
    assert d.check_provider(" QuickBooks ", ("quickbooks",)) == "quickbooks"
    with pytest.raises(InvalidArgument, match="not set up"):
        d.check_provider("xero", ("quickbooks",))
    assert d.check_redirect_uri("http://acme.localhost:8000/cb").startswith("http://acme")
    with pytest.raises(InvalidArgument):
        d.check_redirect_uri("http://acme.example/cb")


def test_a_payment_reference_fits_quickbooks():
    ref = d.payment_reference("0b6f2c1e-8d7a-4c55-9a11-2f3e4d5c6b7a")
    assert ref == "PAY-0B6F2C1E8D7A" and len(ref) <= 21
