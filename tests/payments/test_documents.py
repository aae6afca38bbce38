"""Invoice, receipt and statement PDFs through payments' real gRPC server,
and their filing in the project's documents when payments' own events land.

The PDFs' text is read back with pypdf: what the client reads is what is
asserted (money as the portal shows it, no raw ids)."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from portal.common.v1 import common_pb2
from portal.identity.v1.identity_pb2 import ACCESS_STATE_ARCHIVED, ACCESS_STATE_DELETED
from portal.payments.v1 import events_pb2 as payments_events
from portal.payments.v1 import payments_pb2 as pb
from portal.projects.v1 import events_pb2 as projects_events
from pypdf import PdfReader

from services.chassis.background import BackgroundProcess
from services.chassis.db import UnitOfWork
from services.chassis.errors import InvalidArgument, Unavailable
from services.chassis.events import Event
from services.payments import handlers
from tests.payments.conftest import DENIED, INVALID, NOT_FOUND, PRECONDITION, Integrator, gbp

LETTERHEAD = common_pb2.Letterhead(
    integrator_name="Northwind AV",
    address_lines=["12 Mill Lane", "Leeds LS1 4AB"],
    contact_email="accounts@northwind.example",
    contact_phone="+44 113 496 0000",
    time_zone="Europe/London",
)


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def pages_of(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


async def accept(acme: Integrator, total_minor: int, *, currency: str = "GBP") -> None:
    await acme.deliver(
        projects_events.ProposalAccepted(
            proposal_id=str(uuid.uuid4()),
            project_id=acme.project_id,
            project_name="Home cinema",
            reference="PRJ-0042",
            customer_id=acme.customer_id,
            version=1,
            total=common_pb2.Money(currency=currency, amount_minor=total_minor),
            tax=common_pb2.Money(currency=currency, amount_minor=0),
            client_name="The Harrisons",
            site_address="4 Orchard Rise, Harrogate HG1 2AB",
            letterhead=LETTERHEAD,
        )
    )


async def issued(acme: Integrator, *lines: tuple[str, int, int], tax_rate_bps: int = 0):
    draft = await acme.draft(*lines, tax_rate_bps=tax_rate_bps)
    answer = await acme("IssueInvoice", pb.IssueInvoiceRequest(invoice_id=draft.id), acme.finance)
    return answer.invoice


async def invoice_pdf(
    acme: Integrator, invoice_id: str, principal=None
) -> pb.GetInvoicePdfResponse:
    return await acme(
        "GetInvoicePdf",
        pb.GetInvoicePdfRequest(invoice_id=invoice_id, letterhead=LETTERHEAD),
        principal or acme.finance,
    )


async def test_the_invoice_pdf_wears_the_letterhead_and_says_what_is_paid_and_due(
    acme: Integrator, tmp_path
):
    await accept(acme, 1_000_000)
    invoice = await issued(
        acme, ("Projector, 4K laser", 1, 420_000), ("Speaker", 5, 30_000), tax_rate_bps=2000
    )
    paid = await acme.pay_offline(invoice.id, 200_000, reference="BACS 4471")
    refund = pb.RefundPaymentRequest(
        request_id=str(uuid.uuid4()), payment_id=paid.payments[0].id, amount=gbp(50_000)
    )
    await acme("RefundPayment", refund, acme.finance)

    answer = await invoice_pdf(acme, invoice.id)
    (tmp_path / "invoice.pdf").write_bytes(answer.pdf)
    text = text_of(answer.pdf)
    assert answer.filename == f"{invoice.number}.pdf"
    for expected in (
        "Northwind AV",
        "12 Mill Lane",
        "accounts@northwind.example",
        "The Harrisons",
        "4 Orchard Rise, Harrogate HG1 2AB",
        f"Invoice {invoice.number}",
        "PRJ-0042",
        "Projector, 4K laser",
        "£4,200.00",  # a line
        "£5,700.00",  # subtotal
        "Tax (20 %)",
        "£1,140.00",
        "£6,840.00",  # total
        "Bank transfer, BACS 4471",
        "£2,000.00",  # the payment
        "Refunded",
        "-£500.00",
        "£1,500.00",  # paid, less the refund
        "£5,340.00",  # due
        "Partially paid",
    ):
        assert expected in text, expected
    assert invoice.id not in text and acme.customer_id not in text  # no raw ids


async def test_the_customers_client_may_have_it_and_another_customers_may_not(acme: Integrator):
    await accept(acme, 1_000_000)
    invoice = await issued(acme, ("Speaker", 1, 30_000))

    mine = await invoice_pdf(acme, invoice.id, acme.approver)
    assert "The Harrisons" in text_of(mine.pdf)
    other = acme.client(customer_id=str(uuid.uuid4()))
    await acme.fails(
        NOT_FOUND, "GetInvoicePdf", pb.GetInvoicePdfRequest(invoice_id=invoice.id), other
    )


async def test_an_archived_customer_keeps_its_invoices_and_a_deleted_one_sees_nothing(
    acme: Integrator,
):
    await accept(acme, 1_000_000)
    invoice = await issued(acme, ("Speaker", 1, 30_000))
    subs = handlers.subscriptions()
    await acme.svc.change_customer_access(
        subs, tenant_id=acme.tenant_id, customer_id=acme.customer_id, to_state=ACCESS_STATE_ARCHIVED
    )
    archived = acme.client(read_only=True)
    assert (await invoice_pdf(acme, invoice.id, archived)).pdf.startswith(b"%PDF")

    await acme.svc.change_customer_access(
        subs, tenant_id=acme.tenant_id, customer_id=acme.customer_id, to_state=ACCESS_STATE_DELETED
    )
    for method, request in (
        ("GetInvoicePdf", pb.GetInvoicePdfRequest(invoice_id=invoice.id)),
        (
            "GetStatementPdf",
            pb.GetStatementPdfRequest(from_date="2026-01-01", to_date="2026-12-31"),
        ),
    ):
        await acme.fails(DENIED, method, request, archived)
    assert (await invoice_pdf(acme, invoice.id)).pdf.startswith(b"%PDF")  # staff still may


async def test_a_draft_is_for_staff_only(acme: Integrator):
    await accept(acme, 1_000_000)
    draft = await acme.draft(("Speaker", 1, 30_000))
    answer = await invoice_pdf(acme, draft.id)
    assert "Draft invoice" in text_of(answer.pdf)
    assert answer.filename == "PRJ-0042-draft-invoice.pdf"
    await acme.fails(
        NOT_FOUND, "GetInvoicePdf", pb.GetInvoicePdfRequest(invoice_id=draft.id), acme.approver
    )


async def test_many_lines_run_across_pages(acme: Integrator, tmp_path):
    await accept(acme, 10_000_000)
    lines = [(f"Cable run {n}, CAT6A, rack to room {n}", 2, 1_250 + n) for n in range(120)]
    invoice = await issued(acme, *lines, tax_rate_bps=2000)
    answer = await invoice_pdf(acme, invoice.id)
    (tmp_path / "long-invoice.pdf").write_bytes(answer.pdf)
    text = text_of(answer.pdf)
    assert pages_of(answer.pdf) >= 3
    assert "Cable run 0," in text and "Cable run 119," in text
    assert f"Page {pages_of(answer.pdf)} of {pages_of(answer.pdf)}" in text
    assert "£3,142.80" in text and "£628.56" in text and "£3,771.36" in text


async def test_a_yen_invoice_has_no_decimals(acme: Integrator, tmp_path):
    await accept(acme, 5_000_000, currency="JPY")
    invoice = await issued(acme, ("Amplifier", 2, 123_456), tax_rate_bps=1000)
    answer = await invoice_pdf(acme, invoice.id)
    (tmp_path / "jpy-invoice.pdf").write_bytes(answer.pdf)
    text = text_of(answer.pdf)
    assert "¥246,912" in text and "¥24,691" in text and "¥271,603" in text
    assert "¥246,912.00" not in text


async def test_a_milestone_invoice_shows_its_share_of_the_tax_without_a_rate(acme: Integrator):
    """The deposit carries half the proposal's tax and no rate of its own: the
    PDF still says "Tax" with the amount, never "Tax (0 %)", so it adds up."""
    await acme.accept(total_minor=1_200_000, tax_minor=200_000)
    (deposit,) = await acme.invoices()
    assert deposit.tax_rate_bps == 0 and deposit.tax.amount_minor == 100_000
    text = text_of((await invoice_pdf(acme, deposit.id)).pdf)
    assert "Tax\n£1,000.00" in text or "Tax £1,000.00" in text, text
    assert "Tax (0 %)" not in text


async def test_a_receipt_says_amount_method_date_invoice_and_what_was_left(
    acme: Integrator, tmp_path
):
    await accept(acme, 1_000_000)
    invoice = await issued(acme, ("Speaker", 10, 30_000))
    await acme.pay_offline(invoice.id, 100_000, reference="BACS 1", received_on="2026-11-03")
    paid = await acme.pay_offline(invoice.id, 50_000, method="cheque", reference="CHQ 000123")
    second = paid.payments[1]

    answer = await acme(
        "GetReceiptPdf",
        pb.GetReceiptPdfRequest(payment_id=second.id, letterhead=LETTERHEAD),
        acme.approver,
    )
    (tmp_path / "receipt.pdf").write_bytes(answer.pdf)
    text = text_of(answer.pdf)
    assert answer.filename == f"{invoice.number}-R2-receipt.pdf"
    for expected in (
        "Receipt",
        f"Receipt for invoice {invoice.number}",
        "£500.00",  # this payment
        "Cheque",
        "CHQ 000123",
        "£3,000.00",  # the invoice's total
        "-£1,000.00",  # paid before it
        "£1,500.00",  # left after it
        "The Harrisons",
    ):
        assert expected in text, expected
    first = await acme(
        "GetReceiptPdf", pb.GetReceiptPdfRequest(payment_id=paid.payments[0].id), acme.finance
    )
    assert "3 Nov 2026" in text_of(first.pdf) and "£2,000.00" in text_of(first.pdf)


async def test_a_receipt_is_refused_to_another_customer_and_for_money_not_received(
    acme: Integrator,
):
    await accept(acme, 1_000_000)
    invoice = await issued(acme, ("Speaker", 1, 30_000))
    paid = await acme.pay_offline(invoice.id, 10_000)
    other = acme.client(customer_id=str(uuid.uuid4()))
    request = pb.GetReceiptPdfRequest(payment_id=paid.payments[0].id)
    await acme.fails(NOT_FOUND, "GetReceiptPdf", request, other)
    await acme.fails(
        NOT_FOUND,
        "GetReceiptPdf",
        pb.GetReceiptPdfRequest(payment_id=str(uuid.uuid4())),
        acme.finance,
    )
    await acme.svc.sql(
        acme.tenant_id,
        "UPDATE payment SET status = 'processing' WHERE id = :id",
        id=uuid.UUID(paid.payments[0].id),
    )
    await acme.fails(PRECONDITION, "GetReceiptPdf", request, acme.finance)


async def test_a_statement_runs_from_the_opening_balance_to_the_close(acme: Integrator, tmp_path):
    await accept(acme, 1_000_000)
    first = await issued(acme, ("Deposit", 1, 400_000))
    await acme.pay_offline(first.id, 400_000, received_on=date.today().isoformat())
    second = await issued(acme, ("Install", 1, 250_000))
    cheque = await acme.pay_offline(second.id, 60_000, method="cheque", reference="CHQ 9")
    refund = pb.RefundPaymentRequest(
        request_id=str(uuid.uuid4()),
        payment_id=cheque.payments[0].id,
        amount=gbp(10_000),
        reason="overpaid",
    )
    await acme("RefundPayment", refund, acme.finance)

    today = date.today()
    request = pb.GetStatementPdfRequest(
        customer_id=acme.customer_id,
        from_date=(today - timedelta(days=30)).isoformat(),
        to_date=(today + timedelta(days=1)).isoformat(),
        letterhead=LETTERHEAD,
    )
    answer = await acme("GetStatementPdf", request, acme.finance)
    (tmp_path / "statement.pdf").write_bytes(answer.pdf)
    text = text_of(answer.pdf)
    for expected in (
        "Statement of account",
        "The Harrisons",
        f"Invoice {first.number}",
        f"Invoice {second.number}",
        "Bank transfer",
        "Cheque",
        f"Refund on {second.number}",
        "£11,500.00",  # invoiced: the deposit (half of 10,000), 4,000 and 2,500
        "£7,000.00",  # balance due: 11,500 - 4,500
    ):
        assert expected in text, expected
    mine = await acme("GetStatementPdf", pb.GetStatementPdfRequest(
        from_date=request.from_date, to_date=request.to_date), acme.approver)  # fmt: skip
    assert "£7,000.00" in text_of(mine.pdf)

    # Later: what was owed before the range opens it.
    later = pb.GetStatementPdfRequest(
        customer_id=acme.customer_id,
        from_date=(today + timedelta(days=2)).isoformat(),
        to_date=(today + timedelta(days=3)).isoformat(),
    )
    quiet = text_of((await acme("GetStatementPdf", later, acme.finance)).pdf)
    assert "Opening balance" in quiet and "£7,000.00" in quiet
    assert "Nothing issued, paid or refunded in this period" in quiet


async def test_a_statement_is_refused_for_another_customer_and_a_backwards_range(
    acme: Integrator,
):
    await accept(acme, 1_000_000)
    await issued(acme, ("Speaker", 1, 30_000))
    other = pb.GetStatementPdfRequest(
        customer_id=str(uuid.uuid4()), from_date="2026-01-01", to_date="2026-12-31"
    )
    await acme.fails(NOT_FOUND, "GetStatementPdf", other, acme.approver)
    await acme.fails(NOT_FOUND, "GetStatementPdf", other, acme.finance)  # never billed
    backwards = pb.GetStatementPdfRequest(
        customer_id=acme.customer_id, from_date="2026-12-31", to_date="2026-01-01"
    )
    err = await acme.fails(INVALID, "GetStatementPdf", backwards, acme.finance)
    assert "last day" in (err.details() or "")
    await acme.fails(
        INVALID,
        "GetStatementPdf",
        pb.GetStatementPdfRequest(customer_id=acme.customer_id, from_date="31/12/2026"),
        acme.finance,
    )


# -- filing ----------------------------------------------------------------------------


class Archive:
    def __init__(self) -> None:
        self.filed: list[dict] = []

    async def file(self, **kw) -> None:
        self.filed.append(kw)


async def _deliver(
    acme: Integrator, archive: Archive, payload, event_id: str, background=None
) -> None:
    (sub,) = [
        s
        for s in handlers.subscriptions(documents=archive, background=background)
        if s.payload_type is type(payload)
    ]
    event = Event(
        id=event_id,
        type=sub.subject,
        tenant_id=acme.tenant_id,
        occurred_at=datetime.now(UTC),
        aggregate_type="invoice",
        aggregate_id=acme.project_id,
        payload=payload,
    )
    async with UnitOfWork(acme.svc.sessions, acme.tenant_id) as uow:
        await sub.handler(uow, event)
        await uow.commit()


async def test_issuing_and_a_payment_file_their_pdfs_with_one_request_id_however_often(
    acme: Integrator,
):
    await accept(acme, 1_000_000)
    invoice = await issued(acme, ("Speaker", 1, 30_000))
    paid = await acme.pay_offline(invoice.id, 10_000)
    archive = Archive()
    (issued_event,) = [
        e
        for e in await acme.svc.events(acme.tenant_id, payments_events.InvoiceIssued)
        if e.invoice_id == invoice.id
    ]
    (paid_event,) = await acme.svc.events(acme.tenant_id, payments_events.PaymentSucceeded)
    for _ in range(2):  # redelivered: the same upload, which documents keeps once
        await _deliver(acme, archive, issued_event, str(uuid.uuid4()))
        await _deliver(acme, archive, paid_event, str(uuid.uuid4()))

    invoice_a, receipt_a, invoice_b, receipt_b = archive.filed
    assert invoice_a["request_id"] == invoice_b["request_id"]
    assert receipt_a["request_id"] == receipt_b["request_id"]
    assert invoice_a["request_id"] != receipt_a["request_id"]
    assert invoice_a["title"] == f"Invoice {invoice.number}"
    assert invoice_a["filename"] == f"{invoice.number}.pdf"
    assert invoice_a["project_id"] == acme.project_id
    assert receipt_a["filename"] == f"{invoice.number}-R1-receipt.pdf"
    assert receipt_a["title"].startswith(f"Receipt R1 for {invoice.number}: £100.00 on ")
    # Drawn with the letterhead the accepted proposal brought.
    assert "Northwind AV" in text_of(invoice_a["data"])
    assert "£100.00" in text_of(receipt_a["data"]) and paid.payments[0].id not in str(receipt_a)
    assert receipt_a["data"] == receipt_b["data"]  # deterministic


async def test_an_issued_invoice_drawn_in_the_background_is_the_one_drawn_in_place(
    acme: Integrator,
):
    """As the service runs, the filing's PDF is drawn in the chassis'
    niced child process (off the loop the approved orders' handler shares):
    the same bytes, the same single upload."""
    event = await _issued_event(acme)
    here, there = Archive(), Archive()
    background = BackgroundProcess()
    try:
        await _deliver(acme, here, event, str(uuid.uuid4()))
        await _deliver(acme, there, event, str(uuid.uuid4()), background)
    finally:
        background.close()
    (a,), (b,) = here.filed, there.filed
    assert a == b and a["data"].startswith(b"%PDF")


async def test_each_payment_files_a_receipt_titled_by_its_number_amount_and_day(
    acme: Integrator,
):
    """Two receipts on one invoice used to be filed as the same "Receipt for
    invoice INV-…", so the client's documents listed two identical lines."""
    await accept(acme, 1_000_000)
    invoice = await issued(acme, ("Speaker", 10, 30_000))
    await acme.pay_offline(invoice.id, 50_000, received_on="2026-11-03")
    await acme.pay_offline(invoice.id, 50_000, received_on="2026-11-20", reference="BACS 2")
    await acme.pay_offline(invoice.id, 12_345, received_on="2026-11-20", reference="BACS 3")
    archive = Archive()
    for event in await acme.svc.events(acme.tenant_id, payments_events.PaymentSucceeded):
        if event.invoice_id == invoice.id:
            await _deliver(acme, archive, event, str(uuid.uuid4()))
    assert sorted(f["title"] for f in archive.filed) == [
        f"Receipt R1 for {invoice.number}: £500.00 on 3 Nov 2026",
        f"Receipt R2 for {invoice.number}: £500.00 on 20 Nov 2026",
        f"Receipt R3 for {invoice.number}: £123.45 on 20 Nov 2026",
    ]


class Refusing(Archive):
    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    async def file(self, **kw) -> None:
        self.filed.append(kw)
        raise self.error


async def _issued_event(acme: Integrator):
    await accept(acme, 1_000_000)
    invoice = await issued(acme, ("Speaker", 1, 30_000))
    (event,) = [
        e
        for e in await acme.svc.events(acme.tenant_id, payments_events.InvoiceIssued)
        if e.invoice_id == invoice.id
    ]
    return event


async def test_documents_down_fails_the_handler_so_the_consumer_retries_it(acme: Integrator):
    event = await _issued_event(acme)
    down = Refusing(Unavailable("documents is unavailable"))
    with pytest.raises(Unavailable):
        await _deliver(acme, down, event, str(uuid.uuid4()))
    assert len(down.filed) == 1


async def test_a_final_refusal_leaves_the_pdf_unfiled_and_the_event_handled(acme: Integrator):
    event = await _issued_event(acme)
    refusing = Refusing(InvalidArgument("this file type is not allowed", field="filename"))
    await _deliver(acme, refusing, event, str(uuid.uuid4()))  # no raise: not a dead letter
    assert len(refusing.filed) == 1


async def test_a_card_payment_s_receipt_names_the_card_by_brand_and_last_digits(
    acme: Integrator, stripe_api, tmp_path
):
    await accept(acme, 200_000)
    (deposit,) = await acme.invoices()
    pm = await stripe_api.test_card(
        account="", number="4242424242424242", exp_month=12, exp_year=2030, cvc="123"
    )
    started = await acme(
        "StartPayment",
        pb.StartPaymentRequest(
            invoice_id=deposit.id, attempt_id=str(uuid.uuid4()), amount=gbp(30_000),
            payment_method_id=pm,
        ),
        acme.approver,
    )  # fmt: skip
    assert started.payment.status == pb.PAYMENT_STATUS_SUCCEEDED
    answer = await acme(
        "GetReceiptPdf", pb.GetReceiptPdfRequest(payment_id=started.payment.id), acme.approver
    )
    (tmp_path / "card-receipt.pdf").write_bytes(answer.pdf)
    text = text_of(answer.pdf)
    assert "Visa card ending 4242" in text and "£300.00" in text and "£700.00" in text
    invoice = text_of((await invoice_pdf(acme, deposit.id)).pdf)
    assert "Deposit (on acceptance)" in invoice, invoice
    assert "Visa card ending 4242" in invoice, invoice
