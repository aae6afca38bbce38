"""What a sync record will post: read from payments' own tables when the
job claims it, built into the port's document once what it needs (the
customer's, the invoice's external id) is known."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from services.chassis.db import UnitOfWork
from services.chassis.money import format_rate
from services.chassis.timefmt import local
from services.payments import domain_sync
from services.payments.accounting import CustomerDoc, InvoiceDoc, LineDoc, PaymentDoc
from services.payments.domain_sync import SyncKind
from services.payments.models import Contract, Invoice, InvoiceLine, Payment, SyncRecord
from services.payments.service.common import load_settings

Known = dict[tuple[str, str], str]  # (kind, record id) -> the provider's id


@dataclass
class Work:
    sync_id: uuid.UUID
    kind: SyncKind
    record_id: str
    attempts: int
    needs: tuple[tuple[str, str], ...]  # posted first, in this order
    build: Callable[[Known], Any] | None  # None: the record cannot be posted
    problem: str = ""


async def work_for(uow: UnitOfWork, row: SyncRecord) -> Work:
    """What the record will post, read now (the claim's transaction)."""
    kind = SyncKind(row.kind)
    work = Work(row.id, kind, row.record_id, row.attempts, (), None)
    try:
        record = uuid.UUID(row.record_id)
    except ValueError:
        work.problem = "this record's id is not one payments made"
        return work
    if kind == SyncKind.CUSTOMER:
        name = await uow.session.scalar(
            select(Contract.client_name)
            .where(Contract.customer_id == record)
            .order_by(Contract.accepted_at.desc().nulls_last())
            .limit(1)
        )
        label = name or f"Customer {row.record_id[:8]}"
        work.build = lambda known: CustomerDoc(reference=row.record_id, name=label[:100])
        return work
    if kind == SyncKind.INVOICE:
        return await _invoice_work(uow, work, record)
    return await _payment_work(uow, work, record)


async def _invoice_work(uow: UnitOfWork, work: Work, record: uuid.UUID) -> Work:
    invoice = await uow.session.get(Invoice, record)
    if invoice is None or invoice.number is None or invoice.issued_on is None:
        work.problem = "the invoice is not issued (or no longer exists)"
        return work
    lines = (
        await uow.session.scalars(
            select(InvoiceLine)
            .where(InvoiceLine.invoice_id == invoice.id)
            .order_by(InvoiceLine.position)
        )
    ).all()
    customer = (SyncKind.CUSTOMER.value, str(invoice.customer_id))
    work.needs = (customer,)
    number, due = invoice.number, invoice.due_on or invoice.issued_on
    memo = " ".join(x for x in (invoice.project_reference, invoice.project_name) if x)
    work.build = lambda known: InvoiceDoc(
        number=number,
        customer_external_id=known[customer],
        currency=invoice.currency,
        issued_on=invoice.issued_on,
        due_on=due,
        lines=tuple(LineDoc(x.description, x.quantity, x.unit_price_minor) for x in lines),
        tax_minor=invoice.tax_minor,
        tax_label=f"Tax at {format_rate(invoice.tax_rate_bps)}",
        memo=memo,
        total_minor=invoice.total_minor,
    )
    return work


async def _payment_work(uow: UnitOfWork, work: Work, record: uuid.UUID) -> Work:
    payment = await uow.session.get(Payment, record)
    invoice = await uow.session.get(Invoice, payment.invoice_id) if payment else None
    if payment is None or invoice is None or payment.succeeded_at is None:
        work.problem = "the payment has not succeeded (or no longer exists)"
        return work
    settings = await load_settings(uow)
    received = payment.received_on or local(payment.succeeded_at, settings.time_zone).date()
    customer = (SyncKind.CUSTOMER.value, str(invoice.customer_id))
    bill = (SyncKind.INVOICE.value, str(invoice.id))
    work.needs = (customer, bill)
    work.build = lambda known: PaymentDoc(
        reference=domain_sync.payment_reference(str(payment.id)),
        invoice_number=invoice.number or "",
        invoice_external_id=known[bill],
        customer_external_id=known[customer],
        currency=payment.currency,
        amount_minor=payment.applied_minor,
        received_on=received,
        method=payment.method.replace("_", " "),
    )
    return work
