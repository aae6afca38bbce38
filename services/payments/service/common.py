"""What the payments use cases share: the clock, the finance role, the
tenant's settings row, and loading an invoice the caller may see with its
ledger (anything else is NOT_FOUND, never a hint that it exists)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import ColumnElement, and_, func, select, true
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.chassis.access import require_open_portal
from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.errors import NotFound
from services.chassis.timefmt import zone
from services.chassis.validation import parse_uuid
from services.payments import domain_bank_debits
from services.payments.domain_invoices import (
    InvoiceState,
    InvoiceStatus,
    Ledger,
    awaiting_verification,
    is_overdue,
    status,
)
from services.payments.domain_payments import Method, PaymentStatus
from services.payments.models import Invoice, InvoiceLine, Payment, PaymentSettings, Refund

Sessions = async_sessionmaker[AsyncSession]
FINANCE_ROLE = "finance"  # owner and admin pass too (chassis); project managers invoice too
BILLING_ROLES = ("finance", "project_manager")


def now_utc() -> datetime:
    return datetime.now(UTC)


def tenant_today(settings: PaymentSettings, now: datetime) -> date:
    """Invoices are dated on the integrator's clock, not the server's."""
    return now.astimezone(zone(settings.time_zone)).date()


async def load_settings(uow: UnitOfWork, *, lock: bool = False) -> PaymentSettings:
    """The tenant's row, created with the defaults the first time it is needed."""
    tenant = uuid.UUID(str(uow.tenant_id))
    query = select(PaymentSettings).where(PaymentSettings.tenant_id == tenant)
    settings = await uow.session.scalar(query.with_for_update() if lock else query)
    if settings is None:
        from services.payments.domain_plan import DEFAULT_PLAN

        # Two first uses at once (the seed's settings change and the consumer's
        # first invoice): the second waits on the first's row, then reads it.
        await uow.session.execute(
            insert(PaymentSettings)
            .values(
                tenant_id=tenant,
                default_plan=[
                    {"label": m.label, "trigger": m.trigger.value, "share_bps": m.share_bps}
                    for m in DEFAULT_PLAN
                ],
            )
            .on_conflict_do_nothing(index_elements=[PaymentSettings.tenant_id])
        )
        settings = await uow.session.scalar(query.with_for_update() if lock else query)
        assert settings is not None
    return settings


def visible_invoices(principal: Principal) -> ColumnElement[bool]:
    """Staff see the tenant's invoices; a client their customer's, once issued."""
    if not principal.is_client:
        principal.require_staff()
        return true()
    customer = parse_uuid(principal.customer_id or "", field="customer_id")
    return and_(Invoice.customer_id == customer, Invoice.issued_at.is_not(None))


async def load_invoice(
    uow: UnitOfWork, principal: Principal, invoice_id: str, *, lock: bool = False
) -> Invoice:
    iid = parse_uuid(invoice_id, field="invoice_id")
    await require_open_portal(uow, principal)
    query = select(Invoice).where(Invoice.id == iid, visible_invoices(principal))
    invoice = await uow.session.scalar(query.with_for_update() if lock else query)
    if invoice is None:
        raise NotFound("this invoice isn't available", field="invoice_id")
    return invoice


@dataclass(frozen=True)
class InvoiceView:
    invoice: Invoice
    lines: list[InvoiceLine]
    payments: list[Payment]
    refunded: dict[uuid.UUID, int]  # payment id -> refunded so far
    ledger: Ledger
    status: InvoiceStatus
    overdue: bool
    bank_debits: list[Method]  # what the pay page may offer besides a card
    awaiting_verification: bool = False  # an ACH debit waits for the client's verification


def invoice_state(invoice: Invoice) -> InvoiceState:
    return InvoiceState(issued=invoice.issued_at is not None, voided=invoice.voided_at is not None)


_LEDGER_STATUSES = [
    PaymentStatus.SUCCEEDED,
    PaymentStatus.PROCESSING,
    PaymentStatus.AWAITING_VERIFICATION,
]


async def ledgers(uow: UnitOfWork, invoices: list[Invoice]) -> dict[uuid.UUID, Ledger]:
    """Paid, refunded and processing per invoice, summed in two queries."""
    ids = [i.id for i in invoices]
    if not ids:
        return {}
    sums = (
        await uow.session.execute(
            select(Payment.invoice_id, Payment.status, func.sum(Payment.applied_minor))
            .where(Payment.invoice_id.in_(ids))
            .where(Payment.status.in_(_LEDGER_STATUSES))
            .group_by(Payment.invoice_id, Payment.status)
        )
    ).all()
    refunds = (
        await uow.session.execute(
            select(Payment.invoice_id, func.sum(Refund.amount_minor))
            .join(Refund, Refund.payment_id == Payment.id)
            .where(Payment.invoice_id.in_(ids))
            .group_by(Payment.invoice_id)
        )
    ).all()
    succeeded = {i: int(s) for i, st, s in sums if st == PaymentStatus.SUCCEEDED}
    processing = {i: int(s) for i, st, s in sums if st == PaymentStatus.PROCESSING}
    verifying = {i: int(s) for i, st, s in sums if st == PaymentStatus.AWAITING_VERIFICATION}
    refunded = {i: int(s) for i, s in refunds}
    return {
        inv.id: Ledger(
            total_minor=inv.total_minor,
            succeeded_minor=succeeded.get(inv.id, 0),
            refunded_minor=refunded.get(inv.id, 0),
            processing_minor=processing.get(inv.id, 0),
            verifying_minor=verifying.get(inv.id, 0),
        )
        for inv in invoices
    }


def bank_debits_for(invoice: Invoice, settings: PaymentSettings) -> list[Method]:
    return domain_bank_debits.offered(
        invoice.currency,
        ach_enabled=settings.ach_debit_enabled,
        bacs_enabled=settings.bacs_debit_enabled,
    )


async def invoice_view(
    uow: UnitOfWork, invoice: Invoice, *, settings: PaymentSettings, today: date
) -> InvoiceView:
    lines = list(
        (
            await uow.session.scalars(
                select(InvoiceLine)
                .where(InvoiceLine.invoice_id == invoice.id)
                .order_by(InvoiceLine.position)
            )
        ).all()
    )
    payments = list(
        (
            await uow.session.scalars(
                select(Payment).where(Payment.invoice_id == invoice.id).order_by(Payment.created_at)
            )
        ).all()
    )
    refunded_rows = (
        await uow.session.execute(
            select(Refund.payment_id, func.sum(Refund.amount_minor))
            .where(Refund.payment_id.in_([p.id for p in payments]))
            .group_by(Refund.payment_id)
        )
    ).all()
    ledger = (await ledgers(uow, [invoice]))[invoice.id]
    return summarise(
        invoice, ledger, today, lines, payments, dict(refunded_rows), settings=settings
    )


def summarise(
    invoice: Invoice,
    ledger: Ledger,
    today: date,
    lines: list[InvoiceLine] | None = None,
    payments: list[Payment] | None = None,
    refunded: dict[uuid.UUID, int] | None = None,
    *,
    settings: PaymentSettings,
) -> InvoiceView:
    state = invoice_state(invoice)
    return InvoiceView(
        invoice=invoice,
        lines=lines or [],
        payments=payments or [],
        refunded={k: int(v) for k, v in (refunded or {}).items()},
        ledger=ledger,
        status=status(state, ledger),
        overdue=is_overdue(state, ledger, due_on=invoice.due_on, today=today),
        bank_debits=bank_debits_for(invoice, settings),
        awaiting_verification=awaiting_verification(state, ledger),
    )
