"""A PaymentIntent's news landed on our payment record, decided in pure code:
what it changes, and when it is no news at all."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from services.payments.domain_payments import (
    GENERIC_FAILURE,
    Landing,
    Method,
    PaymentStatus,
    land_intent,
)

T0 = datetime(2026, 11, 6, 9, 0, tzinfo=UTC)
FRIDAY = date(2026, 11, 6)


def _land(current: PaymentStatus, stripe_status: str, **kw: object) -> Landing | None:
    args: dict = {
        "current": current,
        "current_at": T0,
        "stripe_status": stripe_status,
        "failure_code": "",
        "failure_message": "",
        "when": T0 + timedelta(seconds=5),
        "method": Method.CARD,
        "today": FRIDAY,
    }
    return land_intent(**(args | kw))


def test_a_bank_debit_processing_is_expected_by_a_business_day_after_the_weekend():
    landing = _land(PaymentStatus.PENDING, "processing", method=Method.US_BANK_ACCOUNT)
    assert landing is not None and landing.status is PaymentStatus.PROCESSING
    assert landing.expected_by == date(2026, 11, 12)  # four business days: Mon..Thu
    assert landing.failure_message is None


def test_a_bacs_debit_takes_the_first_debit_timetable_as_every_portal_debit_has_a_new_mandate():
    landing = _land(PaymentStatus.PENDING, "processing", method=Method.BACS_DEBIT)
    assert landing is not None
    assert landing.expected_by == date(2026, 11, 17)  # seven business days, as the page says


def test_success_clears_a_failure_and_a_failure_reads_as_a_next_step():
    won = _land(PaymentStatus.FAILED, "succeeded")
    assert won == Landing(PaymentStatus.SUCCEEDED, T0 + timedelta(seconds=5), failure_message="")
    lost = _land(PaymentStatus.PENDING, "requires_payment_method", failure_code="card_declined")
    assert lost is not None and lost.status is PaymentStatus.FAILED
    assert lost.failure_message and "declined" in lost.failure_message
    unknown = _land(PaymentStatus.PENDING, "requires_payment_method", failure_code="zzz")
    assert unknown is not None and unknown.failure_message == GENERIC_FAILURE


def test_a_repeat_an_older_event_and_news_after_the_end_are_no_news():
    assert _land(PaymentStatus.PROCESSING, "processing") is None
    assert _land(PaymentStatus.PENDING, "processing", when=T0 - timedelta(seconds=1)) is None
    assert _land(PaymentStatus.SUCCEEDED, "canceled") is None
    # Never attempted: Stripe's requires_payment_method is still pending, leaving words alone.
    fresh = _land(PaymentStatus.PENDING, "requires_payment_method", current_at=None)
    assert fresh is None  # pending again is no news
