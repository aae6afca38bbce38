"""What payments tells the board: every invoice and payment event carries the
invoice's standing whole, and the plan's next payment is published whenever
it may have moved (projects keeps the newest of each)."""

from __future__ import annotations

import uuid

from portal.changeorders.v1 import events_pb2 as co_events
from portal.payments.v1 import events_pb2
from portal.payments.v1 import payments_pb2 as pb

from tests.payments.conftest import Integrator, gbp


async def plan_reports(acme: Integrator) -> list[events_pb2.PaymentPlanChanged]:
    return await acme.svc.events(acme.tenant_id, events_pb2.PaymentPlanChanged)


async def test_the_deposit_is_issued_with_its_standing_and_is_the_next_payment(acme: Integrator):
    await acme.accept(total_minor=1_000_000)
    (deposit,) = await acme.invoices()
    (issued,) = await acme.svc.events(acme.tenant_id, events_pb2.InvoiceIssued)
    s = issued.standing
    assert (s.invoice_id, s.number, s.status) == (deposit.id, deposit.number, "open")
    assert (s.total, s.due, s.processing) == (gbp(500_000), gbp(500_000), gbp(0))
    assert (s.due_on, s.milestone_label, s.project_name) == (
        deposit.due_on,
        "Deposit",
        "Home cinema",
    )
    (report,) = await plan_reports(acme)
    assert (report.project_id, report.customer_id) == (acme.project_id, acme.customer_id)
    assert report.next == pb.NextPayment(
        label="Deposit",
        trigger="acceptance",
        amount=gbp(500_000),
        invoice_id=deposit.id,
        invoice_number=deposit.number,
        due_on=deposit.due_on,
    )
    assert report.contract == gbp(1_000_000)


async def test_a_part_payment_lowers_the_next_payment_and_paying_it_moves_on(acme: Integrator):
    await acme.accept(total_minor=1_000_000)
    (deposit,) = await acme.invoices()
    await acme.pay_offline(deposit.id, 200_000)
    (part,) = await acme.svc.events(acme.tenant_id, events_pb2.PaymentSucceeded)
    assert (part.standing.status, part.standing.due) == ("partially_paid", gbp(300_000))
    latest = (await plan_reports(acme))[-1]
    assert (latest.next.label, latest.next.amount) == ("Deposit", gbp(300_000))

    await acme.pay_offline(deposit.id, 300_000)
    (paid,) = await acme.svc.events(acme.tenant_id, events_pb2.InvoicePaid)
    assert (paid.standing.status, paid.standing.due) == ("paid", gbp(0))
    latest = (await plan_reports(acme))[-1]
    assert latest.next == pb.NextPayment(
        label="Installation", trigger="install", amount=gbp(400_000)
    )


async def test_voiding_a_milestone_invoice_says_so_and_re_reports_the_plan(acme: Integrator):
    await acme.accept(total_minor=1_000_000)
    (deposit,) = await acme.invoices()
    await acme("VoidInvoice", pb.VoidInvoiceRequest(invoice_id=deposit.id), acme.finance)
    (voided,) = await acme.svc.events(acme.tenant_id, events_pb2.InvoiceVoided)
    assert voided.standing.status == "void"
    latest = (await plan_reports(acme))[-1]
    # The deposit is no longer invoiced: it is what the plan would ask for again.
    assert (latest.next.label, latest.next.invoice_id) == ("Deposit", "")


async def test_editing_the_plan_reports_the_next_payment(acme: Integrator):
    await acme.accept(total_minor=1_000_000)
    (deposit,) = await acme.invoices()
    await acme.pay_offline(deposit.id, 500_000)
    await acme(
        "UpdatePaymentPlan",
        pb.UpdatePaymentPlanRequest(
            project_id=acme.project_id,
            milestones=[
                pb.Milestone(label="Deposit", trigger="acceptance", share_bps=5_000),
                pb.Milestone(label="Commissioning", trigger="commissioning", share_bps=5_000),
            ],
        ),
        acme.finance,
    )
    latest = (await plan_reports(acme))[-1]
    assert (latest.next.label, latest.next.trigger, latest.next.amount) == (
        "Commissioning",
        "commissioning",
        gbp(500_000),
    )


async def test_an_approved_change_spread_over_the_milestones_re_reports_the_plan(
    acme: Integrator,
):
    await acme.accept(total_minor=1_000_000)
    (deposit,) = await acme.invoices()
    await acme.pay_offline(deposit.id, 500_000)
    assert (await plan_reports(acme))[-1].next.amount == gbp(400_000)
    await acme.deliver(
        co_events.ChangeOrderApproved(
            change_order_id=str(uuid.uuid4()),
            project_id=acme.project_id,
            customer_id=acme.customer_id,
            number="CO-001",
            revision=1,
            title="Second subwoofer",
            price_impact=gbp(100_000),
            tax_impact=gbp(0),
            project_reference="PRJ-0001",
            project_name="Home cinema",
        )
    )
    latest = (await plan_reports(acme))[-1]
    assert (latest.next.label, latest.next.amount) == ("Installation", gbp(480_000))
