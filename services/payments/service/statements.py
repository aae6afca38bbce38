"""A customer's account as dated entries, for the statement: every invoice
issued (and voided), every payment that succeeded and every refund, on the
tenant's calendar. `domain_documents.build_statement` does the arithmetic."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from services.chassis.db import UnitOfWork
from services.chassis.timefmt import local
from services.payments.domain_documents import Entry, EntryKind, method_in_words
from services.payments.domain_payments import PaymentStatus
from services.payments.models import Invoice, Payment, Refund


async def statement_entries(uow: UnitOfWork, customer_id: uuid.UUID, time_zone: str) -> list[Entry]:
    invoices = {
        i.id: i
        for i in (
            await uow.session.scalars(
                select(Invoice).where(
                    Invoice.customer_id == customer_id, Invoice.issued_at.is_not(None)
                )
            )
        ).all()
    }
    entries: list[Entry] = []
    for i in invoices.values():
        assert i.issued_at is not None and i.issued_on is not None
        project = f"{i.project_reference} {i.project_name}".strip()
        entries.append(
            Entry(
                on=i.issued_on,
                kind=EntryKind.INVOICE,
                reference=i.number or "",
                description=project,
                amount_minor=i.total_minor,
                currency=i.currency,
                order=(i.issued_at, str(i.id)),
            )
        )
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
    if not invoices:
        return entries
    payments = (
        await uow.session.scalars(
            select(Payment).where(
                Payment.invoice_id.in_(list(invoices)), Payment.status == PaymentStatus.SUCCEEDED
            )
        )
    ).all()
    methods: dict[uuid.UUID, str] = {}
    for p in payments:
        at = p.succeeded_at or p.created_at
        number = invoices[p.invoice_id].number or ""
        methods[p.id] = method_in_words(p.method, card_brand=p.card_brand, card_last4=p.card_last4)
        entries.append(
            Entry(
                on=p.received_on or local(at, time_zone).date(),
                kind=EntryKind.PAYMENT,
                reference=number,
                description=methods[p.id],
                amount_minor=p.applied_minor,
                currency=p.currency,
                order=(at, str(p.id)),
            )
        )
    by_payment = {p.id: p for p in payments}
    refunds = (
        await uow.session.scalars(select(Refund).where(Refund.payment_id.in_(list(by_payment))))
    ).all()
    for r in refunds:
        paid = by_payment[r.payment_id]
        entries.append(
            Entry(
                on=local(r.created_at, time_zone).date(),
                kind=EntryKind.REFUND,
                reference=invoices[paid.invoice_id].number or "",
                description=f"to the {methods[paid.id].lower()}",
                amount_minor=r.amount_minor,
                currency=paid.currency,
                order=(r.created_at, str(r.id)),
            )
        )
    return entries
