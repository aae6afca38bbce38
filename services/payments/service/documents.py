"""Invoice, receipt and statement PDFs: who may have them (payments decides,
as for the invoice itself: staff; the customer's client, archived too; a
deleted customer's nobody), and the facts each prints, read in the caller's
transaction (a gRPC read's own, or the consumer's when an event files one)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

from portal.common.v1 import common_pb2
from sqlalchemy import func, select

from services.chassis.access import require_open_portal
from services.chassis.auth import Principal
from services.chassis.background import BackgroundProcess
from services.chassis.db import UnitOfWork
from services.chassis.errors import InvalidArgument, NotFound
from services.chassis.letterhead import layout
from services.chassis.pdf import Letterhead
from services.chassis.timefmt import local, parse_day
from services.chassis.validation import parse_uuid
from services.payments import domain_documents, invoice_pdf, statement_pdf
from services.payments.domain_documents import Settled
from services.payments.domain_payments import PaymentStatus
from services.payments.models import Contract, Invoice, Payment, PaymentSettings, Refund
from services.payments.service.common import (
    InvoiceView,
    Sessions,
    invoice_view,
    load_invoice,
    load_settings,
    now_utc,
    tenant_today,
)
from services.payments.service.statements import statement_entries


@dataclass(frozen=True)
class Pdf:
    pdf: bytes
    filename: str
    title: str = ""  # how it is listed once filed in the project's documents


# -- the letterhead ------------------------------------------------------------------


async def letterhead_for(
    uow: UnitOfWork,
    settings: PaymentSettings,
    given: common_pb2.Letterhead | None,
    *,
    client_name: str = "",
    site: str = "",
) -> Letterhead:
    """The caller's letterhead (the gateway's, fresh), else the one the newest
    accepted proposal brought; dates on the clock invoices are dated by."""
    message = given if given is not None and given.ByteSize() else None
    if message is None:
        stored = await uow.session.scalar(
            select(PaymentSettings.letterhead).where(
                PaymentSettings.tenant_id == settings.tenant_id
            )
        )
        message = common_pb2.Letterhead.FromString(stored) if stored else common_pb2.Letterhead()
    return replace(
        layout(message, client_name=client_name, site=site), time_zone=settings.time_zone or "UTC"
    )


async def _contract(uow: UnitOfWork, invoice: Invoice) -> Contract | None:
    return await uow.session.get(Contract, invoice.project_id)


def _day(payment: Payment, time_zone: str) -> date:
    """The day money arrived, on the tenant's calendar (an offline payment's
    is the day staff entered)."""
    if payment.received_on:
        return payment.received_on
    return local(payment.succeeded_at or payment.created_at, time_zone).date()


# -- the invoice ---------------------------------------------------------------------


async def invoice_document(
    uow: UnitOfWork,
    principal: Principal,
    invoice_id: str,
    given: common_pb2.Letterhead | None,
    *,
    background: BackgroundProcess | None = None,
) -> Pdf:
    """`background`: draw it there (the filing after issue: nobody waits for
    it, and on the loop it held up the consumers that do); else in place."""
    invoice = await load_invoice(uow, principal, invoice_id)
    settings = await load_settings(uow)
    view = await invoice_view(
        uow, invoice, settings=settings, today=tenant_today(settings, now_utc())
    )
    contract = await _contract(uow, invoice)
    label = ""
    if contract is not None and invoice.milestone:
        label = next(
            (m["label"] for m in contract.milestones if m.get("trigger") == invoice.milestone), ""
        )
    doc = invoice_pdf.InvoiceDoc(
        number=invoice.number or "",
        status=view.status.value,
        currency=invoice.currency,
        project_reference=invoice.project_reference,
        project_name=invoice.project_name,
        issued_on=invoice.issued_on,
        due_on=invoice.due_on,
        created_at=invoice.issued_at or invoice.created_at,
        lines=tuple((ln.description, ln.quantity, ln.unit_price_minor) for ln in view.lines),
        subtotal_minor=invoice.subtotal_minor,
        tax_rate_bps=invoice.tax_rate_bps,
        tax_minor=invoice.tax_minor,
        total_minor=invoice.total_minor,
        paid_minor=view.ledger.paid_minor,
        due_minor=view.ledger.due_minor,
        processing_minor=view.ledger.processing_minor,
        overdue=view.overdue,
        memo=invoice.memo,
        milestone=invoice.milestone or "",
        milestone_label=label,
        void_reason=invoice.void_reason,
        payments=_payment_rows(view, settings.time_zone),
    )
    letterhead = await letterhead_for(
        uow,
        settings,
        given,
        client_name=contract.client_name if contract else "",
        site=contract.site_address if contract else "",
    )
    name = invoice.number or f"{invoice.project_reference}-draft-invoice"
    if background is None:
        return Pdf(invoice_pdf.render_invoice(doc, letterhead), f"{name}.pdf")
    return Pdf(await background.run(invoice_pdf.render_invoice, doc, letterhead), f"{name}.pdf")


def _payment_rows(view: InvoiceView, time_zone: str) -> tuple[invoice_pdf.PaymentRow, ...]:
    """Money received (with what was refunded of it) and bank debits on their
    way; attempts that came to nothing are not the client's business here."""
    rows = []
    for p in view.payments:
        if p.status == PaymentStatus.SUCCEEDED:
            rows.append(
                invoice_pdf.PaymentRow(
                    on=_day(p, time_zone),
                    method=f"{_method(p)}, {p.reference}" if p.reference else _method(p),
                    amount_minor=p.applied_minor,
                    refunded_minor=view.refunded.get(p.id, 0),
                )
            )
        elif p.status == PaymentStatus.PROCESSING:
            rows.append(
                invoice_pdf.PaymentRow(
                    on=local(p.created_at, time_zone).date(),
                    method=_method(p),
                    amount_minor=p.applied_minor,
                    processing=True,
                    expected_by=p.expected_by,
                )
            )
    return tuple(rows)


def _method(p: Payment) -> str:
    return domain_documents.method_in_words(
        p.method, card_brand=p.card_brand, card_last4=p.card_last4
    )


async def get_invoice_pdf(
    *,
    sessions: Sessions,
    principal: Principal,
    invoice_id: str,
    letterhead: common_pb2.Letterhead | None = None,
) -> Pdf:
    async with UnitOfWork(sessions, principal.require_reader()) as uow:
        return await invoice_document(uow, principal, invoice_id, letterhead)


# -- a receipt -----------------------------------------------------------------------


async def receipt_document(
    uow: UnitOfWork, principal: Principal, payment_id: str, given: common_pb2.Letterhead | None
) -> Pdf:
    pid = parse_uuid(payment_id, field="payment_id")
    await require_open_portal(uow, principal)
    payment = await uow.session.get(Payment, pid)
    if payment is None:
        raise NotFound("this receipt isn't available", field="payment_id")
    try:  # the invoice decides who may see its payments
        invoice = await load_invoice(uow, principal, str(payment.invoice_id))
    except NotFound:
        raise NotFound("this receipt isn't available", field="payment_id") from None
    domain_documents.check_receipt(succeeded=payment.status == PaymentStatus.SUCCEEDED)
    settings = await load_settings(uow)
    settled, refunds = await _money_in(uow, invoice)
    this = _settled(payment)
    contract = await _contract(uow, invoice)
    ordinal = domain_documents.receipt_ordinal(settled, this)
    doc = invoice_pdf.ReceiptDoc(
        invoice_number=invoice.number or "",
        ordinal=ordinal,
        currency=payment.currency,
        project_reference=invoice.project_reference,
        project_name=invoice.project_name,
        received_on=_day(payment, settings.time_zone),
        received_at=payment.succeeded_at or payment.created_at,
        method=_method(payment),
        applied_minor=payment.applied_minor,
        charged_minor=payment.applied_minor + payment.surcharge_minor - payment.discount_minor,
        surcharge_minor=payment.surcharge_minor,
        discount_minor=payment.discount_minor,
        invoice_total_minor=invoice.total_minor,
        left_minor=domain_documents.left_after(
            invoice.total_minor, settled, [(at, amt) for _, at, amt in refunds], this=this
        ),
        reference=payment.reference,
        refunds=tuple(
            (local(at, settings.time_zone).date(), amt)
            for pay, at, amt in refunds
            if pay == payment.id
        ),
    )
    letterhead = await letterhead_for(
        uow,
        settings,
        given,
        client_name=contract.client_name if contract else "",
        site=contract.site_address if contract else "",
    )
    filename = f"{invoice_pdf.receipt_reference(doc.invoice_number, ordinal)}-receipt.pdf"
    title = domain_documents.receipt_title(
        invoice_number=doc.invoice_number,
        ordinal=ordinal,
        amount_minor=doc.applied_minor,
        currency=doc.currency,
        received_on=doc.received_on,
    )
    return Pdf(invoice_pdf.render_receipt(doc, letterhead), filename, title)


async def _money_in(
    uow: UnitOfWork, invoice: Invoice
) -> tuple[list[Settled], list[tuple[uuid.UUID, datetime, int]]]:
    """The invoice's succeeded payments and its refunds (payment, when, amount)."""
    succeeded = (
        await uow.session.scalars(
            select(Payment).where(
                Payment.invoice_id == invoice.id, Payment.status == PaymentStatus.SUCCEEDED
            )
        )
    ).all()
    refunds = (
        await uow.session.execute(
            select(Refund.payment_id, Refund.created_at, Refund.amount_minor)
            .join(Payment, Payment.id == Refund.payment_id)
            .where(Payment.invoice_id == invoice.id)
            .order_by(Refund.created_at)
        )
    ).all()
    return [_settled(p) for p in succeeded], [(p, at, amt) for p, at, amt in refunds]


def _settled(p: Payment) -> Settled:
    at = p.succeeded_at or p.created_at or datetime.min.replace(tzinfo=UTC)
    return Settled(key=(at, p.created_at or at, str(p.id)), applied_minor=p.applied_minor)


async def get_receipt_pdf(
    *,
    sessions: Sessions,
    principal: Principal,
    payment_id: str,
    letterhead: common_pb2.Letterhead | None = None,
) -> Pdf:
    async with UnitOfWork(sessions, principal.require_reader()) as uow:
        return await receipt_document(uow, principal, payment_id, letterhead)


# -- a statement ---------------------------------------------------------------------


async def get_statement_pdf(
    *,
    sessions: Sessions,
    principal: Principal,
    customer_id: str,
    from_date: str,
    to_date: str,
    letterhead: common_pb2.Letterhead | None = None,
) -> Pdf:
    """Staff name the customer; a client has their own, whatever they name."""
    tenant_id = principal.require_reader()
    if principal.is_client:
        if customer_id and customer_id != principal.customer_id:
            raise NotFound("this statement isn't available", field="customer_id")
        customer_id = principal.customer_id or ""
    else:
        principal.require_staff()
    customer = parse_uuid(customer_id, field="customer_id")
    start, end = domain_documents.check_statement_range(
        _date(from_date, "from_date"), _date(to_date, "to_date")
    )
    async with UnitOfWork(sessions, tenant_id) as uow:
        await require_open_portal(uow, principal)
        settings = await load_settings(uow)
        # The newest contract names the client; none means payments never billed them.
        name = await uow.session.scalar(
            select(Contract.client_name)
            .where(Contract.customer_id == customer)
            .order_by(func.length(Contract.client_name) == 0, Contract.accepted_at.desc())
            .limit(1)
        )
        if name is None:
            raise NotFound("there is nothing to state for this customer yet", field="customer_id")
        entries = await statement_entries(uow, customer, settings.time_zone)
        sections = domain_documents.build_statement(
            entries, start=start, end=end, currency=settings.currency
        )
        letterhead = await letterhead_for(uow, settings, letterhead, client_name=name or "")
    return Pdf(
        statement_pdf.render_statement(sections, start=start, end=end, letterhead=letterhead),
        domain_documents.statement_filename(start, end),
    )


def _date(value: str, field: str) -> date | None:
    parsed = parse_day(value)
    if value and parsed is None:
        raise InvalidArgument(f"{field} must be a date as YYYY-MM-DD", field=field)
    return parsed


__all__ = [
    "Pdf",
    "get_invoice_pdf",
    "get_receipt_pdf",
    "get_statement_pdf",
    "invoice_document",
    "receipt_document",
]
