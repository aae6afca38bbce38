"""An ACH debit awaiting micro-deposit verification on the board: payments'
events say so (`standing.awaiting_verification`), and the board asks the
client to verify their bank account, linking to the invoice, instead of
showing the money as due; verified, cancelled or failed, the ask goes.
Through the handlers the consumer runs and the board's API, on real PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import timedelta

from portal.payments.v1 import events_pb2 as pay
from portal.projects.v1 import projects_pb2 as pb

from tests.projects.conftest import Integrator, Job
from tests.projects.test_payment_board import (
    T0,
    deliver,
    gbp,
    invoice_items,
    issued,
    plan_changed,
    processing_all,
    standing,
)


def verify_items(board: pb.GetStatusBoardResponse) -> list[tuple[str, str]]:
    return [(w.title, w.link) for w in board.waiting_on if w.kind == "bank_account_to_verify"]


def held(invoice: str, amount: int, *, status: str = "open", due: int = 200_000):
    s = standing(invoice, status, due)
    s.verifying.CopyFrom(gbp(amount))
    s.awaiting_verification = True
    return s


def verification_required(
    job: Job, invoice: str, amount: int, **kw
) -> pay.PaymentVerificationRequired:
    return pay.PaymentVerificationRequired(
        payment_id=str(uuid.uuid4()),
        invoice_id=invoice,
        project_id=job.project.id,
        customer_id=job.project.customer_id,
        amount=gbp(amount),
        method="us_bank_account",
        account_last4="6789",
        verification_url="https://payments.stripe.com/microdeposit/pacs_test",
        arrive_on="2026-12-03",
        microdeposit_type="descriptor_code",
        standing=held(invoice, amount, **kw),
    )


async def test_a_debit_awaiting_verification_asks_to_verify_not_to_pay(acme: Integrator, job: Job):
    invoice = str(uuid.uuid4())
    await deliver(acme, issued(job, invoice), T0)
    await deliver(acme, verification_required(job, invoice, 200_000), T0 + timedelta(minutes=1))
    board = await acme.board(job.project.id, acme.approver)
    assert verify_items(board) == [
        ("Verify your bank account to pay INV-1001, £2,000.00", f"/invoices/{invoice}")
    ]
    assert invoice_items(board) == []  # nothing is "due" while the whole amount is held
    assert list(board.on_its_way) == []  # and nothing is on its way before verification
    rows = await acme.svc.sql(
        acme.tenant_id,
        "SELECT verifying_minor, awaiting_verification FROM invoice_standing WHERE invoice_id = :i",
        i=invoice,
    )
    assert rows == [(200_000, True)]

    # Verified: Stripe debits it (processing) and the ask is resolved.
    verified = processing_all(job, invoice, "us_bank_account", "2026-12-09")
    await deliver(acme, verified, T0 + timedelta(days=2))
    board = await acme.board(job.project.id, acme.approver)
    assert verify_items(board) == []
    assert invoice_items(board) == []
    assert [w.invoice_number for w in board.on_its_way] == ["INV-1001"]


async def test_a_part_held_asks_both_and_a_cancel_gives_back_the_pay(acme: Integrator, job: Job):
    """£500 of £2,000 by ACH awaiting verification: verify that, and pay the
    rest; cancelled, the whole £2,000 is to pay again. A late replay of the
    verification event changes nothing."""
    invoice = str(uuid.uuid4())
    await deliver(acme, issued(job, invoice), T0)
    asked = verification_required(job, invoice, 50_000)
    await deliver(acme, asked, T0 + timedelta(minutes=1))
    board = await acme.board(job.project.id, acme.approver)
    assert verify_items(board) == [
        ("Verify your bank account to pay INV-1001, £500.00", f"/invoices/{invoice}")
    ]
    assert invoice_items(board) == [
        ("Invoice INV-1001, £1,500.00 due 12 Dec 2026", f"/invoices/{invoice}")
    ]

    canceled = pay.PaymentCanceled(
        payment_id=asked.payment_id,
        invoice_id=invoice,
        project_id=job.project.id,
        customer_id=job.project.customer_id,
        amount=gbp(50_000),
        method="us_bank_account",
        standing=standing(invoice, "open", 200_000),
    )
    await deliver(acme, canceled, T0 + timedelta(minutes=5))
    await deliver(acme, asked, T0 + timedelta(minutes=1))  # redelivered late: older news
    board = await acme.board(job.project.id, acme.approver)
    assert verify_items(board) == []
    assert invoice_items(board) == [
        ("Invoice INV-1001, £2,000.00 due 12 Dec 2026", f"/invoices/{invoice}")
    ]


async def test_verification_that_fails_reopens_the_invoice_to_pay(acme: Integrator, job: Job):
    invoice = str(uuid.uuid4())
    await deliver(acme, verification_required(job, invoice, 200_000), T0)
    failed = pay.PaymentFailed(
        payment_id=str(uuid.uuid4()),
        invoice_id=invoice,
        project_id=job.project.id,
        customer_id=job.project.customer_id,
        amount=gbp(200_000),
        failure_message="The bank account wasn't verified in time, so nothing was taken.",
        standing=standing(invoice, "open", 200_000),
    )
    await deliver(acme, failed, T0 + timedelta(days=10))
    board = await acme.board(job.project.id, acme.approver)
    assert verify_items(board) == []
    assert invoice_items(board) == [
        ("Invoice INV-1001, £2,000.00 due 12 Dec 2026", f"/invoices/{invoice}")
    ]


async def test_the_next_payment_says_it_waits_for_verification_not_that_it_is_due(
    acme: Integrator, job: Job
):
    """The plan's next payment is the invoice's £2,000: all of it held reads
    as the client's step; a part held says so beside what is due; cancelled,
    it is simply due again."""
    invoice = str(uuid.uuid4())
    await deliver(acme, issued(job, invoice), T0)
    await deliver(acme, plan_changed(job, "Deposit", "acceptance", 200_000, invoice), T0)

    async def next_payment() -> tuple[str, int]:
        n = (await acme.board(job.project.id, acme.approver)).next_payment
        return n.when, n.held_for_verification.amount_minor

    assert await next_payment() == ("due 12 Dec 2026", 0)

    whole = verification_required(job, invoice, 200_000)
    await deliver(acme, whole, T0 + timedelta(minutes=1))
    assert await next_payment() == ("waiting for you to verify your bank account", 200_000)

    # Cancelled, then £500 of it by a new debit awaiting verification.
    canceled = pay.PaymentCanceled(
        payment_id=whole.payment_id,
        invoice_id=invoice,
        project_id=job.project.id,
        customer_id=job.project.customer_id,
        amount=gbp(200_000),
        method="us_bank_account",
        standing=standing(invoice, "open", 200_000),
    )
    await deliver(acme, canceled, T0 + timedelta(minutes=2))
    assert await next_payment() == ("due 12 Dec 2026", 0)
    await deliver(acme, verification_required(job, invoice, 50_000), T0 + timedelta(minutes=3))
    assert await next_payment() == (
        "£500.00 held for verification, £1,500.00 due 12 Dec 2026",
        50_000,
    )
