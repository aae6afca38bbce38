"""What payments tells other services about an invoice and a project's plan
after each change: the invoice's standing (carried whole by every invoice
and payment event, so a consumer keeps the newest and does no arithmetic of
its own) and the plan's next payment (`payments.payment_plan.changed`)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from portal.payments.v1 import events_pb2, payments_pb2
from sqlalchemy import func, select

from services.chassis.db import UnitOfWork
from services.chassis.money import money
from services.payments import domain_plan
from services.payments.domain_invoices import Ledger, awaiting_verification, status
from services.payments.domain_payments import PaymentStatus
from services.payments.models import Contract, Invoice, Payment
from services.payments.service.common import invoice_state, ledgers, now_utc


def milestones_of(rows: list[dict]) -> tuple[domain_plan.Milestone, ...]:
    return tuple(
        domain_plan.Milestone(r["label"], domain_plan.Trigger(r["trigger"]), int(r["share_bps"]))
        for r in rows
    )


def contract_of(row: Contract) -> domain_plan.Contract:
    """What the milestones bill: the proposal and what variations added to
    each (a variation invoiced on its own is not theirs to bill)."""
    return domain_plan.Contract(
        total_minor=row.accepted_total_minor,
        tax_minor=row.accepted_tax_minor,
        added=added_of(row.variation_added or {}),
    )


def added_of(raw: dict) -> dict[domain_plan.Trigger, domain_plan.Part]:
    return {domain_plan.Trigger(t): domain_plan.Part(int(v[0]), int(v[1])) for t, v in raw.items()}


def added_rows(added: Mapping[domain_plan.Trigger, domain_plan.Part]) -> dict[str, list[int]]:
    return {t.value: [p.total_minor, p.tax_minor] for t, p in added.items()}


async def invoiced_milestones(uow: UnitOfWork, project_id: uuid.UUID) -> list[Invoice]:
    """The project's milestone invoices not voided (each milestone once)."""
    return list(
        (
            await uow.session.scalars(
                select(Invoice)
                .where(Invoice.project_id == project_id, Invoice.milestone.is_not(None))
                .where(Invoice.voided_at.is_(None))
            )
        ).all()
    )


def standing(
    invoice: Invoice, ledger: Ledger, *, label: str = "", expected_by: str = ""
) -> payments_pb2.InvoiceStanding:
    cur, state = invoice.currency, invoice_state(invoice)
    return payments_pb2.InvoiceStanding(
        invoice_id=str(invoice.id),
        number=invoice.number or "",
        status=status(state, ledger).value,
        total=money(invoice.total_minor, cur),
        due=money(max(ledger.due_minor, 0), cur),
        processing=money(ledger.processing_minor, cur),
        due_on=invoice.due_on.isoformat() if invoice.due_on else "",
        expected_by=expected_by,
        milestone_label=label,
        project_name=invoice.project_name,
        verifying=money(ledger.verifying_minor, cur),
        awaiting_verification=awaiting_verification(state, ledger),
    )


def milestone_label(contract: Contract | None, invoice: Invoice) -> str:
    if contract is None or not invoice.milestone:
        return ""
    return next((m["label"] for m in contract.milestones if m["trigger"] == invoice.milestone), "")


async def standing_now(uow: UnitOfWork, invoice: Invoice) -> payments_pb2.InvoiceStanding:
    """The invoice as its rows say now (flushed changes included)."""
    await uow.flush()
    ledger = (await ledgers(uow, [invoice]))[invoice.id]
    expected = await uow.session.scalar(
        select(func.max(Payment.expected_by)).where(
            Payment.invoice_id == invoice.id, Payment.status == PaymentStatus.PROCESSING
        )
    )
    contract = await uow.session.get(Contract, invoice.project_id)
    return standing(
        invoice,
        ledger,
        label=milestone_label(contract, invoice),
        expected_by=expected.isoformat() if expected else "",
    )


async def publish_plan_changed(uow: UnitOfWork, project_id: uuid.UUID) -> None:
    """Say what the project's next payment is now. Taken under the contract's
    row lock, with the time read after it: two changes to one project publish
    one after the other, and the later event holds everything both did, so a
    consumer keeping the newest is right whatever order they arrive in."""
    await uow.flush()  # what this transaction changed, before the row is read again
    row = await uow.session.get(Contract, project_id, with_for_update=True, populate_existing=True)
    if row is None:
        return
    rows = [i for i in await invoiced_milestones(uow, project_id) if i.issued_at is not None]
    sums = await ledgers(uow, rows)
    due = {domain_plan.Trigger(i.milestone): sums[i.id].due_minor for i in rows if i.milestone}
    by_trigger = {i.milestone: i for i in rows}
    invoiced = [
        domain_plan.Invoiced(domain_plan.Trigger(i.milestone), i.total_minor, i.tax_minor)
        for i in rows
        if i.milestone
    ]
    contract = contract_of(row)
    nxt = domain_plan.next_to_pay(milestones_of(row.milestones), contract, invoiced, due)
    now = now_utc()
    event = events_pb2.PaymentPlanChanged(
        project_id=str(row.project_id),
        customer_id=str(row.customer_id),
        contract=money(contract.total_minor, row.currency),
    )
    if nxt is not None:
        invoice = by_trigger.get(nxt.trigger.value)
        event.next.CopyFrom(_next_payment(nxt, invoice, row.currency))
    uow.publish(
        event, aggregate_type="payment_plan", aggregate_id=str(row.project_id), occurred_at=now
    )


def _next_payment(
    nxt: domain_plan.MilestoneAmount, invoice: Invoice | None, currency: str
) -> payments_pb2.NextPayment:
    out = payments_pb2.NextPayment(
        label=nxt.label, trigger=nxt.trigger.value, amount=money(nxt.total_minor, currency)
    )
    if invoice is not None:
        out.invoice_id, out.invoice_number = str(invoice.id), invoice.number or ""
        out.due_on = invoice.due_on.isoformat() if invoice.due_on else ""
    return out
