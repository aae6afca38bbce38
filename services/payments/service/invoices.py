"""Invoices, the staff side: draft, issue, void; and reading them (both sides)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from portal.payments.v1 import events_pb2
from sqlalchemy import case, select

from services.chassis.access import require_open_portal
from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.errors import InvalidArgument, NotFound
from services.chassis.money import money
from services.chassis.validation import parse_uuid
from services.payments import domain_invoices
from services.payments.domain_invoices import Ledger
from services.payments.models import Contract, Invoice, InvoiceLine, PaymentSettings
from services.payments.service.common import (
    BILLING_ROLES,
    InvoiceView,
    Sessions,
    invoice_state,
    invoice_view,
    ledgers,
    load_invoice,
    load_settings,
    now_utc,
    summarise,
    tenant_today,
    visible_invoices,
)
from services.payments.service.standing import publish_plan_changed, standing, standing_now

PAGE_SIZE = 50


async def create_invoice(
    *,
    sessions: Sessions,
    principal: Principal,
    request_id: str,
    project_id: str,
    lines: Sequence[tuple[str, int, int]],
    tax_rate_bps: int,
    terms_days: int | None,
    memo: str,
) -> InvoiceView:
    """A draft for a project payments knows (its proposal was accepted)."""
    tenant_id = principal.require_editor(*BILLING_ROLES)
    checked = domain_invoices.check_lines(lines)
    totals = domain_invoices.totals(checked, tax_rate_bps)
    request_id = request_id or str(uuid.uuid4())
    async with UnitOfWork(sessions, tenant_id) as uow:
        settings = await load_settings(uow)
        earlier = await uow.session.scalar(select(Invoice).where(Invoice.request_id == request_id))
        if earlier is not None:  # a retry: the invoice it made
            return await invoice_view(
                uow, earlier, settings=settings, today=tenant_today(settings, now_utc())
            )
        contract = await contract_for(uow, project_id)
        terms = settings.default_terms_days if terms_days is None else terms_days
        domain_invoices.due_date(tenant_today(settings, now_utc()), terms)  # checks the terms
        invoice = Invoice(
            id=uuid.uuid4(),
            tenant_id=contract.tenant_id,
            request_id=request_id,
            project_id=contract.project_id,
            customer_id=contract.customer_id,
            project_name=contract.project_name,
            project_reference=contract.project_reference,
            currency=contract.currency,
            tax_rate_bps=totals.tax_rate_bps,
            subtotal_minor=totals.subtotal_minor,
            tax_minor=totals.tax_minor,
            total_minor=totals.total_minor,
            terms_days=terms,
            memo=memo.strip()[:2000],
            created_by=principal.subject,
        )
        uow.session.add(invoice)
        add_lines(uow, invoice, checked)
        await uow.flush()
        view = await invoice_view(
            uow, invoice, settings=settings, today=tenant_today(settings, now_utc())
        )
        await uow.commit()
    return view


def add_lines(uow: UnitOfWork, invoice: Invoice, lines: Sequence[domain_invoices.Line]) -> None:
    for position, line in enumerate(lines):
        uow.session.add(
            InvoiceLine(
                tenant_id=invoice.tenant_id,
                invoice_id=invoice.id,
                position=position,
                description=line.description,
                quantity=line.quantity,
                unit_price_minor=line.unit_price_minor,
            )
        )


async def contract_for(uow: UnitOfWork, project_id: str) -> Contract:
    pid = parse_uuid(project_id, field="project_id")
    contract = await uow.session.get(Contract, pid)
    if contract is None:
        raise NotFound(
            "invoices can be raised once the project's proposal has been accepted",
            field="project_id",
        )
    return contract


async def issue_invoice(
    *, sessions: Sessions, principal: Principal, invoice_id: str
) -> InvoiceView:
    tenant_id = principal.require_editor(*BILLING_ROLES)
    async with UnitOfWork(sessions, tenant_id) as uow:
        invoice = await load_invoice(uow, principal, invoice_id, lock=True)
        domain_invoices.plan_issue(invoice_state(invoice))
        settings = await load_settings(uow, lock=True)
        now = now_utc()
        issue(uow, invoice, settings, now)
        await uow.flush()
        view = await invoice_view(
            uow, invoice, settings=settings, today=tenant_today(settings, now)
        )
        await uow.commit()
    return view


def issue(
    uow: UnitOfWork, invoice: Invoice, settings: PaymentSettings, now: datetime, *, label: str = ""
) -> None:
    """Number it (gap-free: under the settings row lock), date it on the
    tenant's clock, and say so. The caller holds the settings lock. `label`:
    the plan milestone's, when the plan issues it."""
    settings.last_invoice_number += 1
    invoice.number = domain_invoices.format_number(
        settings.invoice_prefix, settings.last_invoice_number
    )
    invoice.issued_at = now
    invoice.issued_on = tenant_today(settings, now)
    invoice.due_on = domain_invoices.due_date(invoice.issued_on, invoice.terms_days)
    uow.publish(
        events_pb2.InvoiceIssued(
            invoice_id=str(invoice.id),
            number=invoice.number,
            project_id=str(invoice.project_id),
            customer_id=str(invoice.customer_id),
            total=money(invoice.total_minor, invoice.currency),
            due=money(invoice.total_minor, invoice.currency),
            due_on=invoice.due_on.isoformat(),
            milestone=invoice.milestone or "",
            project_name=invoice.project_name,
            # Nothing is paid on an invoice being issued.
            standing=standing(invoice, Ledger(total_minor=invoice.total_minor), label=label),
        ),
        aggregate_type="invoice",
        aggregate_id=str(invoice.id),
        occurred_at=now,
    )


async def void_invoice(
    *, sessions: Sessions, principal: Principal, invoice_id: str, reason: str
) -> InvoiceView:
    tenant_id = principal.require_editor(*BILLING_ROLES)
    async with UnitOfWork(sessions, tenant_id) as uow:
        invoice = await load_invoice(uow, principal, invoice_id, lock=True)
        ledger = (await ledgers(uow, [invoice]))[invoice.id]
        domain_invoices.plan_void(invoice_state(invoice), ledger)
        now = now_utc()
        invoice.voided_at = now
        invoice.void_reason = reason.strip()[:500]
        if invoice.issued_at is not None:
            uow.publish(
                events_pb2.InvoiceVoided(
                    invoice_id=str(invoice.id),
                    number=invoice.number or "",
                    project_id=str(invoice.project_id),
                    customer_id=str(invoice.customer_id),
                    reason=invoice.void_reason,
                    standing=await standing_now(uow, invoice),
                ),
                aggregate_type="invoice",
                aggregate_id=str(invoice.id),
                occurred_at=now,
            )
            if invoice.milestone:
                await publish_plan_changed(uow, invoice.project_id)
        settings = await load_settings(uow)
        view = await invoice_view(
            uow, invoice, settings=settings, today=tenant_today(settings, now)
        )
        await uow.commit()
    return view


async def get_invoice(*, sessions: Sessions, principal: Principal, invoice_id: str) -> InvoiceView:
    tenant_id = principal.require_reader()
    async with UnitOfWork(sessions, tenant_id) as uow:
        invoice = await load_invoice(uow, principal, invoice_id)
        settings = await load_settings(uow)
        return await invoice_view(
            uow, invoice, settings=settings, today=tenant_today(settings, now_utc())
        )


async def list_invoices(
    *,
    sessions: Sessions,
    principal: Principal,
    project_id: str = "",
    customer_id: str = "",
    page_size: int = 0,
    page_token: str = "",
) -> tuple[list[InvoiceView], str]:
    """Open ones first (soonest due first), then the rest newest first."""
    tenant_id = principal.require_reader()
    size = min(max(page_size, 0) or PAGE_SIZE, 200)
    offset = _offset(page_token)
    async with UnitOfWork(sessions, tenant_id) as uow:
        await require_open_portal(uow, principal)
        query = select(Invoice).where(visible_invoices(principal))
        if project_id:
            query = query.where(Invoice.project_id == parse_uuid(project_id, field="project_id"))
        if customer_id and not principal.is_client:
            query = query.where(Invoice.customer_id == parse_uuid(customer_id, field="customer_id"))
        settled = case(
            (Invoice.voided_at.is_not(None), 1), (Invoice.paid_at.is_not(None), 1), else_=0
        )
        query = query.order_by(
            settled, Invoice.due_on.asc().nulls_last(), Invoice.created_at.desc(), Invoice.id
        )
        rows = list((await uow.session.scalars(query.offset(offset).limit(size + 1))).all())
        more = len(rows) > size
        rows = rows[:size]
        settings = await load_settings(uow)
        today = tenant_today(settings, now_utc())
        sums = await ledgers(uow, rows)
        views = [summarise(i, sums[i.id], today, settings=settings) for i in rows]
    return views, (str(offset + size) if more else "")


def _offset(token: str) -> int:
    if not token:
        return 0
    if not token.isdigit() or len(token) > 9:
        raise InvalidArgument("page_token is not one this service gave out", field="page_token")
    return int(token)
