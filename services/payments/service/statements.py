"""A customer's account as dated entries, for the statement: every invoice
issued (and voided), every payment that succeeded and every refund, on the
tenant's calendar. `domain_statement` makes the entries,
`domain_documents.build_statement` does the arithmetic."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from services.chassis.db import UnitOfWork
from services.payments.domain_documents import Entry
from services.payments.domain_payments import PaymentStatus
from services.payments.domain_statement import statement_entries as entries_of
from services.payments.models import Invoice, Payment, Refund


async def statement_entries(uow: UnitOfWork, customer_id: uuid.UUID, time_zone: str) -> list[Entry]:
    invoices = (
        await uow.session.scalars(
            select(Invoice).where(
                Invoice.customer_id == customer_id, Invoice.issued_at.is_not(None)
            )
        )
    ).all()
    if not invoices:
        return []
    payments = (
        await uow.session.scalars(
            select(Payment).where(
                Payment.invoice_id.in_([i.id for i in invoices]),
                Payment.status == PaymentStatus.SUCCEEDED,
            )
        )
    ).all()
    refunds = (
        await uow.session.scalars(
            select(Refund).where(Refund.payment_id.in_([p.id for p in payments]))
        )
    ).all()
    return entries_of(invoices, payments, refunds, time_zone)
