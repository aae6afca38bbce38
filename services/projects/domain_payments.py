"""Projects' copy of what payments says, for the status board: each invoice's
standing (a waiting item while the client owes money on it) and the plan's
next payment. Payments decides every amount and status; these rules only
decide which of two reports is newer and what the board shows for one.

Events arrive more than once and out of order. Every report is whole (the
invoice as it stood after the change, the plan's next payment as it was), so
keeping the newest is enough: a report older than the one held changes
nothing. Two reports of one instant come from one transaction (a payment
and the invoice it paid): the further state wins.

Pure: the caller loads what is held and passes the event's time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from services.chassis import money, timefmt

WAITING_KIND = "invoice_to_pay"
# An ACH debit on the invoice waits for the client to verify their bank
# account: a step of its own ("verify", not "pay"), beside any part still to pay.
VERIFY_KIND = "bank_account_to_verify"

# How far an invoice has gone, for two reports of one instant.
_RANK = {"processing": 1, "paid": 2, "void": 3}
# The states in which the client is asked to pay what is not already on its way.
_OWING = frozenset({"open", "partially_paid"})

# Payments' triggers as projects' stages (acceptance comes before any stage move).
STAGE_OF_TRIGGER = {
    "procurement": "procurement",
    "install": "install",
    "commissioning": "commissioning",
    "handover": "handover",
}


@dataclass(frozen=True)
class Standing:
    """An invoice as one of payments' events said it stood."""

    invoice_id: str
    number: str
    status: str
    currency: str
    total_minor: int
    due_minor: int
    processing_minor: int
    due_on: date | None
    expected_by: date | None
    milestone_label: str
    as_of: datetime
    verifying_minor: int = 0  # ACH debits held for the client's verification
    awaiting_verification: bool = False  # payments' flag: the client's step is to verify

    @property
    def payable_minor(self) -> int:
        """What the client is asked for: what is due and neither on its way
        nor held for their verification."""
        return max(0, self.due_minor - self.processing_minor - self.verifying_minor)


@dataclass(frozen=True)
class Waiting:
    """The invoice's waiting item: open with this title and link, or resolved."""

    open: bool
    title: str = ""
    link: str = ""


@dataclass(frozen=True)
class StandingPlan:
    standing: Standing
    waiting: Waiting  # pay what is left (WAITING_KIND)
    verify: Waiting  # verify the bank account (VERIFY_KIND)


def is_newer(held_as_of: datetime | None, held_status: str, incoming: Standing) -> bool:
    if held_as_of is None:
        return True
    if incoming.as_of != held_as_of:
        return incoming.as_of > held_as_of
    return _RANK.get(incoming.status, 0) > _RANK.get(held_status, 0)


def plan_standing(
    held_as_of: datetime | None, held_status: str, incoming: Standing
) -> StandingPlan | None:
    """What the board keeps after a report: None when it is not news."""
    if not is_newer(held_as_of, held_status, incoming):
        return None
    return StandingPlan(incoming, waiting_for(incoming), verifying_for(incoming))


def waiting_for(s: Standing) -> Waiting:
    """Open while money is owed and not on its way; paid, void, written off or
    wholly processing resolves it (processing shows beside the next payment)."""
    if s.status not in _OWING or s.payable_minor <= 0:
        return Waiting(open=False)
    amount = money.format_amount(s.payable_minor, s.currency)
    due = f" due {timefmt.format_date(s.due_on)}" if s.due_on else ""
    return Waiting(
        open=True,
        title=f"Invoice {s.number}, {amount}{due}",
        link=f"/invoices/{s.invoice_id}",
    )


def verifying_for(s: Standing) -> Waiting:
    """Open while payments says a debit awaits the client's verification:
    nothing is taken until they verify on Stripe's page, which the invoice
    links to; resolved when it is verified (processing), cancelled or fails."""
    if not s.awaiting_verification:
        return Waiting(open=False)
    amount = f", {money.format_amount(s.verifying_minor, s.currency)}" if s.verifying_minor else ""
    return Waiting(
        open=True,
        title=f"Verify your bank account to pay {s.number}{amount}",
        link=f"/invoices/{s.invoice_id}",
    )


def on_its_way(s: Standing) -> bool:
    """Money of this invoice is clearing (a bank debit): the board says so."""
    return s.status not in ("paid", "void") and s.processing_minor > 0


@dataclass(frozen=True)
class NextPayment:
    """The plan's next payment as payments last said it; `label` empty: none."""

    label: str
    trigger: str
    currency: str
    amount_minor: int
    invoice_id: str
    invoice_number: str
    due_on: date | None
    as_of: datetime


def is_newer_plan(held_as_of: datetime | None, incoming: NextPayment) -> bool:
    """Payments publishes a plan's reports one after the other under a lock,
    each holding all that came before: the later one is the truth."""
    return held_as_of is None or incoming.as_of > held_as_of


@dataclass(frozen=True)
class NextPaymentWhen:
    """How the board words an invoiced next payment: `when` beside its amount."""

    held_minor: int  # of the amount, held for the client's bank verification
    when: str


VERIFY_WHEN = "waiting for you to verify your bank account"


def planned_when(trigger: str) -> str:
    """A milestone not invoiced yet falls due at its event: "on acceptance",
    "at install"; an unknown trigger says nothing rather than something wrong."""
    if trigger == "acceptance":
        return "on acceptance"
    stage = STAGE_OF_TRIGGER.get(trigger)
    return f"at {stage}" if stage else ""


def next_payment_when(
    amount_minor: int,
    currency: str,
    due_on: date | None,
    *,
    verifying_minor: int,
    awaiting_verification: bool,
) -> NextPaymentWhen:
    """ "due 12 Dec 2026"; while an ACH debit on the invoice waits for the
    client to verify their bank account (payments' flag on the standing), the
    money it holds is not due again: all of it held, the client's step is to
    verify; a part, "£500.00 held for verification, £1,500.00 due 12 Dec 2026"."""
    due = f"due {timefmt.format_date(due_on)}" if due_on else ""
    held = min(verifying_minor, amount_minor) if awaiting_verification else 0
    if held <= 0:
        return NextPaymentWhen(0, due)
    if held == amount_minor:
        return NextPaymentWhen(held, VERIFY_WHEN)
    held_words = f"{money.format_amount(held, currency)} held for verification"
    rest = f"{money.format_amount(amount_minor - held, currency)} {due or 'due'}"
    return NextPaymentWhen(held, f"{held_words}, {rest}")
