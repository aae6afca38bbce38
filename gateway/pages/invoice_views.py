"""What the invoice pages show, computed from the API's models (the same ones
the JSON API answers with): a status in the client's words, whether this
person may pay and why not, the pay form's amount, the Stripe.js page's CSP.
Pure: no I/O, so every case is a unit test. Payments decides again on every
call; this only chooses what to offer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from gateway.api.payments.shapes import Invoice, Payment, PaymentSettings
from gateway.security_headers import CSP
from services.chassis.auth import Principal
from services.chassis.money import format_amount, parse_amount
from services.chassis.timefmt import format_date

OPEN = ("open", "processing", "partially_paid")
PayState = Literal[
    "pay", "verifying", "nothing_due", "archived", "view_as", "viewer", "not_set_up", "closed"
]


def status_words(invoice: Invoice) -> str:
    """ "Paid", "Partly paid", "Overdue", "Processing, expected by 6 Mar 2026"...
    Waiting on the client's bank verification comes first: it is their step."""
    if invoice.awaiting_verification:
        return "Waiting for bank verification"
    if invoice.status == "processing" or (invoice.processing and invoice.processing.amount_minor):
        expected = [p.expected_by for p in invoice.payments if p.status == "processing"]
        when = max((d for d in expected if d), default=None)
        if invoice.status == "processing":
            return f"Processing, expected by {format_date(when)}" if when else "Processing"
    if invoice.status in ("open", "partially_paid") and invoice.overdue:
        return "Overdue" if invoice.status == "open" else "Partly paid, overdue"
    return {
        "draft": "Draft",
        "open": "Due",
        "partially_paid": "Partly paid",
        "paid": "Paid",
        "void": "Cancelled",
        "uncollectible": "Written off",
    }.get(invoice.status, invoice.status.replace("_", " ").capitalize())


def settled_heading(invoice: Invoice) -> str:
    """The pay box of an invoice nothing more can be paid on, in words: a
    paid one does not say "Due now $0.00" in the colour of something owed."""
    return {
        "paid": "Paid in full",
        "void": "Cancelled: nothing to pay",
        "uncollectible": "Written off: nothing to pay",
    }.get(invoice.status, "Not issued yet")


def status_class(invoice: Invoice) -> str:
    """The badge's colour: overdue stands out; processing is neither due nor paid."""
    if invoice.overdue and invoice.status in ("open", "partially_paid"):
        return "overdue"
    return invoice.status


def awaiting_verification(invoice: Invoice) -> list[Payment]:
    """Bank debits waiting for the client to verify Stripe's micro-deposit."""
    return [p for p in invoice.payments if p.status == "awaiting_verification"]


def verification_words(payment: Payment) -> str:
    """ "Stripe will send a small deposit to account ••6789 by 4 Dec 2026."
    Two deposits when Stripe verifies by amounts; 1-2 business days when it
    gave no date (Stripe's own figure: support.stripe.com/questions/
    verify-a-new-ach-direct-debit-customer-using-micro-deposits)."""
    account = f"account ••{payment.card_last4}" if payment.card_last4 else "your bank account"
    what = "two small deposits" if payment.microdeposit_type == "amounts" else "a small deposit"
    when = format_date(payment.microdeposits_arrive_on)
    return f"Stripe will send {what} to {account}" + (
        f" by {when}." if when else " within 1-2 business days."
    )


def verification_how(payment: Payment) -> str:
    """What the client enters on Stripe's page, as Stripe describes the
    deposit (the same support page, and its API reference: a descriptor code
    is 6 characters starting SM), with the tries payments says they have."""
    tries = (
        f" You have {payment.verification_attempts} tries." if payment.verification_attempts else ""
    )
    if payment.microdeposit_type == "amounts":
        how = "Enter the two amounts (marked ACCTVERIFY on your statement)"
    elif payment.microdeposit_type == "descriptor_code":
        how = "Enter the 6-character code (it starts with SM) from the deposit's description"
    else:
        how = "Enter what the deposit shows"
    return f"{how} on Stripe's page to finish paying.{tries}"


def payment_words(payment: Payment) -> str:
    if payment.status == "awaiting_verification":
        return "Awaiting bank verification"
    if payment.status == "processing":
        when = format_date(payment.expected_by)
        return f"Processing, expected by {when}" if when else "Processing"
    return {
        "succeeded": "Received",
        "pending": "Waiting for confirmation",
        "failed": "Failed",
        "canceled": "Cancelled",
    }.get(payment.status, payment.status)


def method_words(payment: Payment) -> str:
    if payment.method == "card" and payment.card_last4:
        return f"{(payment.card_brand or 'Card').title()} ending {payment.card_last4}"
    return {
        "card": "Card",
        "us_bank_account": "Bank debit (ACH)",
        "bacs_debit": "Bacs Direct Debit",
        "sepa_debit": "SEPA Direct Debit",
        "bank_transfer": "Bank transfer",
        "cheque": "Cheque",
        "cash": "Cash",
        "other": "Other",
    }.get(payment.method, payment.method)


def ledger(invoices: list[Invoice]) -> tuple[list[Invoice], list[Invoice]]:
    """Open first (as payments orders them: soonest due), then the rest."""
    return [i for i in invoices if i.status in OPEN], [i for i in invoices if i.status not in OPEN]


def payable_minor(invoice: Invoice) -> int:
    return invoice.payable.amount_minor if invoice.payable else 0


def pay_state(
    invoice: Invoice,
    principal: Principal,
    *,
    viewing_as_client: bool,
    settings: PaymentSettings | None,
) -> PayState:
    """What the invoice page offers: the pay button, or the reason there is none."""
    if invoice.status not in OPEN:
        return "closed"
    if payable_minor(invoice) <= 0:
        return "verifying" if invoice.awaiting_verification else "nothing_due"
    if viewing_as_client:
        return "view_as"
    if principal.read_only:
        return "archived"
    if "approver" not in principal.roles:
        return "viewer"
    if settings is None or not settings.publishable_key:
        return "not_set_up"
    return "pay"


@dataclass(frozen=True)
class AmountChoice:
    amount_minor: int
    error: str = ""


def chosen_amount(choice: str, typed: str, invoice: Invoice) -> AmountChoice:
    """The pay form's amount: the whole balance, or what was typed. Only the
    reading happens here; payments checks the minimum and the maximum."""
    payable = payable_minor(invoice)
    if choice != "part":
        return AmountChoice(payable)
    currency = invoice.payable.currency if invoice.payable else ""
    if not typed:
        return AmountChoice(0, "Enter the amount you want to pay now.")
    try:
        amount = parse_amount(typed, currency)
    except ValueError as exc:
        return AmountChoice(0, str(exc))
    if amount <= 0:
        return AmountChoice(0, "Enter an amount more than zero.")
    return AmountChoice(amount)


def part_hint(invoice: Invoice, minimum_minor: int) -> str:
    """ "At least $100.00, at most $2,500.00." (all that is left when it is less)."""
    payable = payable_minor(invoice)
    currency = invoice.payable.currency if invoice.payable else "USD"
    most = format_amount(payable, currency)
    if minimum_minor and minimum_minor < payable:
        return f"At least {format_amount(minimum_minor, currency)}, at most {most}."
    return f"At most {most}."


def stripe_csp(stripe_js_url: str) -> str:
    """The pay page's own CSP: ours plus Stripe.js, its API and its frames.
    Stripe's own script talks to api.stripe.com and frames js.stripe.com and
    hooks.stripe.com (3-D Secure); localstripe's stand-in talks to its own
    origin, which serves the script."""
    parts = urlsplit(stripe_js_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    if parts.netloc == "js.stripe.com":
        api, frames = "https://api.stripe.com", "https://js.stripe.com https://hooks.stripe.com"
    else:
        api, frames = origin, origin
    return (
        CSP.replace("script-src 'self'", f"script-src 'self' {origin}")
        + f"; connect-src 'self' {api}; frame-src {frames}"
    )
