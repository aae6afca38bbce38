"""The board's next payment: payments' word on it (`next_payment`), and the
standing of its invoice, so a bank debit held for the client's verification
is not called "due" (`domain_payments.next_payment_when`). One correlated
subquery of the board's single query (service/board.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Text, and_, false, func, select

from services.chassis import timefmt
from services.projects import domain_payments
from services.projects.models import InvoiceStanding, NextPayment

NEXT_PAYMENT = NextPayment.__table__
STANDING = InvoiceStanding.__table__


@dataclass(frozen=True)
class NextPaymentRow:
    """The plan's next payment, as payments last told us."""

    label: str
    trigger: str  # payments' trigger: acceptance or a stage name
    currency: str
    amount_minor: int
    invoice_id: str
    invoice_number: str
    due_on: date | None
    held_minor: int = 0  # of amount_minor, held for the client's bank verification
    when: str = ""  # once invoiced: "due 12 Dec 2026", or what is held (domain_payments)


def next_payment_column(project_id: Any) -> Any:
    """The project's next payment as one JSON object (null: none), with what
    its invoice holds for verification (its standing, when projects has one)."""
    n_ = NEXT_PAYMENT.c
    held = STANDING.alias("next_standing")
    h_ = held.c
    return (
        select(
            func.json_build_object(
                "label",
                n_.label,
                "trigger",
                n_.trigger,
                "currency",
                n_.currency,
                "amount_minor",
                n_.amount_minor,
                "invoice_id",
                n_.invoice_id,
                "invoice_number",
                n_.invoice_number,
                "due_on",
                n_.due_on,
                "verifying_minor",
                func.coalesce(h_.verifying_minor, 0),
                "awaiting_verification",
                func.coalesce(h_.awaiting_verification, false()),
            )
        )
        .select_from(
            NEXT_PAYMENT.outerjoin(
                held,
                # The plan names its invoice as text ("" before it is invoiced).
                and_(h_.project_id == n_.project_id, h_.invoice_id.cast(Text) == n_.invoice_id),
            )
        )
        .where(n_.project_id == project_id, n_.label != "")
        .scalar_subquery()
    )


def next_payment_row(value: Any) -> NextPaymentRow | None:
    raw = json.loads(value) if isinstance(value, str) else value
    if not raw:
        return None
    due_on = timefmt.parse_day(raw["due_on"] or "")
    amount_minor = int(raw["amount_minor"])
    # Not invoiced yet: nothing can be held; it falls due at its event.
    line = (
        domain_payments.next_payment_when(
            amount_minor,
            raw["currency"],
            due_on,
            verifying_minor=int(raw["verifying_minor"]),
            awaiting_verification=bool(raw["awaiting_verification"]),
        )
        if raw["invoice_id"]
        else domain_payments.NextPaymentWhen(
            held_minor=0, when=domain_payments.planned_when(raw["trigger"])
        )
    )
    return NextPaymentRow(
        label=raw["label"],
        trigger=raw["trigger"],
        currency=raw["currency"],
        amount_minor=amount_minor,
        invoice_id=raw["invoice_id"],
        invoice_number=raw["invoice_number"],
        due_on=due_on,
        held_minor=line.held_minor,
        when=line.when,
    )
