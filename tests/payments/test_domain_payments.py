"""What a client may pay, how intent updates land, clearing dates, refunds, fees."""

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.chassis.errors import InvalidArgument, InvalidTransition
from services.payments import domain_fees as fees
from services.payments import domain_payments as pay
from services.payments.domain_invoices import InvoiceState, Ledger
from services.payments.domain_payments import Method, PaymentStatus, PayPolicy

ISSUED = InvoiceState(issued=True)
OPEN = PayPolicy(minimum_minor=5_000, payments_open=True)


def _check(amount, *, ledger=Ledger(100_000), currency="GBP", policy=OPEN, state=ISSUED):
    return pay.check_payment_amount(
        amount, currency, invoice_currency="GBP", state=state, ledger=ledger, policy=policy
    )


def test_a_part_payment_between_the_minimum_and_the_balance_is_accepted():
    assert _check(5_000) == 5_000
    assert _check(100_000) == 100_000


@pytest.mark.parametrize(
    ("amount", "currency", "words"),
    [
        (100_001, "GBP", "at most £1,000.00"),
        (4_999, "GBP", "smallest payment accepted is £50.00"),
        (0, "GBP", "more than zero"),
        (-100, "GBP", "more than zero"),
        (5_000, "USD", "this invoice is in GBP"),
    ],
)
def test_a_bad_amount_is_refused_in_words_a_client_can_act_on(amount, currency, words):
    with pytest.raises(InvalidArgument) as err:
        _check(amount, currency=currency)
    assert words in err.value.message


def test_less_than_the_minimum_left_can_be_paid_in_full():
    ledger = Ledger(100_000, succeeded_minor=98_000)
    assert _check(2_000, ledger=ledger) == 2_000
    with pytest.raises(InvalidArgument):
        _check(1_999, ledger=ledger)


def test_money_on_its_way_cannot_be_paid_twice():
    ledger = Ledger(100_000, processing_minor=60_000)
    with pytest.raises(InvalidArgument):
        _check(40_001, ledger=ledger)
    with pytest.raises(InvalidTransition) as err:
        _check(5_000, ledger=Ledger(100_000, processing_minor=100_000))
    assert "on its way" in err.value.message


def test_archived_customers_cannot_start_a_payment():
    with pytest.raises(InvalidTransition) as err:
        _check(5_000, policy=PayPolicy(minimum_minor=0, payments_open=False))
    assert "closed" in err.value.message


def test_paid_and_draft_invoices_cannot_be_paid():
    with pytest.raises(InvalidTransition):
        _check(5_000, ledger=Ledger(100_000, succeeded_minor=100_000))
    with pytest.raises(InvalidTransition):
        _check(5_000, state=InvoiceState(issued=False))


T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
T1 = datetime(2026, 3, 2, 12, 0, 1, tzinfo=UTC)


def test_succeeded_is_final_whatever_arrives_after():
    assert not pay.should_apply(PaymentStatus.SUCCEEDED, T1, PaymentStatus.PROCESSING, T0)
    assert not pay.should_apply(PaymentStatus.SUCCEEDED, T0, PaymentStatus.FAILED, T1)


def test_an_older_event_arriving_late_changes_nothing():
    assert not pay.should_apply(PaymentStatus.FAILED, T1, PaymentStatus.PROCESSING, T0)
    assert pay.should_apply(PaymentStatus.PROCESSING, T0, PaymentStatus.FAILED, T1)


def test_a_failed_payment_can_still_succeed_on_retry():
    assert pay.should_apply(PaymentStatus.FAILED, T0, PaymentStatus.SUCCEEDED, T1)


def test_same_second_events_order_by_a_payments_life():
    assert pay.should_apply(PaymentStatus.PROCESSING, T0, PaymentStatus.SUCCEEDED, T0)
    assert not pay.should_apply(PaymentStatus.SUCCEEDED, T0, PaymentStatus.PROCESSING, T0)
    assert not pay.should_apply(PaymentStatus.FAILED, T0, PaymentStatus.PROCESSING, T0)


@given(
    st.permutations([PaymentStatus.PROCESSING, PaymentStatus.SUCCEEDED, PaymentStatus.PROCESSING])
)
def test_any_delivery_order_of_processing_then_succeeded_ends_succeeded(order):
    times = {PaymentStatus.PROCESSING: T0, PaymentStatus.SUCCEEDED: T1}
    current, at = PaymentStatus.PENDING, None
    for incoming in order:
        if pay.should_apply(current, at, incoming, times[incoming]):
            current, at = incoming, times[incoming]
    assert current is PaymentStatus.SUCCEEDED


def test_bank_debits_clear_in_business_days():
    friday = date(2026, 3, 6)
    assert pay.expected_by(Method.US_BANK_ACCOUNT, friday) == date(2026, 3, 12)
    assert pay.expected_by(Method.BACS_DEBIT, friday, new_mandate=True) == date(2026, 3, 17)
    assert pay.expected_by(Method.CARD, friday) is None


def test_offline_payments_need_a_reference_for_transfers_and_a_real_date():
    today = date(2026, 3, 6)
    ledger = Ledger(100_000, succeeded_minor=30_000)
    ok = pay.check_offline_payment(
        "bank_transfer",
        70_000,
        "BACS REF 991",
        today,
        state=ISSUED,
        ledger=ledger,
        issued_on=date(2026, 3, 1),
        today=today,
    )
    assert (ok.method, ok.amount_minor) == (Method.BANK_TRANSFER, 70_000)
    for args, field in [
        (("card", 1_000, "x", today), "method"),
        (("bank_transfer", 70_001, "x", today), "amount"),
        (("bank_transfer", 1_000, "", today), "reference"),
        (("cheque", 1_000, "001", date(2026, 3, 7)), "received_on"),
    ]:
        with pytest.raises(InvalidArgument) as err:
            pay.check_offline_payment(
                *args, state=ISSUED, ledger=ledger, issued_on=date(2026, 3, 1), today=today
            )
        assert err.value.field == field


def test_refunds_are_bounded_by_what_is_left_of_the_payment():
    assert pay.check_refund(500, paid_minor=1_000, refunded_minor=400) == 500
    with pytest.raises(InvalidArgument):
        pay.check_refund(601, paid_minor=1_000, refunded_minor=400)
    with pytest.raises(InvalidTransition):
        pay.check_refund(1, paid_minor=1_000, refunded_minor=1_000)


def test_the_idempotency_key_is_stable_per_attempt():
    a = pay.intent_idempotency_key("t", "i", "attempt-1")
    assert a == pay.intent_idempotency_key("t", "i", "attempt-1")
    assert a != pay.intent_idempotency_key("t", "i", "attempt-2")


# -- fees ------------------------------------------------------------------------------


@pytest.mark.parametrize("region", ["GB", "FR", "DE", "NO", "US-CT", "US-MA"])
def test_surcharges_are_refused_where_the_law_bans_them(region):
    with pytest.raises(InvalidArgument) as err:
        fees.check_fee_policy(fees.FeePolicy(card_surcharge_bps=100), region=region)
    assert "bank payment discount" in err.value.message


def test_surcharges_are_capped_by_the_brands_and_the_state():
    assert fees.check_fee_policy(fees.FeePolicy(card_surcharge_bps=300), region="US-NY")
    with pytest.raises(InvalidArgument):
        fees.check_fee_policy(fees.FeePolicy(card_surcharge_bps=301), region="US-NY")
    with pytest.raises(InvalidArgument):
        fees.check_fee_policy(fees.FeePolicy(card_surcharge_bps=250), region="US-CO")


def test_only_credit_cards_pay_the_surcharge_and_bank_debits_get_the_discount():
    policy = fees.FeePolicy(card_surcharge_bps=300, bank_discount_bps=100)
    credit = fees.charge_for(
        10_000, Method.CARD, card_funding="credit", policy=policy, region="US-NY"
    )
    debit = fees.charge_for(
        10_000, Method.CARD, card_funding="debit", policy=policy, region="US-NY"
    )
    ach = fees.charge_for(
        10_000, Method.US_BANK_ACCOUNT, card_funding="", policy=policy, region="US-NY"
    )
    assert (credit.charged_minor, credit.applied_minor) == (10_300, 10_000)
    assert debit.charged_minor == 10_000
    assert (ach.charged_minor, ach.discount_minor) == (9_900, 100)


def test_a_policy_saved_before_a_ban_charges_nothing():
    policy = fees.FeePolicy(card_surcharge_bps=300)
    assert (
        fees.charge_for(
            10_000, Method.CARD, card_funding="credit", policy=policy, region="GB"
        ).surcharge_minor
        == 0
    )


def test_only_a_payment_intent_of_ours_has_work_after_the_webhook_is_answered():
    from services.payments.domain_payments import webhook_has_work

    ours = {"payment_id": "0b4c...", "tenant_id": "t"}
    assert webhook_has_work("payment_intent.succeeded", ours)
    assert webhook_has_work("payment_intent.payment_failed", ours)
    assert not webhook_has_work("payment_intent.succeeded", {"tenant_id": "t"})  # not ours
    assert not webhook_has_work("charge.succeeded", ours)  # no state of ours to move
