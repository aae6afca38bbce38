"""Payments' events kept for the status board: each invoice's standing (a
waiting item while the client owes on it, a line while a bank debit clears)
and the plan's next payment. The board reads only our own rows: no call to
payments on the client's hottest page, and the board still answers when
payments does not.

Every handler takes the project's row lock first (as every change to a
project does), so two reports about one project apply one after the other,
and keeps a report only if it is newer than the one held
(`domain_payments`): a redelivery or a late, older event changes nothing."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from portal.payments.v1 import events_pb2 as payment_events
from portal.payments.v1 import payments_pb2
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from services.chassis.db import UnitOfWork
from services.chassis.errors import NotFound
from services.chassis.events import Event
from services.chassis.timefmt import parse_day
from services.projects import domain_payments
from services.projects.models import InvoiceStanding, NextPayment, Project
from services.projects.service.waiting import keep_waiting_item, resolve_waiting_item

# Every invoice and payment event carries the invoice's standing whole.
INVOICE_EVENTS = (
    payment_events.InvoiceIssued,
    payment_events.InvoicePaid,
    payment_events.InvoiceVoided,
    payment_events.PaymentProcessing,
    payment_events.PaymentVerificationRequired,
    payment_events.PaymentCanceled,
    payment_events.PaymentSucceeded,
    payment_events.PaymentFailed,
    payment_events.PaymentRefunded,
)


def standing_of(s: payments_pb2.InvoiceStanding, as_of: datetime) -> domain_payments.Standing:
    return domain_payments.Standing(
        invoice_id=s.invoice_id,
        number=s.number,
        status=s.status,
        currency=s.total.currency,
        total_minor=s.total.amount_minor,
        due_minor=s.due.amount_minor,
        processing_minor=s.processing.amount_minor,
        due_on=parse_day(s.due_on),
        expected_by=parse_day(s.expected_by),
        milestone_label=s.milestone_label,
        as_of=as_of,
        verifying_minor=s.verifying.amount_minor,
        awaiting_verification=s.awaiting_verification,
    )


async def _locked_project(uow: UnitOfWork, project_id: str) -> Project:
    project = await uow.session.scalar(
        select(Project).where(Project.id == uuid.UUID(project_id)).with_for_update()
    )
    if project is None:
        raise NotFound("payments reported on a project projects does not have")
    return project


async def on_invoice_event(uow: UnitOfWork, event: Event[Any]) -> None:
    """Any of `INVOICE_EVENTS`: keep the invoice's newest standing and open,
    retitle or resolve its waiting item to match."""
    p = event.payload
    if not p.HasField("standing"):
        return  # published before events carried the standing: nothing to keep
    project = await _locked_project(uow, p.project_id)
    incoming = standing_of(p.standing, event.occurred_at)
    invoice_id = uuid.UUID(incoming.invoice_id)
    held = await uow.session.get(InvoiceStanding, invoice_id)
    plan = domain_payments.plan_standing(
        held.as_of if held else None, held.status if held else "", incoming
    )
    if plan is None:
        return
    s = plan.standing
    values = {
        "number": s.number,
        "status": s.status,
        "currency": s.currency,
        "total_minor": s.total_minor,
        "due_minor": s.due_minor,
        "processing_minor": s.processing_minor,
        "due_on": s.due_on,
        "expected_by": s.expected_by,
        "milestone_label": s.milestone_label,
        "as_of": s.as_of,
        "verifying_minor": s.verifying_minor,
        "awaiting_verification": s.awaiting_verification,
    }
    await uow.session.execute(
        insert(InvoiceStanding)
        .values(invoice_id=invoice_id, tenant_id=project.tenant_id, project_id=project.id, **values)
        .on_conflict_do_update(index_elements=["invoice_id"], set_=values)
    )
    for kind, waiting in (
        (domain_payments.WAITING_KIND, plan.waiting),
        (domain_payments.VERIFY_KIND, plan.verify),
    ):
        await _keep_or_resolve(uow, project, kind, incoming.invoice_id, waiting, s.as_of)


async def _keep_or_resolve(
    uow: UnitOfWork,
    project: Project,
    kind: str,
    key: str,
    waiting: domain_payments.Waiting,
    at: datetime,
) -> None:
    if waiting.open:
        await keep_waiting_item(
            uow,
            project=project,
            kind=kind,
            key=key,
            title=waiting.title,
            link=waiting.link,
            since=at,
        )
    else:
        await resolve_waiting_item(uow, kind=kind, key=key, now=at)


async def on_payment_plan_changed(
    uow: UnitOfWork, event: Event[payment_events.PaymentPlanChanged]
) -> None:
    """Keep the plan's newest next payment (none: everything is paid)."""
    p = event.payload
    project = await _locked_project(uow, p.project_id)
    held = await uow.session.get(NextPayment, project.id)
    n = p.next
    incoming = domain_payments.NextPayment(
        label=n.label if p.HasField("next") else "",
        trigger=n.trigger,
        currency=n.amount.currency or p.contract.currency or project.currency,
        amount_minor=n.amount.amount_minor,
        invoice_id=n.invoice_id,
        invoice_number=n.invoice_number,
        due_on=parse_day(n.due_on),
        as_of=event.occurred_at,
    )
    if not domain_payments.is_newer_plan(held.as_of if held else None, incoming):
        return
    values = {
        "label": incoming.label,
        "trigger": incoming.trigger,
        "currency": incoming.currency,
        "amount_minor": incoming.amount_minor,
        "invoice_id": incoming.invoice_id,
        "invoice_number": incoming.invoice_number,
        "due_on": incoming.due_on,
        "as_of": incoming.as_of,
    }
    await uow.session.execute(
        insert(NextPayment)
        .values(project_id=project.id, tenant_id=project.tenant_id, **values)
        .on_conflict_do_update(index_elements=["project_id"], set_=values)
    )
