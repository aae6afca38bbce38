"""Approved change orders on the invoice schedule: the tenant's rule decides
where each is billed (domain_variations), exactly once; and the preview the
change order's diff shows ("your installation payment rises from £4,000 to
£4,600") before anyone approves."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC

from portal.changeorders.v1 import events_pb2 as changeorder_events
from sqlalchemy import bindparam, select

from services.chassis.access import require_open_portal
from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.errors import InvalidArgument, NotFound
from services.chassis.events import Event
from services.chassis.validation import parse_uuid
from services.payments import domain_plan, domain_variations
from services.payments.domain_invoices import Line
from services.payments.domain_plan import NOTHING, MilestoneAmount, Part, Trigger
from services.payments.domain_variations import VariationPlan, VariationRule
from services.payments.models import Contract as ContractRow
from services.payments.models import Invoice, Variation
from services.payments.service.common import Sessions, load_settings
from services.payments.service.invoices import add_lines, issue
from services.payments.service.plan import invoiced_of, milestones_of
from services.payments.service.standing import (
    added_rows,
    contract_of,
    invoiced_milestones,
    publish_plan_changed,
)

VARIATION_NS = uuid.UUID("1d3f7a52-95c4-4f0e-8a2b-6c1f0b7e4d21")
MAX_IMPACT_MINOR = 10**13
# Built once (building it per event cost more than running it): this order's variation.
_SEEN = select(Variation.id).where(Variation.change_order_id == bindparam("order"))


async def on_change_order_approved(
    uow: UnitOfWork, event: Event[changeorder_events.ChangeOrderApproved]
) -> None:
    """Bill the order's price impact by the tenant's rule, once: under the
    contract's row lock a redelivery (or the same order twice) finds its
    variation and changes nothing more."""
    p = event.payload
    row = await uow.session.get(ContractRow, uuid.UUID(p.project_id), with_for_update=True)
    if row is None:
        # The proposal's acceptance reaches us on another stream; retried until it has.
        raise NotFound(f"{p.number} was approved before payments heard of the accepted proposal")
    if p.price_impact.currency != row.currency:
        raise InvalidArgument(
            f"{p.number} is priced in {p.price_impact.currency}, the contract in {row.currency}"
        )
    seen = await uow.session.scalar(_SEEN, {"order": p.change_order_id})
    if seen is not None:
        return
    settings = await load_settings(uow, lock=True)
    done = await invoiced_milestones(uow, row.project_id)
    impact = Part(p.price_impact.amount_minor, p.tax_impact.amount_minor)
    rule = domain_variations.check_rule(settings.variation_rule)
    billed = _plan(row, rule, invoiced_of(done), impact)
    after = domain_variations.with_variation(contract_of(row), billed)
    row.variation_added = added_rows(after.added)
    row.variations_minor += impact.total_minor
    approved_at = p.approved_at.ToDatetime(tzinfo=UTC) if p.HasField("approved_at") else None
    variation = Variation(
        tenant_id=row.tenant_id,
        project_id=row.project_id,
        change_order_id=p.change_order_id,
        reference=p.number[:30],
        rule=rule.value,
        currency=row.currency,
        amount_minor=impact.total_minor,
        tax_minor=impact.tax_minor,
        added=added_rows(billed.added),
        approved_at=approved_at or event.occurred_at,
    )
    uow.session.add(variation)
    if billed.now != NOTHING:
        invoice = _variation_invoice(row, p, billed.now, settings.default_terms_days)
        uow.session.add(invoice)
        add_lines(uow, invoice, [_line(billed.now, p)])
        issue(uow, invoice, settings, event.occurred_at)
        await uow.flush()
        variation.invoice_id = invoice.id
    await publish_plan_changed(uow, row.project_id)  # flushes; the milestones to come moved


def _plan(
    row: ContractRow, rule: VariationRule, invoiced: list[domain_plan.Invoiced], impact: Part
) -> VariationPlan:
    return domain_variations.plan_variation(
        rule=rule,
        plan=milestones_of(row.milestones),
        contract=contract_of(row),
        invoiced=invoiced,
        impact=impact,
        reached=domain_plan.STAGE_TRIGGERS.get(row.stage, Trigger.ACCEPTANCE),
    )


def _variation_invoice(
    row: ContractRow, p: changeorder_events.ChangeOrderApproved, part: Part, terms: int
) -> Invoice:
    return Invoice(
        id=uuid.uuid4(),
        tenant_id=row.tenant_id,
        # One per change order, whichever delivery gets here first.
        request_id=str(uuid.uuid5(VARIATION_NS, p.change_order_id)),
        project_id=row.project_id,
        customer_id=row.customer_id,
        project_name=row.project_name,
        project_reference=row.project_reference,
        currency=row.currency,
        tax_rate_bps=0,
        subtotal_minor=part.total_minor - part.tax_minor,
        tax_minor=part.tax_minor,
        total_minor=part.total_minor,
        terms_days=terms,
        memo=f"{p.number}: {p.title}"[:500],
        milestone=None,
        created_by="change-order",
    )


def _line(part: Part, p: changeorder_events.ChangeOrderApproved) -> Line:
    what = "Credit" if part.total_minor < 0 else "Variation"
    label = f"{what}, change order {p.number}: {p.title} ({p.project_reference})"
    return Line(label[:300], 1, part.total_minor - part.tax_minor)


# -- the preview the diff shows -----------------------------------------------------------


@dataclass(frozen=True)
class MilestoneEffect:
    trigger: Trigger
    label: str
    before_minor: int
    after_minor: int


@dataclass(frozen=True)
class VariationPreview:
    rule: VariationRule
    currency: str
    milestones: tuple[MilestoneEffect, ...]  # the ones still to come, in plan order
    now_minor: int  # a variation invoice (positive) or credit note (negative) on approval


async def preview_variation(
    *,
    sessions: Sessions,
    principal: Principal,
    project_id: str,
    impact_minor: int,
    tax_minor: int,
    currency: str,
) -> VariationPreview:
    """What approving a change of `impact_minor` would do to the milestones
    still to come; nothing is written."""
    tenant_id = principal.require_reader()
    pid = parse_uuid(project_id, field="project_id")
    if not (abs(impact_minor) <= MAX_IMPACT_MINOR and abs(tax_minor) <= abs(impact_minor)):
        raise InvalidArgument("the price impact is out of range", field="price_impact")
    async with UnitOfWork(sessions, tenant_id) as uow:
        await require_open_portal(uow, principal)
        row = await uow.session.get(ContractRow, pid)
        if row is None or (principal.is_client and str(row.customer_id) != principal.customer_id):
            raise NotFound("this project has no payment plan yet", field="project_id")
        if currency and currency != row.currency:
            raise InvalidArgument(
                f"the contract is in {row.currency}, not {currency}", field="price_impact"
            )
        settings = await load_settings(uow)
        rule = domain_variations.check_rule(settings.variation_rule)
        invoiced = invoiced_of(await invoiced_milestones(uow, pid))
        billed = _plan(row, rule, invoiced, Part(impact_minor, tax_minor))
    reached = domain_plan.STAGE_TRIGGERS.get(row.stage, Trigger.ACCEPTANCE)
    plan = milestones_of(row.milestones)
    contract = contract_of(row)
    before = domain_variations.pending(plan, contract, invoiced, reached)
    after = {
        a.trigger: a
        for a in domain_variations.pending(
            plan, domain_variations.with_variation(contract, billed), invoiced, reached
        )
    }
    effects = tuple(
        MilestoneEffect(b.trigger, b.label, b.total_minor, _total(after.get(b.trigger)))
        for b in before
    )
    return VariationPreview(rule, row.currency, effects, billed.now.total_minor)


def _total(amount: MilestoneAmount | None) -> int:
    return amount.total_minor if amount else 0
