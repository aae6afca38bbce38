"""The board's payments: projects' copy of payments' events (each invoice's
standing, the plan's next payment), through the handlers the consumer runs,
on real PostgreSQL. Events arrive twice and out of order; the newest wins."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from portal.common.v1 import common_pb2
from portal.payments.v1 import events_pb2 as pay
from portal.payments.v1 import payments_pb2
from portal.projects.v1 import projects_pb2 as pb

from services.projects import handlers
from tests.projects.conftest import Integrator, Job, _NoArchive

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def gbp(minor: int) -> common_pb2.Money:
    return common_pb2.Money(currency="GBP", amount_minor=minor)


def standing(invoice_id: str, status: str, due: int, *, processing: int = 0, expected_by: str = ""):
    return payments_pb2.InvoiceStanding(
        invoice_id=invoice_id,
        number="INV-1001",
        status=status,
        total=gbp(200_000),
        due=gbp(due),
        processing=gbp(processing),
        due_on="2026-12-12",
        expected_by=expected_by,
        milestone_label="Deposit",
        project_name="Smith residence",
    )


def issued(job: Job, invoice_id: str) -> pay.InvoiceIssued:
    return pay.InvoiceIssued(
        invoice_id=invoice_id,
        number="INV-1001",
        project_id=job.project.id,
        customer_id=job.project.customer_id,
        total=gbp(200_000),
        due=gbp(200_000),
        due_on="2026-12-12",
        standing=standing(invoice_id, "open", 200_000),
    )


def succeeded(job: Job, invoice_id: str, paid: int, left: int) -> pay.PaymentSucceeded:
    return pay.PaymentSucceeded(
        payment_id=str(uuid.uuid4()),
        invoice_id=invoice_id,
        project_id=job.project.id,
        customer_id=job.project.customer_id,
        amount=gbp(paid),
        invoice_due=gbp(left),
        standing=standing(invoice_id, "paid" if left == 0 else "partially_paid", left),
    )


def processing_all(job: Job, invoice_id: str, method: str, expected_by: str):
    """The whole £2,000 as a bank debit on its way."""
    return pay.PaymentProcessing(
        payment_id=str(uuid.uuid4()),
        invoice_id=invoice_id,
        project_id=job.project.id,
        customer_id=job.project.customer_id,
        amount=gbp(200_000),
        method=method,
        expected_by=expected_by,
        standing=standing(
            invoice_id, "processing", 200_000, processing=200_000, expected_by=expected_by
        ),
    )


def paid(job: Job, invoice_id: str) -> pay.InvoicePaid:
    return pay.InvoicePaid(
        invoice_id=invoice_id,
        number="INV-1001",
        project_id=job.project.id,
        customer_id=job.project.customer_id,
        standing=standing(invoice_id, "paid", 0),
    )


def plan_changed(job: Job, label: str, trigger: str, amount: int, invoice_id: str = ""):
    event = pay.PaymentPlanChanged(project_id=job.project.id, customer_id=job.project.customer_id)
    if label:
        event.next.CopyFrom(
            payments_pb2.NextPayment(
                label=label,
                trigger=trigger,
                amount=gbp(amount),
                invoice_id=invoice_id,
                invoice_number="INV-1001" if invoice_id else "",
                due_on="2026-12-12" if invoice_id else "",
            )
        )
    return event


async def deliver(acme: Integrator, event, at: datetime, event_id: str | None = None) -> None:
    await acme.svc.deliver(
        handlers.subscriptions(documents=_NoArchive(), tenants=acme.svc.tenants),
        event,
        tenant_id=acme.tenant_id,
        aggregate_id=job_key(event),
        at=at,
        event_id=event_id,
    )


def job_key(event) -> str:
    return getattr(event, "invoice_id", "") or event.project_id


def invoice_items(board: pb.GetStatusBoardResponse) -> list[tuple[str, str]]:
    return [(w.title, w.link) for w in board.waiting_on if w.kind == "invoice_to_pay"]


async def test_an_issued_invoice_waits_on_the_client_until_paid(acme: Integrator, job: Job):
    invoice = str(uuid.uuid4())
    await deliver(acme, issued(job, invoice), T0)
    await deliver(acme, plan_changed(job, "Deposit", "acceptance", 200_000, invoice), T0)
    board = await acme.board(job.project.id, acme.approver)
    assert invoice_items(board) == [
        ("Invoice INV-1001, £2,000.00 due 12 Dec 2026", f"/invoices/{invoice}")
    ]
    assert board.next_payment.label == "Deposit"
    assert board.next_payment.amount == gbp(200_000)
    assert (board.next_payment.invoice_id, board.next_payment.due_on) == (invoice, "2026-12-12")

    # A part payment retitles it with what is left; paying the rest resolves it.
    await deliver(acme, succeeded(job, invoice, 50_000, 150_000), T0 + timedelta(minutes=1))
    board = await acme.board(job.project.id, acme.approver)
    assert invoice_items(board) == [
        ("Invoice INV-1001, £1,500.00 due 12 Dec 2026", f"/invoices/{invoice}")
    ]
    done = T0 + timedelta(minutes=2)
    await deliver(acme, succeeded(job, invoice, 150_000, 0), done)
    await deliver(acme, paid(job, invoice), done)
    await deliver(acme, plan_changed(job, "Installation", "install", 160_000), done)
    board = await acme.board(job.project.id, acme.approver)
    assert invoice_items(board) == []
    assert (board.next_payment.label, board.next_payment.stage) == (
        "Installation",
        pb.STAGE_INSTALL,
    )
    assert board.next_payment.amount == gbp(160_000)
    assert board.next_payment.invoice_id == ""
    assert board.next_payment.when == "at install"  # projects' words, not the gateway's


async def test_duplicates_and_late_older_events_change_nothing(acme: Integrator, job: Job):
    invoice = str(uuid.uuid4())
    first = str(uuid.uuid4())
    # The paid report arrives first; the older "issued" after it (twice, and
    # once under the same event id, as a redelivery).
    await deliver(acme, paid(job, invoice), T0 + timedelta(minutes=5))
    for event_id in (first, first, None):
        await deliver(acme, issued(job, invoice), T0, event_id=event_id)
    board = await acme.board(job.project.id, acme.pm)
    assert invoice_items(board) == []
    rows = await acme.svc.sql(
        acme.tenant_id,
        "SELECT status, due_minor FROM invoice_standing WHERE invoice_id = :i",
        i=invoice,
    )
    assert rows == [("paid", 0)]
    # The plan: a late, older report does not bring the deposit back.
    await deliver(acme, plan_changed(job, "Handover", "handover", 40_000), T0 + timedelta(hours=1))
    await deliver(acme, plan_changed(job, "Deposit", "acceptance", 200_000, invoice), T0)
    board = await acme.board(job.project.id, acme.approver)
    assert board.next_payment.label == "Handover"
    # Nothing left to pay: no next payment at all.
    await deliver(acme, plan_changed(job, "", "", 0), T0 + timedelta(hours=2))
    board = await acme.board(job.project.id, acme.approver)
    assert not board.HasField("next_payment")


async def test_of_two_reports_of_one_instant_the_further_state_wins(acme: Integrator, job: Job):
    """A payment and the invoice it paid are one transaction: one timestamp."""
    invoice = str(uuid.uuid4())
    await deliver(acme, paid(job, invoice), T0)
    await deliver(acme, issued(job, invoice), T0)  # same instant, an earlier state
    board = await acme.board(job.project.id, acme.pm)
    assert invoice_items(board) == []


async def test_processing_is_on_its_way_not_waiting_and_a_failure_reopens_it(
    acme: Integrator, job: Job
):
    invoice = str(uuid.uuid4())
    await deliver(acme, issued(job, invoice), T0)
    processing = processing_all(job, invoice, "bacs_debit", "2026-12-07")
    await deliver(acme, processing, T0 + timedelta(minutes=1))
    board = await acme.board(job.project.id, acme.approver)
    assert invoice_items(board) == []
    (way,) = board.on_its_way
    assert (way.invoice_number, way.amount, way.expected_by) == (
        "INV-1001",
        gbp(200_000),
        "2026-12-07",
    )
    failed = pay.PaymentFailed(
        payment_id=processing.payment_id,
        invoice_id=invoice,
        project_id=job.project.id,
        customer_id=job.project.customer_id,
        amount=gbp(200_000),
        failure_message="The bank refused the debit.",
        standing=standing(invoice, "open", 200_000),
    )
    await deliver(acme, failed, T0 + timedelta(minutes=2))
    board = await acme.board(job.project.id, acme.approver)
    assert invoice_items(board) == [
        ("Invoice INV-1001, £2,000.00 due 12 Dec 2026", f"/invoices/{invoice}")
    ]
    assert list(board.on_its_way) == []


async def test_an_event_from_before_the_standing_existed_is_skipped(acme: Integrator, job: Job):
    old = issued(job, str(uuid.uuid4()))
    old.ClearField("standing")
    await deliver(acme, old, T0)
    board = await acme.board(job.project.id, acme.pm)
    assert invoice_items(board) == []
