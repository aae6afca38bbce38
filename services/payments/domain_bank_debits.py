"""A client's bank debit on the pay page: which ones the integrator offers
for an invoice, and the details and mandate a debit needs before Stripe is
asked. Pure.

ACH Direct Debit (`us_bank_account`) debits US dollars only and Bacs Direct
Debit (`bacs_debit`) pounds sterling only; each is offered where the tenant
turned it on (their Stripe account must have it too). Stripe requires the
client's acceptance of a mandate for both; it is recorded with the intent as
an online acceptance (IP address and user agent).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.chassis.errors import InvalidArgument, InvalidTransition
from services.chassis.validation import require_text
from services.payments.domain_payments import Method, PaymentStatus

CURRENCY = {Method.US_BANK_ACCOUNT: "USD", Method.BACS_DEBIT: "GBP"}
_DIGITS = re.compile(r"[\s-]")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$")


@dataclass(frozen=True)
class BankDebit:
    method: Method
    account_holder_name: str
    email: str
    routing_number: str  # ACH
    sort_code: str  # Bacs
    account_number: str
    ip_address: str
    user_agent: str

    @property
    def last4(self) -> str:
        return self.account_number[-4:]


def offered(currency: str, *, ach_enabled: bool, bacs_enabled: bool) -> list[Method]:
    """The bank debits a client may choose for an invoice in `currency`."""
    on = {Method.US_BANK_ACCOUNT: ach_enabled, Method.BACS_DEBIT: bacs_enabled}
    return [m for m, cur in CURRENCY.items() if on[m] and cur == currency.upper()]


def _digits(value: str, field: str, lengths: range, words: str) -> str:
    text = _DIGITS.sub("", value)
    if not text.isdigit() or len(text) not in lengths:
        raise InvalidArgument(words, field=field)
    return text


def check_bank_debit(
    method: str,
    *,
    currency: str,
    ach_enabled: bool,
    bacs_enabled: bool,
    account_holder_name: str,
    email: str,
    routing_number: str,
    sort_code: str,
    account_number: str,
    mandate_accepted: bool,
    ip_address: str,
    user_agent: str,
) -> BankDebit:
    """The debit as Stripe will be asked for it, or the first thing wrong, in words."""
    how = {m.value: m for m in CURRENCY}.get(method)
    if how is None or how not in offered(
        currency, ach_enabled=ach_enabled, bacs_enabled=bacs_enabled
    ):
        raise InvalidArgument("this bank debit is not offered for this invoice", field="method")
    name = require_text(account_holder_name, field="account_holder_name", max_len=100)
    if not mandate_accepted:
        raise InvalidArgument(
            "tick the box to agree to the debit mandate before paying", field="mandate_accepted"
        )
    routing = sort = ""
    if how is Method.US_BANK_ACCOUNT:
        routing = _digits(
            routing_number, "routing_number", range(9, 10), "the routing number is 9 digits"
        )
        account = _digits(
            account_number, "account_number", range(4, 18), "the account number is 4 to 17 digits"
        )
    else:
        sort = _digits(sort_code, "sort_code", range(6, 7), "the sort code is 6 digits")
        account = _digits(
            account_number, "account_number", range(8, 9), "the account number is 8 digits"
        )
    mail = email.strip()
    if how is Method.BACS_DEBIT and not _EMAIL.match(mail):
        raise InvalidArgument(
            "enter your email address: the mandate confirmation is sent there", field="email"
        )
    return BankDebit(
        how, name, mail, routing, sort, account, ip_address.strip()[:45], user_agent[:500]
    )


# -- micro-deposit verification (ACH typed by hand, no Financial Connections) --


@dataclass(frozen=True)
class Verification:
    """Stripe's `next_action.verify_with_microdeposits`: where the client
    verifies, when the deposit should land (a Unix time, 0 if Stripe gave
    none) and how ("descriptor_code": a 6-character code on one deposit;
    "amounts": two small amounts)."""

    url: str
    arrival_at: int
    microdeposit_type: str


def verification_of(next_action: object) -> Verification | None:
    """The micro-deposit step in a PaymentIntent's `next_action`, if that is
    what it asks for (3-D Secure's `use_stripe_sdk` is not)."""
    if not isinstance(next_action, dict) or next_action.get("type") != "verify_with_microdeposits":
        return None
    step = next_action.get("verify_with_microdeposits") or {}
    url = str(step.get("hosted_verification_url") or "")
    if not url.startswith("https://"):  # only ever a link to Stripe's own page
        url = ""
    kind = str(step.get("microdeposit_type") or "")
    return Verification(
        url=url[:500],
        arrival_at=int(step.get("arrival_date") or 0),
        microdeposit_type=kind if kind in {"descriptor_code", "amounts"} else "",
    )


def plan_cancel(status: PaymentStatus, *, method: Method) -> None:
    """A client may give up a bank debit only while it waits for their
    verification: nothing has been debited, and Stripe still lets the intent
    be canceled. Once processing, the money is on its way."""
    if method is not Method.US_BANK_ACCOUNT or status is not PaymentStatus.AWAITING_VERIFICATION:
        words = {
            PaymentStatus.PROCESSING: "this payment is already on its way from your bank",
            PaymentStatus.SUCCEEDED: "this payment has been received",
            PaymentStatus.CANCELED: "this payment was already cancelled",
        }.get(status, "only a bank debit awaiting verification can be cancelled here")
        raise InvalidTransition(words, field="payment")
