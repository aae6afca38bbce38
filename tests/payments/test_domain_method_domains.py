"""The payment-method domain rules, pure: the host, when it is due, and what a failure leaves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.chassis.errors import InvalidArgument
from services.payments.domain_method_domains import after_failure, is_due, portal_domain
from services.payments.domain_sync import RetryPolicy

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
POLICY = RetryPolicy(base_seconds=60, cap_seconds=3600)


def test_the_host_is_the_slug_under_the_base_domain_in_lower_case():
    assert portal_domain("Acme", "Portal.Example.") == "acme.portal.example"


@pytest.mark.parametrize("slug", ["", "-acme", "ac me", "a" * 64, "acme_av"])
def test_a_host_stripe_could_not_register_is_refused_naming_the_slug(slug: str):
    with pytest.raises(InvalidArgument) as refused:
        portal_domain(slug, "portal.example")
    assert refused.value.field == "slug"


def test_nothing_is_due_without_a_connected_account():
    assert not is_due(state="pending", registered_on="", account="", attempt_at=NOW, now=NOW)


def test_a_pending_domain_is_due_once_its_backoff_has_passed():
    later = NOW + timedelta(seconds=1)
    assert is_due(state="pending", registered_on="", account="acct_1", attempt_at=NOW, now=NOW)
    assert not is_due(
        state="pending", registered_on="", account="acct_1", attempt_at=later, now=NOW
    )


@pytest.mark.parametrize("state", ["registered", "failed"])
def test_a_settled_domain_is_due_again_only_on_another_account(state: str):
    same = is_due(state=state, registered_on="acct_1", account="acct_1", attempt_at=NOW, now=NOW)
    other = is_due(state=state, registered_on="acct_1", account="acct_2", attempt_at=NOW, now=NOW)
    assert (same, other) == (False, True)


def test_a_transient_failure_backs_off_doubling_and_a_refusal_is_final():
    first = after_failure(attempts=0, error="503", permanent=False, now=NOW, policy=POLICY)
    second = after_failure(attempts=1, error="503", permanent=False, now=NOW, policy=POLICY)
    assert (first.state, first.next_attempt_at - NOW) == ("pending", timedelta(seconds=60))
    assert second.next_attempt_at - NOW == timedelta(seconds=120)
    refused = after_failure(attempts=3, error="bad host", permanent=True, now=NOW, policy=POLICY)
    assert (refused.state, refused.attempts, refused.last_error) == ("failed", 4, "bad host")
