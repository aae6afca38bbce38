"""What the invoice, receipt and statement PDFs say, decided once: who may
have which document, a payment method in words, what was left to pay after a
payment, and a statement's running balance.

Pure: no I/O, no clock. Amounts are integer minor units; the PDFs format them
with `chassis.money` as the portal does. Dates are the tenant's calendar.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from services.chassis.errors import InvalidArgument, InvalidTransition, NotFound
from services.chassis.money import format_amount
from services.chassis.timefmt import format_date

# A statement spans at most this many days (about ten years): enough for any
# customer's whole history, small enough that one request cannot ask for a century.
MAX_STATEMENT_DAYS = 3_660

METHOD_WORDS = {
    "card": "Card",
    "us_bank_account": "ACH bank debit",
    "bacs_debit": "Bacs Direct Debit",
    "sepa_debit": "SEPA Direct Debit",
    "bank_transfer": "Bank transfer",
    "cheque": "Cheque",
    "cash": "Cash",
    "other": "Other",
}
CARD_BRANDS = {
    "visa": "Visa",
    "mastercard": "Mastercard",
    "amex": "American Express",
    "discover": "Discover",
    "diners": "Diners Club",
    "jcb": "JCB",
    "unionpay": "UnionPay",
}


def method_in_words(method: str, *, card_brand: str = "", card_last4: str = "") -> str:
    """ "Visa card ending 4242", "Bank transfer": how a person names the method."""
    if method == "card":
        brand = CARD_BRANDS.get(card_brand.lower(), card_brand.title())
        words = f"{brand} card" if brand else "Card"
        return f"{words} ending {card_last4}" if card_last4 else words
    return METHOD_WORDS.get(method, method.replace("_", " ").capitalize() or "Payment")


# -- who may have which document -----------------------------------------------------


def check_invoice_document(*, issued: bool, for_client: bool) -> None:
    """A client never reaches a draft (it is not theirs to see yet); staff may
    print one to check it before issuing."""
    if not issued and for_client:
        raise NotFound("this invoice isn't available", field="invoice_id")


def check_receipt(*, succeeded: bool) -> None:
    """Only money received has a receipt: not an attempt, a debit still on its
    way, or a failure."""
    if not succeeded:
        raise InvalidTransition(
            "a receipt exists once a payment has succeeded; this one has not",
            field="payment_id",
        )


# -- a receipt: what was left after this payment ---------------------------------------


@dataclass(frozen=True)
class Settled:
    """A payment that succeeded, in the order the money arrived."""

    key: tuple[datetime, datetime, str]  # (succeeded at, created at, id): a total order
    applied_minor: int


def left_after(
    total_minor: int,
    settled: Iterable[Settled],
    refunds: Iterable[tuple[datetime, int]],
    *,
    this: Settled,
) -> int:
    """What was left to pay on the invoice once this payment arrived: the total,
    less every payment up to and including this one, plus what was refunded
    before it. The same however often it is drawn, so a filed receipt and one
    fetched later agree."""
    paid = sum(s.applied_minor for s in settled if s.key <= this.key)
    refunded = sum(amount for at, amount in refunds if at <= this.key[0])
    return total_minor - paid + refunded


def receipt_ordinal(settled: Sequence[Settled], this: Settled) -> int:
    """This receipt's number on its invoice: 1 for the first money received."""
    return sum(1 for s in settled if s.key <= this.key)


def receipt_title(
    *, invoice_number: str, ordinal: int, amount_minor: int, currency: str, received_on: date
) -> str:
    """How a filed receipt is listed in the client's documents: "Receipt R2 for
    INV-1002: $500.00 on 2 Dec 2026". Every payment on an invoice files one, so
    the title says which, how much and when, or two receipts read the same.
    R2 is the receipt's own reference (INV-1002-R2) without the invoice again."""
    amount = format_amount(amount_minor, currency)
    return f"Receipt R{ordinal} for {invoice_number}: {amount} on {format_date(received_on)}"


# -- statements ----------------------------------------------------------------------


def check_statement_range(from_date: date | None, to_date: date | None) -> tuple[date, date]:
    if from_date is None:
        raise InvalidArgument("give the first day of the statement", field="from_date")
    if to_date is None:
        raise InvalidArgument("give the last day of the statement", field="to_date")
    if to_date < from_date:
        raise InvalidArgument("the last day must not be before the first", field="to_date")
    if (to_date - from_date).days >= MAX_STATEMENT_DAYS:
        raise InvalidArgument(
            f"a statement covers at most {MAX_STATEMENT_DAYS} days; choose a shorter range",
            field="from_date",
        )
    return from_date, to_date


class EntryKind(StrEnum):
    INVOICE = "invoice"  # issued: the customer owes its total
    VOID = "void"  # the invoice voided: it is owed no more
    PAYMENT = "payment"  # money received (applied to an invoice)
    REFUND = "refund"  # money given back: owed again


@dataclass(frozen=True)
class Entry:
    on: date
    kind: EntryKind
    reference: str  # INV-1001
    description: str  # "Invoice, PRJ-0001 Home cinema", "Bank transfer"
    amount_minor: int  # always positive; the kind decides the sign
    currency: str
    order: tuple[datetime, str]  # the instant and a tie-breaker, for one stable order

    @property
    def signed_minor(self) -> int:
        """What the entry does to the balance the customer owes."""
        owed = self.kind in (EntryKind.INVOICE, EntryKind.REFUND)
        return self.amount_minor if owed else -self.amount_minor


@dataclass(frozen=True)
class StatementSection:
    """One currency's account: a customer billed in two currencies has two."""

    currency: str
    opening_minor: int
    rows: tuple[tuple[Entry, int], ...]  # each entry and the balance after it
    closing_minor: int
    invoiced_minor: int  # issued less voided, in the range
    received_minor: int  # payments less refunds, in the range


def build_statement(
    entries: Iterable[Entry], *, start: date, end: date, currency: str
) -> tuple[StatementSection, ...]:
    """Opening balance from everything before `start`; the range's entries in
    date order with a running balance; the closing balance. A currency with
    neither an opening balance nor entries is left out; with no activity at
    all, one empty section in the tenant's `currency`."""
    by_currency: dict[str, list[Entry]] = {}
    for e in entries:
        if e.on <= end:
            by_currency.setdefault(e.currency, []).append(e)
    sections = []
    for cur in sorted(by_currency):
        items = sorted(by_currency[cur], key=lambda e: (e.on, e.order))
        opening = sum(e.signed_minor for e in items if e.on < start)
        balance, rows = opening, []
        for e in items:
            if e.on < start:
                continue
            balance += e.signed_minor
            rows.append((e, balance))
        if not rows and opening == 0:
            continue
        in_range = [e for e, _ in rows]
        sections.append(
            StatementSection(
                currency=cur,
                opening_minor=opening,
                rows=tuple(rows),
                closing_minor=balance,
                invoiced_minor=sum(
                    e.signed_minor
                    for e in in_range
                    if e.kind in (EntryKind.INVOICE, EntryKind.VOID)
                ),
                received_minor=-sum(
                    e.signed_minor
                    for e in in_range
                    if e.kind in (EntryKind.PAYMENT, EntryKind.REFUND)
                ),
            )
        )
    if not sections:
        sections.append(StatementSection(currency, 0, (), 0, 0, 0))
    return tuple(sections)


def statement_filename(start: date, end: date) -> str:
    return f"statement-{start.isoformat()}-to-{end.isoformat()}.pdf"
