"""Approved change orders on the invoice schedule, through payments' own
handler on real PostgreSQL: each tenant rule, a credit, the same event three
times, the order approved before payments heard of the proposal, and the
preview the change order's diff shows."""

from __future__ import annotations

import uuid

import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from portal.changeorders.v1 import events_pb2 as co_events
from portal.payments.v1 import payments_pb2 as pb
from portal.projects.v1 import projects_pb2

from services.chassis.errors import NotFound
from services.chassis.grpc_client import error_detail
from tests.payments.conftest import INVALID, Integrator, gbp


def approved(acme: Integrator, impact: int, tax: int = 0, **kw) -> co_events.ChangeOrderApproved:
    values = {
        "change_order_id": str(uuid.uuid4()),
        "project_id": acme.project_id,
        "customer_id": acme.customer_id,
        "number": "CO-001",
        "revision": 1,
        "title": "Second subwoofer",
        "price_impact": gbp(impact),
        "tax_impact": gbp(tax),
        "project_reference": "PRJ-0001",
        "project_name": "Home cinema",
    } | kw
    return co_events.ChangeOrderApproved(**values)


async def rule(acme: Integrator, name: str) -> None:
    await acme(
        "UpdatePaymentSettings",
        pb.UpdatePaymentSettingsRequest(
            settings=pb.PaymentSettings(variation_rule=name),
            update_mask=FieldMask(paths=["variation_rule"]),
        ),
        acme.staff("owner"),
    )


async def plan(acme: Integrator) -> dict[str, int]:
    answer = await acme(
        "GetPaymentPlan", pb.GetPaymentPlanRequest(project_id=acme.project_id), acme.finance
    )
    return {m.trigger: m.amount.amount_minor for m in answer.milestones}


async def test_spread_over_what_is_left_and_the_same_event_three_times_adds_it_once(
    acme: Integrator,
):
    await acme.accept(total_minor=1_000_000)
    event = approved(acme, 100_000)
    for _ in range(3):
        await acme.deliver(event)  # the same change order, three deliveries
    await acme.deliver(event, event_id=str(uuid.uuid4()))  # even past the inbox
    assert await plan(acme) == {"acceptance": 500_000, "install": 480_000, "handover": 120_000}
    answer = await acme(
        "GetPaymentPlan", pb.GetPaymentPlanRequest(project_id=acme.project_id), acme.finance
    )
    assert answer.contract.amount_minor == 1_100_000
    await acme.reach(projects_pb2.STAGE_HANDOVER)
    invoices = await acme.invoices()
    assert sum(i.total.amount_minor for i in invoices) == 1_100_000
    assert len(invoices) == 3


async def test_next_milestone_takes_it_and_the_preview_says_so_first(acme: Integrator):
    await acme.accept(total_minor=1_000_000, tax_minor=166_667)
    await rule(acme, "next_milestone")
    preview = await acme(
        "PreviewVariation",
        pb.PreviewVariationRequest(
            project_id=acme.project_id, price_impact=gbp(60_000), tax_impact=gbp(10_000)
        ),
        acme.approver,
    )
    assert preview.variation_rule == "next_milestone"
    assert [
        (m.trigger, m.before.amount_minor, m.after.amount_minor) for m in preview.milestones
    ] == [
        ("install", 400_000, 460_000),
        ("handover", 100_000, 100_000),
    ]
    assert await plan(acme) == {"acceptance": 500_000, "install": 400_000, "handover": 100_000}
    await acme.deliver(approved(acme, 60_000, 10_000))
    assert (await plan(acme))["install"] == 460_000
    await acme.reach(projects_pb2.STAGE_HANDOVER)
    invoices = await acme.invoices()
    assert sum(i.total.amount_minor for i in invoices) == 1_060_000
    assert sum(i.tax.amount_minor for i in invoices) == 176_667


async def test_invoice_rule_issues_a_variation_invoice_and_a_negative_one_a_credit_note(
    acme: Integrator,
):
    await acme.accept(total_minor=1_000_000)
    await rule(acme, "invoice")
    await acme.deliver(approved(acme, 25_000, number="CO-001"))
    await acme.deliver(approved(acme, -10_000, number="CO-002"))
    variations = [i for i in await acme.invoices() if not i.milestone]
    assert sorted(i.total.amount_minor for i in variations) == [-10_000, 25_000]
    assert all(i.number.startswith("INV-") for i in variations)
    credit = next(i for i in variations if i.total.amount_minor < 0)
    got = await acme("GetInvoice", pb.GetInvoiceRequest(invoice_id=credit.id), acme.finance)
    assert got.invoice.lines[0].description.startswith("Credit, change order CO-002")
    assert await plan(acme) == {"acceptance": 500_000, "install": 400_000, "handover": 100_000}


async def test_a_credit_larger_than_what_is_left_zeroes_the_milestones_then_credits(
    acme: Integrator,
):
    await acme.accept(total_minor=1_000_000)
    await acme.reach(projects_pb2.STAGE_INSTALL)  # 500,000 + 400,000 invoiced
    await acme.deliver(approved(acme, -300_000))
    assert (await plan(acme))["handover"] == 0
    invoices = await acme.invoices()
    credits = [i for i in invoices if not i.milestone]
    assert [i.total.amount_minor for i in credits] == [-200_000]
    await acme.reach(projects_pb2.STAGE_HANDOVER)  # nothing left to bill
    invoices = await acme.invoices()
    assert sum(i.total.amount_minor for i in invoices) == 700_000


async def test_approved_before_the_proposal_reached_payments_is_retried_not_lost(
    acme: Integrator,
):
    event = approved(acme, 50_000)
    with pytest.raises(NotFound):
        await acme.deliver(event)  # the consumer naks; the redelivery finds the contract
    await acme.accept(total_minor=1_000_000)
    await acme.deliver(event)
    answer = await acme(
        "GetPaymentPlan", pb.GetPaymentPlanRequest(project_id=acme.project_id), acme.finance
    )
    assert answer.contract.amount_minor == 1_050_000


async def test_an_unknown_rule_names_its_field(acme: Integrator):
    err = await acme.fails(
        INVALID,
        "UpdatePaymentSettings",
        pb.UpdatePaymentSettingsRequest(
            settings=pb.PaymentSettings(variation_rule="monthly"),
            update_mask=FieldMask(paths=["variation_rule"]),
        ),
        acme.staff("owner"),
    )
    assert error_detail(err).field_violations[0].field == "variation_rule"
