"""Payments against an invoice: what a client may pay, how a Stripe
PaymentIntent's state lands on our record, bank-debit clearing dates,
offline payments and refunds. Pure: the caller passes `now` / `today`.

Only `succeeded` moves money onto the invoice (Invoice Ninja #7332: bank
debits shown paid while pending). A bank debit in `processing` is held
against the invoice so nobody pays the same amount twice, and shows as
"processing, expected by DATE".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from services.chassis.errors import InvalidArgument, InvalidTransition
from services.chassis.money import format_amount
from services.chassis.validation import require_text
from services.payments import domain_microdeposits
from services.payments.domain_invoices import InvoiceState, InvoiceStatus, Ledger, status

REFERENCE_MAX = 120


class PaymentStatus(StrEnum):
    PENDING = "pending"  # an intent exists; the client has not finished
    # ACH on an account typed by hand: Stripe's micro-deposits wait for the
    # client to verify. Not paid, not processing, but held like processing so
    # the same amount is not debited twice (the client may cancel it instead).
    AWAITING_VERIFICATION = "awaiting_verification"
    PROCESSING = "processing"  # a bank debit submitted, not yet cleared
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # may still succeed: the client can retry the same intent
    CANCELED = "canceled"


class Method(StrEnum):
    CARD = "card"
    US_BANK_ACCOUNT = "us_bank_account"  # ACH Direct Debit
    BACS_DEBIT = "bacs_debit"
    SEPA_DEBIT = "sepa_debit"
    BANK_TRANSFER = "bank_transfer"  # offline, recorded by staff
    CHEQUE = "cheque"
    CASH = "cash"
    OTHER = "other"


OFFLINE_METHODS = frozenset({Method.BANK_TRANSFER, Method.CHEQUE, Method.CASH, Method.OTHER})
# Business days a debit takes to clear (Stripe: ACH up to 4, Bacs 4, 7 on a new mandate).
# SEPA: Stripe says "typically" 6 (it can take up to 14); the date is an estimate.
CLEARING_BUSINESS_DAYS = {Method.US_BANK_ACCOUNT: 4, Method.BACS_DEBIT: 4, Method.SEPA_DEBIT: 6}
STRIPE_METHODS = frozenset(
    {Method.CARD, Method.US_BANK_ACCOUNT, Method.BACS_DEBIT, Method.SEPA_DEBIT}
)
NEW_BACS_MANDATE_DAYS = 7
TERMINAL = frozenset({PaymentStatus.SUCCEEDED, PaymentStatus.CANCELED})
# Which of two events from the same second is the later one.
_PRECEDENCE = {
    PaymentStatus.PENDING: 0,
    PaymentStatus.AWAITING_VERIFICATION: 1,
    PaymentStatus.PROCESSING: 2,
    PaymentStatus.FAILED: 3,
    PaymentStatus.SUCCEEDED: 4,
    PaymentStatus.CANCELED: 4,
}


@dataclass(frozen=True)
class PayPolicy:
    """The integrator's settings for pay-now."""

    minimum_minor: int  # the smallest part payment they accept
    payments_open: bool  # the customer may start a payment (not archived)


def check_payment_amount(
    amount_minor: int,
    currency: str,
    *,
    invoice_currency: str,
    state: InvoiceState,
    ledger: Ledger,
    policy: PayPolicy,
) -> int:
    """A client's chosen amount: at least the integrator's minimum (or the
    whole of what is left when less than that is left), never more than what
    is still payable, in the invoice's currency, in whole minor units."""
    if not policy.payments_open:
        raise InvalidTransition(
            "payments for this account are closed; contact your integrator", field="amount"
        )
    current = status(state, ledger)
    if current not in {InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID}:
        raise InvalidTransition(_not_payable[current], field="invoice")
    if currency.upper() != invoice_currency:
        raise InvalidArgument(
            f"this invoice is in {invoice_currency}; pay in {invoice_currency}", field="currency"
        )
    payable = ledger.payable_minor
    if amount_minor <= 0:
        raise InvalidArgument("enter an amount more than zero", field="amount")
    if amount_minor > payable and ledger.verifying_minor:
        raise InvalidTransition(
            "a bank debit awaiting your verification already covers "
            f"{format_amount(ledger.verifying_minor, invoice_currency)}: verify it, "
            "or cancel it to pay another way",
            field="amount",
        )
    if amount_minor > payable:
        raise InvalidArgument(
            f"you can pay at most {format_amount(payable, invoice_currency)} on this invoice",
            field="amount",
        )
    floor = min(policy.minimum_minor, payable)
    if amount_minor < floor:
        raise InvalidArgument(
            f"the smallest payment accepted is {format_amount(floor, invoice_currency)}",
            field="amount",
        )
    return amount_minor


_not_payable = {
    InvoiceStatus.DRAFT: "this invoice has not been issued yet",
    InvoiceStatus.PROCESSING: "the rest of this invoice is already on its way from your bank",
    InvoiceStatus.PAID: "this invoice is paid in full",
    InvoiceStatus.VOID: "this invoice was cancelled",
    InvoiceStatus.UNCOLLECTIBLE: "this invoice is closed; contact your integrator",
}


def status_from_stripe(
    stripe_status: str, *, attempted: bool, next_action: str = ""
) -> PaymentStatus:
    """A PaymentIntent's status as ours. Stripe sends a failed attempt back to
    `requires_payment_method`: that is a failure once a method was tried. A
    `requires_action` is the client's to finish: 3-D Secure in the page (still
    pending), or micro-deposits to verify (days, so a state of its own)."""
    if stripe_status == "requires_action" and next_action == "verify_with_microdeposits":
        return PaymentStatus.AWAITING_VERIFICATION
    if stripe_status == "succeeded":
        return PaymentStatus.SUCCEEDED
    if stripe_status == "processing":
        return PaymentStatus.PROCESSING
    if stripe_status == "canceled":
        return PaymentStatus.CANCELED
    if stripe_status == "requires_payment_method" and attempted:
        return PaymentStatus.FAILED
    return PaymentStatus.PENDING


# What a client reads when a payment fails: their next step, not a code.
_FAILURE_WORDS = {
    "card_declined": "Your card was declined. Try another card or contact your bank.",
    "generic_decline": "Your card was declined. Try another card or contact your bank.",
    "insufficient_funds": "Your bank declined the payment for insufficient funds. "
    "Try another card or account, or contact your bank.",
    "expired_card": "The card has expired. Try another card.",
    "incorrect_cvc": "The security code didn't match. Check it and try again.",
    "incorrect_number": "The card number isn't right. Check it and try again.",
    "lost_card": "The card was declined. Try another card or contact your bank.",
    "stolen_card": "The card was declined. Try another card or contact your bank.",
    "processing_error": "Something went wrong while processing the card. Try again in a moment.",
    "authentication_required": "Your bank needs you to confirm this payment. Try again and "
    "follow your bank's steps.",
    "payment_intent_authentication_failure": "The payment wasn't confirmed with your bank. "
    "Try again and follow your bank's steps.",
    "debit_not_authorized": "Your bank says this debit wasn't authorised. Contact your bank "
    "or pay another way.",
    "account_closed": "The bank account is closed. Pay with another account or a card.",
    # Micro-deposit verification that ended without a debit: Stripe's codes,
    # worded from what Stripe documents (domain_microdeposits cites the pages).
    **domain_microdeposits.FAILURE_WORDS,
}
GENERIC_FAILURE = (
    "The payment didn't go through. Try another card or account, or contact your bank."
)


def failure_words(code: str) -> str:
    return _FAILURE_WORDS.get(code, GENERIC_FAILURE)


def intent_idempotency_key(tenant_id: str, invoice_id: str, attempt_id: str) -> str:
    """Stripe's Idempotency-Key for creating an attempt's PaymentIntent: from
    our ids, so a double click, a retry or a second tab make one intent."""
    return f"portal-pi-{tenant_id}-{invoice_id}-{attempt_id}"


def should_apply(
    current: PaymentStatus,
    current_at: datetime | None,
    incoming: PaymentStatus,
    incoming_at: datetime,
) -> bool:
    """Whether a PaymentIntent update (a webhook, or a re-fetch) moves our
    record: webhooks repeat and arrive out of order. Succeeded and canceled
    are final; otherwise the newer event wins, and of two from the same
    second the one later in a payment's life (processing before failed
    before succeeded)."""
    if current in TERMINAL or incoming == current:
        return False
    if current_at is None or incoming_at > current_at:
        return True
    return incoming_at == current_at and _PRECEDENCE[incoming] > _PRECEDENCE[current]


def add_business_days(start: date, days: int) -> date:
    """Weekdays only; bank holidays are not modelled (the date is an estimate)."""
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def expected_by(method: Method, submitted_on: date, *, new_mandate: bool = False) -> date | None:
    """When a bank debit submitted on `submitted_on` (the tenant's date) should clear."""
    days = CLEARING_BUSINESS_DAYS.get(method)
    if days is None:
        return None
    if method is Method.BACS_DEBIT and new_mandate:
        days = NEW_BACS_MANDATE_DAYS
    return add_business_days(submitted_on, days)


@dataclass(frozen=True)
class Landing:
    """What a PaymentIntent's news does to our record. `failure_message` None
    leaves the record's as it is; "" clears it (the payment succeeded)."""

    status: PaymentStatus
    at: datetime
    expected_by: date | None = None  # processing: when a bank debit should clear
    failure_message: str | None = None


def land_intent(
    *,
    current: PaymentStatus,
    current_at: datetime | None,
    stripe_status: str,
    failure_code: str,
    failure_message: str,
    when: datetime,
    method: Method,
    today: date,
    next_action: str = "",
) -> Landing | None:
    """A PaymentIntent's state (at `when`) as a change to our record, or None
    when it is no news (repeated or out of order). `today` is the tenant's."""
    incoming = status_from_stripe(
        stripe_status, attempted=bool(failure_code or failure_message), next_action=next_action
    )
    if not should_apply(current, current_at, incoming, when):
        return None
    if incoming is PaymentStatus.PROCESSING:
        # The portal takes a fresh Bacs mandate with every debit (the pay page's
        # tick box), so a Bacs debit always clears on the first-debit timetable.
        return Landing(incoming, when, expected_by=expected_by(method, today, new_mandate=True))
    if incoming is PaymentStatus.SUCCEEDED:
        return Landing(incoming, when, failure_message="")
    if incoming is PaymentStatus.FAILED:
        return Landing(incoming, when, failure_message=failure_words(failure_code))
    return Landing(incoming, when)


@dataclass(frozen=True)
class OfflinePayment:
    method: Method
    amount_minor: int
    reference: str
    received_on: date


def check_offline_payment(
    method: str,
    amount_minor: int,
    reference: str,
    received_on: date,
    *,
    state: InvoiceState,
    ledger: Ledger,
    issued_on: date | None,
    today: date,
) -> OfflinePayment:
    """Staff record money received outside Stripe (a bank transfer, a cheque)."""
    offline = {m.value: m for m in OFFLINE_METHODS}
    how = offline.get(method)
    if how is None:
        names = ", ".join(sorted(m.value for m in OFFLINE_METHODS))
        raise InvalidArgument(f"an offline payment is one of: {names}", field="method")
    current = status(state, ledger)
    if current not in {InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID}:
        raise InvalidTransition(_not_payable[current], field="invoice")
    if not 0 < amount_minor <= ledger.payable_minor:
        raise InvalidArgument(
            "the amount must be more than zero and at most what is still due", field="amount"
        )
    if received_on > today:
        raise InvalidArgument("the date received cannot be in the future", field="received_on")
    if issued_on and received_on < issued_on - timedelta(days=365):
        raise InvalidArgument(
            "the date received is more than a year before the invoice", field="received_on"
        )
    text = reference.strip()
    if how is Method.BANK_TRANSFER or how is Method.CHEQUE:
        text = require_text(reference, field="reference", max_len=REFERENCE_MAX)
    elif len(text) > REFERENCE_MAX:
        raise InvalidArgument(
            f"reference is longer than {REFERENCE_MAX} characters", field="reference"
        )
    return OfflinePayment(how, amount_minor, text, received_on)


def check_refund(amount_minor: int, *, paid_minor: int, refunded_minor: int) -> int:
    """Staff refund part or all of one succeeded payment."""
    left = paid_minor - refunded_minor
    if left <= 0:
        raise InvalidTransition("this payment has been refunded in full", field="amount")
    if not 0 < amount_minor <= left:
        raise InvalidArgument(
            "a refund must be more than zero and at most what is left of the payment",
            field="amount",
        )
    return amount_minor


# The webhooks whose news can change one of our payments.
INTENT_EVENTS = frozenset(
    {
        "payment_intent.requires_action",  # micro-deposits sent, to verify
        "payment_intent.processing",
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "payment_intent.canceled",
    }
)


def webhook_has_work(event_type: str, intent_metadata: Mapping[str, Any]) -> bool:
    """Whether a recorded webhook has work after its answer: a PaymentIntent's
    new state, on an intent we created (we name our payment in its metadata).
    Everything else Stripe sends an integrator's account (charges, payouts,
    payments taken outside the portal) is kept once and is done."""
    return event_type in INTENT_EVENTS and bool(intent_metadata.get("payment_id"))
