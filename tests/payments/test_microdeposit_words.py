"""Stripe's micro-deposit failure codes, mapped to what the client reads, in
pure code: each of Stripe's documented codes has its own words (never the
generic card message), says what happened and what to do next, and states
Stripe's documented facts (3 tries for amounts, 10 for a code, a code
starting SM, deposits marked ACCTVERIFY), not remembered ones."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.payments import domain_microdeposits
from services.payments.domain_payments import (
    GENERIC_FAILURE,
    Method,
    PaymentStatus,
    failure_words,
    land_intent,
)

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

# Stripe's error-code enum for the micro-deposit step (its OpenAPI spec).
STRIPE_CODES = [
    "payment_method_microdeposit_failed",
    "payment_method_microdeposit_processing_error",
    "payment_method_microdeposit_verification_amounts_invalid",
    "payment_method_microdeposit_verification_amounts_mismatch",
    "payment_method_microdeposit_verification_attempts_exceeded",
    "payment_method_microdeposit_verification_descriptor_code_mismatch",
    "payment_method_microdeposit_verification_timeout",
]


@pytest.mark.parametrize("code", STRIPE_CODES)
def test_every_stripe_microdeposit_code_has_its_own_words_and_a_next_step(code):
    words = failure_words(code)
    assert words != GENERIC_FAILURE
    assert "card" in words  # the way forward that always works
    assert "Nothing was taken" not in words  # each surface says that once, itself
    assert "10 days" not in words  # no window Stripe's pages do not state


@pytest.mark.parametrize(
    ("code", "says"),
    [
        ("payment_method_microdeposit_verification_timeout", "wasn't verified in time"),
        ("payment_method_microdeposit_verification_attempts_exceeded", "3 tries for two amounts"),
        ("payment_method_microdeposit_verification_attempts_exceeded", "10 for a code"),
        ("payment_method_microdeposit_verification_amounts_mismatch", "marked ACCTVERIFY"),
        ("payment_method_microdeposit_verification_descriptor_code_mismatch", "starting SM"),
        ("payment_method_microdeposit_failed", "couldn't be sent to this account"),
    ],
)
def test_the_words_state_what_stripe_documents(code, says):
    assert says in failure_words(code)


def test_tries_run_out_points_to_another_method_not_the_same_account_again():
    words = failure_words("payment_method_microdeposit_verification_attempts_exceeded")
    assert "another account" in words and "pay by bank again" not in words


def test_the_tries_stripe_allows_per_kind_of_deposit():
    assert domain_microdeposits.attempts_allowed("amounts") == 3
    assert domain_microdeposits.attempts_allowed("descriptor_code") == 10
    assert domain_microdeposits.attempts_allowed("") == 0  # Stripe named no type


def _land(stripe_status: str, code: str, next_action: str = ""):
    return land_intent(
        current=PaymentStatus.AWAITING_VERIFICATION,
        current_at=T0,
        stripe_status=stripe_status,
        failure_code=code,
        failure_message="Stripe's own message",
        when=T0 + timedelta(days=2),
        method=Method.US_BANK_ACCOUNT,
        today=date(2026, 12, 3),
        next_action=next_action,
    )


@pytest.mark.parametrize(
    "code",
    [
        "payment_method_microdeposit_failed",
        "payment_method_microdeposit_verification_attempts_exceeded",
        "payment_method_microdeposit_verification_timeout",
    ],
)
def test_verification_that_ends_fails_the_payment_in_the_clients_words(code):
    landing = _land("requires_payment_method", code)
    assert landing is not None and landing.status is PaymentStatus.FAILED
    assert landing.failure_message == failure_words(code)


def test_one_wrong_try_with_tries_left_still_awaits_verification():
    """Stripe answers a mismatch to the try itself; the intent keeps asking."""
    landing = _land(
        "requires_action",
        "payment_method_microdeposit_verification_descriptor_code_mismatch",
        next_action="verify_with_microdeposits",
    )
    assert landing is None  # no news: the payment still awaits the client's verification
