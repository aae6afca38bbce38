"""Invoices and the payment plan through payments' gRPC surface, on real
PostgreSQL: the milestones an accepted proposal and its stages issue, exactly
once; staff invoices; offline payments; who sees what."""

from __future__ import annotations

import uuid

from portal.payments.v1 import events_pb2
from portal.payments.v1 import payments_pb2 as pb
from portal.projects.v1 import projects_pb2

from services.chassis.grpc_client import error_detail
from tests.payments.conftest import DENIED, INVALID, NOT_FOUND, PRECONDITION, Integrator, gbp

PAID = pb.INVOICE_STATUS_PAID
PART = pb.INVOICE_STATUS_PARTIALLY_PAID
OPEN = pb.INVOICE_STATUS_OPEN


async def test_acceptance_issues_the_deposit_once_even_when_the_event_repeats(acme: Integrator):
    await acme.accept(total_minor=1_000_001, tax_minor=166_667)
    await acme.accept(total_minor=1_000_001, tax_minor=166_667)  # a redelivery
    (deposit,) = await acme.invoices()
    assert deposit.number.startswith("INV-")
    assert (deposit.total.amount_minor, deposit.tax.amount_minor) == (500_001, 83_334)
    assert deposit.status == OPEN and deposit.milestone == "acceptance"
    issued = await acme.svc.events(acme.tenant_id, events_pb2.InvoiceIssued)
    assert [e.invoice_id for e in issued] == [deposit.id]


async def test_stages_issue_their_milestones_and_the_last_takes_the_rest(acme: Integrator):
    await acme.accept(total_minor=1_000_001, tax_minor=166_667)
    await acme.reach(projects_pb2.STAGE_PROCUREMENT)  # no milestone at procurement
    await acme.reach(projects_pb2.STAGE_HANDOVER)  # skipped install: both issue now
    invoices = await acme.invoices()
    by_milestone = {i.milestone: i for i in invoices}
    assert set(by_milestone) == {"acceptance", "install", "handover"}
    assert sum(i.total.amount_minor for i in invoices) == 1_000_001
    assert sum(i.tax.amount_minor for i in invoices) == 166_667
    numbers = sorted(i.number for i in invoices)
    assert len(set(numbers)) == 3


async def test_part_paid_by_transfer_then_the_rest_makes_it_paid(acme: Integrator):
    await acme.accept(total_minor=200_000)
    (deposit,) = await acme.invoices()
    part = await acme.pay_offline(deposit.id, 40_000)
    assert part.status == PART
    assert (part.paid.amount_minor, part.due.amount_minor) == (40_000, 60_000)
    paid = await acme.pay_offline(deposit.id, 60_000, method="cheque", reference="CHQ 100231")
    assert paid.status == PAID and paid.due.amount_minor == 0
    assert [
        e.invoice_id for e in await acme.svc.events(acme.tenant_id, events_pb2.InvoicePaid)
    ] == [deposit.id]


async def test_an_offline_payment_retried_with_its_request_id_lands_once(acme: Integrator):
    await acme.accept(total_minor=200_000)
    (deposit,) = await acme.invoices()
    request_id = str(uuid.uuid4())
    await acme.pay_offline(deposit.id, 10_000, request_id=request_id)
    again = await acme.pay_offline(deposit.id, 10_000, request_id=request_id)
    assert again.paid.amount_minor == 10_000


async def test_more_than_is_due_or_another_currency_is_refused(acme: Integrator):
    await acme.accept(total_minor=200_000)
    (deposit,) = await acme.invoices()
    request = pb.RecordOfflinePaymentRequest(
        request_id=str(uuid.uuid4()),
        invoice_id=deposit.id,
        method="bank_transfer",
        amount=gbp(100_001),
        reference="x",
    )
    await acme.fails(INVALID, "RecordOfflinePayment", request, acme.finance)
    request.amount.currency, request.amount.amount_minor = "USD", 100
    await acme.fails(INVALID, "RecordOfflinePayment", request, acme.finance)


async def test_a_client_sees_only_their_customers_issued_invoices(acme: Integrator):
    await acme.accept(total_minor=200_000)
    draft = await acme.draft(("Extra speaker", 2, 25_000))
    mine = await acme.invoices(acme.approver)
    assert [i.milestone for i in mine] == ["acceptance"]  # the draft is not shown
    await acme.fails(
        NOT_FOUND, "GetInvoice", pb.GetInvoiceRequest(invoice_id=draft.id), acme.approver
    )
    stranger = acme.client(customer_id=str(uuid.uuid4()))
    assert await acme.invoices(stranger) == []
    await acme.fails(NOT_FOUND, "GetInvoice", pb.GetInvoiceRequest(invoice_id=mine[0].id), stranger)


async def test_another_tenant_cannot_read_or_pay(acme: Integrator, payments):
    await acme.accept(total_minor=200_000)
    (deposit,) = await acme.invoices()
    other = Integrator(payments)
    await other.fails(
        NOT_FOUND, "GetInvoice", pb.GetInvoiceRequest(invoice_id=deposit.id), other.finance
    )
    await other.fails(
        NOT_FOUND,
        "RecordOfflinePayment",
        pb.RecordOfflinePaymentRequest(
            request_id="r", invoice_id=deposit.id, method="cash", amount=gbp(1)
        ),
        other.finance,
    )


async def test_clients_and_technicians_cannot_raise_or_record(acme: Integrator):
    await acme.accept(total_minor=200_000)
    request = pb.CreateInvoiceRequest(
        request_id="r1",
        project_id=acme.project_id,
        lines=[pb.InvoiceLine(description="x", quantity=1, unit_price_minor=1)],
    )
    await acme.fails(DENIED, "CreateInvoice", request, acme.approver)
    await acme.fails(DENIED, "CreateInvoice", request, acme.staff("technician"))


async def test_a_staff_invoice_is_issued_numbered_and_voided_only_while_empty(acme: Integrator):
    await acme.accept(total_minor=200_000)
    draft = await acme.draft(("Cable", 3, 333), ("Labour", 1, 1), tax_rate_bps=25)
    assert (draft.total.amount_minor, draft.tax.amount_minor, draft.number) == (1_003, 3, "")
    issued = (
        await acme("IssueInvoice", pb.IssueInvoiceRequest(invoice_id=draft.id), acme.finance)
    ).invoice
    assert issued.number and issued.due_on
    await acme.fails(
        PRECONDITION, "IssueInvoice", pb.IssueInvoiceRequest(invoice_id=draft.id), acme.finance
    )
    await acme.pay_offline(issued.id, 3)
    await acme.fails(
        PRECONDITION, "VoidInvoice", pb.VoidInvoiceRequest(invoice_id=draft.id), acme.finance
    )


async def test_a_bad_line_names_its_field(acme: Integrator):
    await acme.accept(total_minor=200_000)
    request = pb.CreateInvoiceRequest(
        request_id="r2",
        project_id=acme.project_id,
        lines=[pb.InvoiceLine(description="Amp", quantity=1, unit_price_minor=2**62)],
    )
    err = await acme.fails(INVALID, "CreateInvoice", request, acme.finance)
    assert error_detail(err).field_violations[0].field == "lines[0].unit_price_minor"


async def test_the_plan_shows_what_comes_next_and_refuses_editing_an_invoiced_share(
    acme: Integrator,
):
    await acme.accept(total_minor=1_000_000)
    plan = await acme(
        "GetPaymentPlan", pb.GetPaymentPlanRequest(project_id=acme.project_id), acme.approver
    )
    assert (plan.next.trigger, plan.next.amount.amount_minor) == ("install", 400_000)
    assert [m.invoiced for m in plan.milestones] == [True, False, False]
    moved = pb.UpdatePaymentPlanRequest(
        project_id=acme.project_id,
        milestones=[
            pb.Milestone(label="Deposit", trigger="acceptance", share_bps=3_000),
            pb.Milestone(label="Rest", trigger="handover", share_bps=7_000),
        ],
    )
    await acme.fails(PRECONDITION, "UpdatePaymentPlan", moved, acme.finance)
    moved.milestones[0].share_bps, moved.milestones[1].share_bps = 5_000, 5_000
    plan = (await acme("UpdatePaymentPlan", moved, acme.finance)).plan
    assert plan.next.amount.amount_minor == 500_000
