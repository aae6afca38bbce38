"""The payment plan: projects' events issue the milestone invoices, exactly
once each; staff read and edit a project's plan; the client's board reads
what comes next."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from portal.projects.v1 import events_pb2 as projects_events
from portal.projects.v1.projects_pb2 import Stage
from sqlalchemy import select

from services.chassis import enums
from services.chassis.access import require_open_portal
from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.events import Event
from services.chassis.timefmt import zone
from services.chassis.validation import parse_uuid
from services.payments import domain_plan
from services.payments.domain_invoices import Line
from services.payments.domain_plan import (
    Invoiced,
    Milestone,
    MilestoneAmount,
    Trigger,
)
from services.payments.models import Contract as ContractRow
from services.payments.models import Invoice
from services.payments.service.common import (
    BILLING_ROLES,
    InvoiceView,
    Sessions,
    ledgers,
    load_settings,
    now_utc,
    summarise,
    tenant_today,
    visible_invoices,
)
from services.payments.service.invoices import add_lines, contract_for, issue
from services.payments.service.standing import (
    contract_of,
    invoiced_milestones,
    milestones_of,
    publish_plan_changed,
)

PLAN_NS = uuid.UUID("7b0c5d3e-2f55-4a53-9d8e-6f1c1e5e9a10")


def rows_of(milestones: tuple[Milestone, ...]) -> list[dict]:
    return [
        {"label": m.label, "trigger": m.trigger.value, "share_bps": m.share_bps} for m in milestones
    ]


def invoiced_of(rows: list[Invoice]) -> list[Invoiced]:
    return [Invoiced(Trigger(i.milestone), i.total_minor, i.tax_minor) for i in rows if i.milestone]


# -- projects' events ----------------------------------------------------------------


async def on_proposal_accepted(
    uow: UnitOfWork, event: Event[projects_events.ProposalAccepted]
) -> None:
    """The contract baseline: keep it, take the tenant's default plan, and
    issue what is due on acceptance (the deposit). A later acceptance (a
    revised proposal) replaces the baseline; what was invoiced stays."""
    p = event.payload
    settings = await load_settings(uow, lock=True)
    if p.letterhead.time_zone and zone(p.letterhead.time_zone).key == p.letterhead.time_zone:
        settings.time_zone = p.letterhead.time_zone
    if p.HasField("letterhead"):
        # The newest letterhead a gateway sent: what filed invoices and receipts wear
        # (they are drawn after an event, with no gateway call to bring one).
        settings.letterhead = p.letterhead.SerializeToString()
    pid = uuid.UUID(p.project_id)
    row = await uow.session.get(ContractRow, pid, with_for_update=True)
    if row is None:
        row = ContractRow(
            project_id=pid,
            tenant_id=uuid.UUID(event.tenant_id),
            customer_id=uuid.UUID(p.customer_id),
            currency=p.total.currency,
            milestones=list(settings.default_plan),
        )
        uow.session.add(row)
    row.project_name, row.project_reference = p.project_name, p.reference
    row.client_name = p.client_name
    row.site_address = p.site_address.strip()[:500]
    row.accepted_total_minor, row.accepted_tax_minor = p.total.amount_minor, p.tax.amount_minor
    row.proposal_id, row.accepted_at = p.proposal_id, event.occurred_at
    await uow.flush()
    await issue_due(uow, row, Trigger.ACCEPTANCE, event.occurred_at)
    await publish_plan_changed(uow, row.project_id)  # a new baseline moves every amount


async def on_stage_changed(
    uow: UnitOfWork, event: Event[projects_events.ProjectStageChanged]
) -> None:
    """A stage reached issues its milestone (and any earlier one skipped)."""
    p = event.payload
    row = await uow.session.get(ContractRow, uuid.UUID(p.project_id), with_for_update=True)
    if row is None:
        return  # no accepted proposal yet: nothing to bill
    reached = domain_plan.STAGE_TRIGGERS.get(enums.short_name(Stage, p.to_stage, unknown=""))
    if reached is None:
        return
    row.stage = reached.value
    if await issue_due(uow, row, reached, event.occurred_at):
        await publish_plan_changed(uow, row.project_id)


async def issue_due(uow: UnitOfWork, row: ContractRow, reached: Trigger, now: datetime) -> int:
    """Issue what reaching `reached` makes due; how many invoices that was."""
    settings = await load_settings(uow, lock=True)
    plan = milestones_of(row.milestones)
    done = await invoiced_milestones(uow, row.project_id)
    issued = 0
    for trigger in domain_plan.due_on_reaching(plan, reached, invoiced_of(done)):
        amount = domain_plan.amount_for(plan, trigger, contract_of(row), invoiced_of(done))
        if amount is None:
            continue
        invoice = _milestone_invoice(row, amount, settings.default_terms_days)
        uow.session.add(invoice)
        add_lines(uow, invoice, [_line(amount, row)])
        issue(uow, invoice, settings, now, label=amount.label)
        await uow.flush()
        done.append(invoice)
        issued += 1
    return issued


def _milestone_invoice(row: ContractRow, amount: MilestoneAmount, terms: int) -> Invoice:
    return Invoice(
        id=uuid.uuid4(),
        tenant_id=row.tenant_id,
        # One per project and milestone, whichever event (or redelivery) gets here first.
        request_id=str(uuid.uuid5(PLAN_NS, f"{row.project_id}:{amount.trigger.value}")),
        project_id=row.project_id,
        customer_id=row.customer_id,
        project_name=row.project_name,
        project_reference=row.project_reference,
        currency=row.currency,
        tax_rate_bps=0,
        subtotal_minor=amount.subtotal_minor,
        tax_minor=amount.tax_minor,
        total_minor=amount.total_minor,
        terms_days=terms,
        memo="",
        milestone=amount.trigger.value,
        created_by="payment-plan",
    )


def _line(amount: MilestoneAmount, row: ContractRow) -> Line:
    label = f"{amount.label}: {row.project_name} ({row.project_reference})"
    return Line(label[:300], 1, amount.subtotal_minor)


# -- reading and editing the plan ---------------------------------------------------------


@dataclass(frozen=True)
class PlanView:
    contract: ContractRow | None
    milestones: tuple[Milestone, ...]
    invoiced: dict[Trigger, Invoice]
    amounts: dict[Trigger, int]  # what each invoiced, or would invoice now
    next: MilestoneAmount | None
    overdue: list[InvoiceView]


async def get_plan(*, sessions: Sessions, principal: Principal, project_id: str) -> PlanView:
    tenant_id = principal.require_reader()
    async with UnitOfWork(sessions, tenant_id) as uow:
        return await _plan_view(uow, principal, project_id)


async def update_plan(
    *,
    sessions: Sessions,
    principal: Principal,
    project_id: str,
    milestones: list[tuple[str, str, int]],
) -> PlanView:
    tenant_id = principal.require_editor(*BILLING_ROLES)
    proposed = domain_plan.check_plan(milestones)
    async with UnitOfWork(sessions, tenant_id) as uow:
        row = await _contract_for(uow, project_id, lock=True)
        done = invoiced_of(await invoiced_milestones(uow, row.project_id))
        row.milestones = rows_of(
            domain_plan.plan_replace(milestones_of(row.milestones), proposed, done)
        )
        await uow.flush()
        await publish_plan_changed(uow, row.project_id)
        view = await _plan_view(uow, principal, project_id)
        await uow.commit()
    return view


async def _contract_for(uow: UnitOfWork, project_id: str, *, lock: bool = False) -> ContractRow:
    row = await contract_for(uow, project_id)
    if lock:
        await uow.session.refresh(row, with_for_update=True)
    return row


async def _plan_view(uow: UnitOfWork, principal: Principal, project_id: str) -> PlanView:
    pid = parse_uuid(project_id, field="project_id")
    await require_open_portal(uow, principal)
    row = await uow.session.get(ContractRow, pid)
    if row is not None and principal.is_client and str(row.customer_id) != principal.customer_id:
        row = None  # another customer's project: as if it had no plan
    if row is None:
        settings = await load_settings(uow)
        return PlanView(None, milestones_of(settings.default_plan), {}, {}, None, [])
    plan = milestones_of(row.milestones)
    rows = await invoiced_milestones(uow, pid)
    if principal.is_client:
        rows = [r for r in rows if r.issued_at is not None]
    done = invoiced_of(rows)
    by_trigger = {Trigger(r.milestone): r for r in rows if r.milestone}
    amounts = {t: r.total_minor for t, r in by_trigger.items()}
    for est in domain_plan.projected(plan, contract_of(row), done):
        amounts.setdefault(est.trigger, est.total_minor)
    settings = await load_settings(uow)
    today = tenant_today(settings, now_utc())
    project_invoices = list(
        (
            await uow.session.scalars(
                select(Invoice).where(Invoice.project_id == pid, visible_invoices(principal))
            )
        ).all()
    )
    sums = await ledgers(uow, project_invoices)
    overdue = [
        v
        for i in project_invoices
        if (v := summarise(i, sums[i.id], today, settings=settings)).overdue
    ]
    nxt = domain_plan.next_milestone(plan, contract_of(row), done)
    return PlanView(row, plan, by_trigger, amounts, nxt, overdue)
