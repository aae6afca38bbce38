"""A customer's account as dated entries, decided in pure code: each invoice
issued (and its void), each payment that succeeded and each refund, dated on
the tenant's calendar. `service/statements.py` loads the rows;
`domain_documents.build_statement` does the arithmetic."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Protocol

from services.chassis.timefmt import local
from services.payments.domain_documents import Entry, EntryKind, method_in_words


class InvoiceFacts(Protocol):
    @property
    def id(self) -> uuid.UUID: ...
    @property
    def number(self) -> str | None: ...
    @property
    def project_reference(self) -> str: ...
    @property
    def project_name(self) -> str: ...
    @property
    def issued_at(self) -> datetime | None: ...
    @property
    def issued_on(self) -> date | None: ...
    @property
    def voided_at(self) -> datetime | None: ...
    @property
    def void_reason(self) -> str: ...
    @property
    def total_minor(self) -> int: ...
    @property
    def currency(self) -> str: ...


class PaymentFacts(Protocol):
    @property
    def id(self) -> uuid.UUID: ...
    @property
    def invoice_id(self) -> uuid.UUID: ...
    @property
    def method(self) -> str: ...
    @property
    def card_brand(self) -> str: ...
    @property
    def card_last4(self) -> str: ...
    @property
    def succeeded_at(self) -> datetime | None: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def received_on(self) -> date | None: ...
    @property
    def applied_minor(self) -> int: ...
    @property
    def currency(self) -> str: ...


class RefundFacts(Protocol):
    @property
    def id(self) -> uuid.UUID: ...
    @property
    def payment_id(self) -> uuid.UUID: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def amount_minor(self) -> int: ...


def invoice_entries(i: InvoiceFacts, time_zone: str) -> list[Entry]:
    """Issued: owed from its issue date; voided: owed no more from the void's."""
    assert i.issued_at is not None and i.issued_on is not None, "only issued invoices"
    entries = [
        Entry(
            on=i.issued_on,
            kind=EntryKind.INVOICE,
            reference=i.number or "",
            description=f"{i.project_reference} {i.project_name}".strip(),
            amount_minor=i.total_minor,
            currency=i.currency,
            order=(i.issued_at, str(i.id)),
        )
    ]
    if i.voided_at is not None:
        entries.append(
            Entry(
                on=local(i.voided_at, time_zone).date(),
                kind=EntryKind.VOID,
                reference=i.number or "",
                description=i.void_reason,
                amount_minor=i.total_minor,
                currency=i.currency,
                order=(i.voided_at, str(i.id)),
            )
        )
    return entries


def payment_entry(p: PaymentFacts, invoice_number: str, time_zone: str) -> Entry:
    """Dated when the money arrived (a bank transfer's stated day), else when it succeeded."""
    at = p.succeeded_at or p.created_at
    return Entry(
        on=p.received_on or local(at, time_zone).date(),
        kind=EntryKind.PAYMENT,
        reference=invoice_number,
        description=_method(p),
        amount_minor=p.applied_minor,
        currency=p.currency,
        order=(at, str(p.id)),
    )


def refund_entry(r: RefundFacts, paid: PaymentFacts, invoice_number: str, time_zone: str) -> Entry:
    return Entry(
        on=local(r.created_at, time_zone).date(),
        kind=EntryKind.REFUND,
        reference=invoice_number,
        description=f"to the {_method(paid).lower()}",
        amount_minor=r.amount_minor,
        currency=paid.currency,
        order=(r.created_at, str(r.id)),
    )


def statement_entries(
    invoices: Sequence[InvoiceFacts],
    payments: Sequence[PaymentFacts],
    refunds: Sequence[RefundFacts],
    time_zone: str,
) -> list[Entry]:
    """Every entry of the account; payments and refunds reference their invoice's number."""
    numbers = {i.id: i.number or "" for i in invoices}
    by_payment = {p.id: p for p in payments}
    entries = [e for i in invoices for e in invoice_entries(i, time_zone)]
    entries += [payment_entry(p, numbers[p.invoice_id], time_zone) for p in payments]
    for r in refunds:
        paid = by_payment[r.payment_id]
        entries.append(refund_entry(r, paid, numbers[paid.invoice_id], time_zone))
    return entries


def _method(p: PaymentFacts) -> str:
    return method_in_words(p.method, card_brand=p.card_brand, card_last4=p.card_last4)
