"""Invoices: lines, tax, totals, and the status a ledger of payments implies.

Pure: no I/O, no clock (`today` is passed in). Every amount is integer minor
units of the invoice's currency. What is paid and what is due are derived
from the payment records each time, never stored beside them, so they cannot
disagree: `paid + due == total`, always, to the minor unit.

Tax follows the suite's one rule (`services.chassis.money.tax_on`): on the
whole subtotal, half-up, never per line. A milestone invoice instead carries
its share of the accepted proposal's tax, allocated once by the plan
(domain_plan), so the milestones' taxes sum to the proposal's tax exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from services.chassis.errors import InvalidArgument, InvalidTransition
from services.chassis.money import INT64_MAX, tax_on
from services.chassis.validation import require_text

MAX_LINES = 200
MAX_QUANTITY = 10_000
MAX_UNIT_PRICE_MINOR = 10**11
MAX_TAX_RATE_BPS = 5_000  # 50 %
MAX_TERMS_DAYS = 365
DESCRIPTION_MAX = 300


class InvoiceStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    PROCESSING = "processing"  # bank debits on their way cover the rest
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    VOID = "void"
    UNCOLLECTIBLE = "uncollectible"


@dataclass(frozen=True)
class Line:
    description: str
    quantity: int
    unit_price_minor: int

    @property
    def amount_minor(self) -> int:
        return self.quantity * self.unit_price_minor


@dataclass(frozen=True)
class Totals:
    subtotal_minor: int
    tax_rate_bps: int
    tax_minor: int
    total_minor: int


def check_line(description: str, quantity: int, unit_price_minor: int, *, index: int) -> Line:
    field = f"lines[{index}]"
    text = require_text(description, field=f"{field}.description", max_len=DESCRIPTION_MAX)
    if not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidArgument(
            f"quantity must be between 1 and {MAX_QUANTITY:,}", field=f"{field}.quantity"
        )
    # Negative lines are credits ("less deposit"); bounded both ways so a
    # total always fits the database's 64-bit column.
    if not -MAX_UNIT_PRICE_MINOR <= unit_price_minor <= MAX_UNIT_PRICE_MINOR:
        raise InvalidArgument(
            "the unit price is outside what an invoice can hold", field=f"{field}.unit_price_minor"
        )
    return Line(text, quantity, unit_price_minor)


def check_lines(raw: Sequence[tuple[str, int, int]]) -> tuple[Line, ...]:
    if not raw:
        raise InvalidArgument("an invoice needs at least one line", field="lines")
    if len(raw) > MAX_LINES:
        raise InvalidArgument(f"an invoice can have at most {MAX_LINES} lines", field="lines")
    return tuple(check_line(d, q, p, index=i) for i, (d, q, p) in enumerate(raw))


def check_tax_rate(bps: int) -> int:
    if not 0 <= bps <= MAX_TAX_RATE_BPS:
        raise InvalidArgument("the tax rate must be between 0 and 50 %", field="tax_rate_bps")
    return bps


def totals(lines: Iterable[Line], tax_rate_bps: int) -> Totals:
    """A staff-written invoice: tax on the whole subtotal."""
    subtotal = sum(line.amount_minor for line in lines)
    if subtotal <= 0:
        raise InvalidArgument("an invoice's subtotal must be more than zero", field="lines")
    tax = tax_on(subtotal, check_tax_rate(tax_rate_bps))
    if subtotal + tax > INT64_MAX:
        raise InvalidArgument("the invoice total is too large", field="lines")
    return Totals(subtotal, tax_rate_bps, tax, subtotal + tax)


def due_date(issued_on: date, terms_days: int) -> date:
    """Net N: the due date is N calendar days after issue (0 = due on receipt)."""
    if not 0 <= terms_days <= MAX_TERMS_DAYS:
        raise InvalidArgument(
            f"payment terms must be between 0 and {MAX_TERMS_DAYS} days", field="terms_days"
        )
    return issued_on + timedelta(days=terms_days)


# -- the ledger --------------------------------------------------------------------------


@dataclass(frozen=True)
class Ledger:
    """What the payment records of one invoice add up to."""

    total_minor: int
    succeeded_minor: int = 0  # applied to the invoice by succeeded payments
    refunded_minor: int = 0
    processing_minor: int = 0  # bank debits submitted, not yet cleared
    # ACH debits waiting for the client to verify micro-deposits: not paid,
    # not on their way, but held so the same amount is not debited twice.
    verifying_minor: int = 0

    @property
    def paid_minor(self) -> int:
        return self.succeeded_minor - self.refunded_minor

    @property
    def due_minor(self) -> int:
        return self.total_minor - self.paid_minor

    @property
    def payable_minor(self) -> int:
        """What a new payment may still cover: money on its way, or waiting
        for the client's verification, counts."""
        return max(0, self.due_minor - self.processing_minor - self.verifying_minor)


@dataclass(frozen=True)
class InvoiceState:
    issued: bool
    voided: bool = False
    uncollectible: bool = False


def status(state: InvoiceState, ledger: Ledger) -> InvoiceStatus:
    """Derived, never stored on its own: the ledger decides. A part-paid
    invoice past its due date is still "partially paid" (overdue is a flag
    beside the status, see `is_overdue`), never relabelled "overdue"."""
    if state.voided:
        return InvoiceStatus.VOID
    if not state.issued:
        return InvoiceStatus.DRAFT
    if ledger.due_minor <= 0:
        return InvoiceStatus.PAID
    if state.uncollectible:
        return InvoiceStatus.UNCOLLECTIBLE
    if ledger.processing_minor > 0 and ledger.payable_minor == 0:
        return InvoiceStatus.PROCESSING
    if ledger.paid_minor > 0 or ledger.processing_minor > 0:
        return InvoiceStatus.PARTIALLY_PAID
    return InvoiceStatus.OPEN


def awaiting_verification(state: InvoiceState, ledger: Ledger) -> bool:
    """An ACH debit on this still-owing invoice waits for the client to verify
    their bank account: the client's next step is that, not paying again (the
    amount is held). Pages and the board show this flag; none infer it."""
    owing = {InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.PROCESSING}
    return ledger.verifying_minor > 0 and status(state, ledger) in owing


def is_overdue(state: InvoiceState, ledger: Ledger, *, due_on: date | None, today: date) -> bool:
    """Past its due date with money neither paid nor on its way."""
    open_states = {InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID}
    return (
        due_on is not None
        and today > due_on
        and status(state, ledger) in open_states
        and ledger.payable_minor > 0
    )


def plan_issue(state: InvoiceState) -> None:
    if state.voided:
        raise InvalidTransition("a void invoice cannot be issued", field="status")
    if state.issued:
        raise InvalidTransition("this invoice has already been issued", field="status")


def plan_void(state: InvoiceState, ledger: Ledger) -> None:
    """Void only what holds no money: refund first, so the books stay whole."""
    if state.voided:
        raise InvalidTransition("this invoice is already void", field="status")
    if ledger.paid_minor != 0 or ledger.processing_minor != 0:
        raise InvalidTransition(
            "an invoice with payments on it cannot be voided; refund them first",
            field="status",
        )
    if ledger.verifying_minor != 0:
        raise InvalidTransition(
            "a bank debit on this invoice awaits the client's verification; "
            "it must be cancelled first",
            field="status",
        )


def plan_mark_uncollectible(state: InvoiceState, ledger: Ledger) -> None:
    current = status(state, ledger)
    if current not in {InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID}:
        raise InvalidTransition(
            f"only an open or part-paid invoice can be written off (this one is {current.value})",
            field="status",
        )


def format_number(prefix: str, sequence: int) -> str:
    """Per-tenant numbering: INV-1001, INV-1002, ... (at least four digits)."""
    return f"{prefix}-{sequence:04d}"
