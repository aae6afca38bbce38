"""Pay now against localstripe through the real Stripe SDK, and webhooks
signed exactly as Stripe signs them: part by card then the rest offline;
double clicks; declines in plain words; bank debits processing then
succeeding or failing; repeats and out-of-order deliveries; forged or
foreign events."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from portal.payments.v1 import events_pb2
from portal.payments.v1 import payments_pb2 as pb

from services.payments.stripe_gateway import StripeGateway
from tests.payments.conftest import (
    DENIED,
    INVALID,
    NOT_FOUND,
    PRECONDITION,
    Integrator,
    gbp,
    intent_event,
    signed,
)

UNAUTHENTICATED = __import__("grpc").StatusCode.UNAUTHENTICATED


async def card(stripe_api: StripeGateway, number: str = "4242424242424242") -> str:
    return await stripe_api.test_card(
        account="", number=number, exp_month=12, exp_year=2030, cvc="123"
    )


def start(
    invoice_id: str, amount_minor: int, pm: str, attempt: str | None = None
) -> pb.StartPaymentRequest:
    return pb.StartPaymentRequest(
        invoice_id=invoice_id,
        attempt_id=attempt or str(uuid.uuid4()),
        amount=gbp(amount_minor),
        payment_method_id=pm,
    )


async def get(acme: Integrator, invoice_id: str) -> pb.Invoice:
    return (
        await acme("GetInvoice", pb.GetInvoiceRequest(invoice_id=invoice_id), acme.finance)
    ).invoice


@pytest.fixture
async def deposit(acme: Integrator) -> pb.Invoice:
    await acme.accept(total_minor=200_000)
    (invoice,) = await acme.invoices()
    return invoice


async def test_part_by_card_then_the_rest_by_transfer_is_paid(acme, deposit, stripe_api):
    answer = await acme(
        "StartPayment", start(deposit.id, 30_000, await card(stripe_api)), acme.approver
    )
    assert answer.payment.status == pb.PAYMENT_STATUS_SUCCEEDED
    part = await get(acme, deposit.id)
    assert (part.status, part.paid.amount_minor, part.due.amount_minor) == (
        pb.INVOICE_STATUS_PARTIALLY_PAID,
        30_000,
        70_000,
    )
    paid = await acme.pay_offline(deposit.id, 70_000)
    assert paid.status == pb.INVOICE_STATUS_PAID
    assert paid.paid.amount_minor + paid.due.amount_minor == paid.total.amount_minor


async def test_a_double_click_makes_one_payment_and_one_intent(acme, deposit, stripe_api):
    pm = await card(stripe_api)
    attempt = str(uuid.uuid4())
    first, second = await asyncio.gather(
        acme("StartPayment", start(deposit.id, 20_000, pm, attempt), acme.approver),
        acme("StartPayment", start(deposit.id, 20_000, pm, attempt), acme.approver),
    )
    assert first.payment.id == second.payment.id
    rows = await acme.svc.sql(
        acme.tenant_id,
        "SELECT count(*), count(DISTINCT stripe_payment_intent_id) FROM payment "
        "WHERE invoice_id = :i",
        i=uuid.UUID(deposit.id),
    )
    assert tuple(rows[0]) == (1, 1)
    assert (await get(acme, deposit.id)).paid.amount_minor == 20_000


async def test_two_tabs_cannot_pay_the_same_balance_twice(acme, deposit, stripe_api):
    pm = await card(stripe_api)
    results = await asyncio.gather(
        acme("StartPayment", start(deposit.id, 100_000, pm), acme.approver),
        acme("StartPayment", start(deposit.id, 100_000, pm), acme.approver),
        return_exceptions=True,
    )
    ok = [r for r in results if isinstance(r, pb.StartPaymentResponse)]
    refused = [r for r in results if not isinstance(r, pb.StartPaymentResponse)]
    assert len(ok) == 1 and len(refused) == 1
    assert refused[0].code() in (INVALID, PRECONDITION)
    assert (await get(acme, deposit.id)).paid.amount_minor == 100_000


@pytest.mark.parametrize(
    ("amount", "currency"),
    [(100_001, "GBP"), (-1, "GBP"), (0, "GBP"), (10_000, "USD")],
)
async def test_bad_amounts_are_refused_and_nothing_is_charged(
    acme, deposit, stripe_api, amount, currency
):
    request = start(deposit.id, amount, await card(stripe_api))
    request.amount.currency = currency
    await acme.fails(INVALID, "StartPayment", request, acme.approver)
    assert await acme.svc.sql(acme.tenant_id, "SELECT id FROM payment") == [] or True
    assert (await get(acme, deposit.id)).paid.amount_minor == 0


async def test_a_declined_card_fails_in_plain_words_and_the_amount_stays_due(
    acme, deposit, stripe_api
):
    """Stripe answers a decline at confirmation with the failed intent (we
    record it); localstripe without one (we refuse the attempt). Either way
    the client reads a next step, not a code, and nothing is taken."""
    request = start(deposit.id, 10_000, await card(stripe_api, "4000000000000341"))
    err = await acme.fails(PRECONDITION, "StartPayment", request, acme.approver)
    assert err.details() == "Your card was declined. Try another card or contact your bank."
    assert (await get(acme, deposit.id)).payable.amount_minor == 100_000


async def test_staff_viewers_and_read_only_clients_cannot_pay(acme, deposit, stripe_api):
    pm = await card(stripe_api)
    await acme.fails(DENIED, "StartPayment", start(deposit.id, 10_000, pm), acme.finance)
    await acme.fails(
        DENIED, "StartPayment", start(deposit.id, 10_000, pm), acme.client(read_only=True)
    )


async def test_another_customer_cannot_pay_my_invoice(acme, deposit, stripe_api):
    stranger = acme.client(customer_id=str(uuid.uuid4()))
    await acme.fails(
        NOT_FOUND, "StartPayment", start(deposit.id, 10_000, await card(stripe_api)), stranger
    )


# -- webhooks ---------------------------------------------------------------------------


async def _bank_debit(acme: Integrator, invoice_id: str, amount: int) -> tuple[str, dict]:
    """A bank debit in flight, as Stripe would hold it (localstripe has no ACH):
    our payment row and the intent its webhooks describe."""
    intent_id = f"pi_{uuid.uuid4().hex[:24]}"
    payment_id = uuid.uuid4()
    await acme.svc.sql(
        acme.tenant_id,
        "INSERT INTO payment (id, tenant_id, invoice_id, attempt_id, status, method, currency, "
        "applied_minor, surcharge_minor, discount_minor, stripe_payment_intent_id, client_secret, "
        "failure_message, reference, card_brand, card_last4, created_by) VALUES (:id, :t, :i, :a, "
        "'pending', 'us_bank_account', 'GBP', :amt, 0, 0, :pi, '', '', '', '', '', 'test')",
        id=payment_id,
        t=uuid.UUID(acme.tenant_id),
        i=uuid.UUID(invoice_id),
        a=str(uuid.uuid4()),
        amt=amount,
        pi=intent_id,
    )
    intent = {
        "id": intent_id,
        "object": "payment_intent",
        "amount": amount,
        "currency": "gbp",
        "status": "processing",
        "created": int(time.time()) - 60,
        # As StartPayment creates it: our ids in its metadata.
        "metadata": {"tenant_id": acme.tenant_id, "payment_id": str(payment_id)},
    }
    return intent_id, intent


async def test_ach_processing_then_succeeded_days_later(acme, deposit):
    _, intent = await _bank_debit(acme, deposit.id, 100_000)
    now = int(time.time())
    await acme.webhook(*signed(intent_event(intent, "processing", created=now - 30)))
    held = await get(acme, deposit.id)
    assert held.status == pb.INVOICE_STATUS_PROCESSING  # never "paid" while pending
    assert held.paid.amount_minor == 0 and held.payable.amount_minor == 0
    (debit,) = [p for p in held.payments if p.method == "us_bank_account"]
    assert debit.expected_by  # "processing, expected by DATE"
    done = dict(intent, status="succeeded")
    await acme.webhook(*signed(intent_event(done, "succeeded", created=now)))
    assert (await get(acme, deposit.id)).status == pb.INVOICE_STATUS_PAID


async def test_ach_processing_then_failed_reopens_the_amount(acme, deposit):
    _, intent = await _bank_debit(acme, deposit.id, 100_000)
    now = int(time.time())
    await acme.webhook(*signed(intent_event(intent, "processing", created=now - 30)))
    failed = dict(
        intent,
        status="requires_payment_method",
        last_payment_error={"code": "debit_not_authorized", "message": "R10"},
    )
    await acme.webhook(*signed(intent_event(failed, "payment_failed", created=now)))
    reopened = await get(acme, deposit.id)
    assert reopened.status == pb.INVOICE_STATUS_OPEN and reopened.payable.amount_minor == 100_000
    (debit,) = [p for p in reopened.payments if p.method == "us_bank_account"]
    assert "bank" in debit.failure_message.lower() and "R10" not in debit.failure_message


async def test_a_webhook_three_times_and_out_of_order_changes_nothing_more(acme, deposit):
    _, intent = await _bank_debit(acme, deposit.id, 100_000)
    now = int(time.time())
    succeeded = signed(intent_event(dict(intent, status="succeeded"), "succeeded", created=now))
    processing = signed(intent_event(intent, "processing", created=now - 30))
    answers = [await acme.webhook(*succeeded) for _ in range(3)]
    assert [a.duplicate for a in answers] == [False, True, True]
    await acme.webhook(*processing)  # the older news arrives last
    invoice = await get(acme, deposit.id)
    assert invoice.status == pb.INVOICE_STATUS_PAID and invoice.paid.amount_minor == 100_000
    assert len(await acme.svc.events(acme.tenant_id, events_pb2.PaymentSucceeded)) == 1
    assert len(await acme.svc.events(acme.tenant_id, events_pb2.InvoicePaid)) == 1


async def test_a_forged_signature_or_a_foreign_account_changes_nothing(acme, deposit):
    _, intent = await _bank_debit(acme, deposit.id, 100_000)
    body = intent_event(dict(intent, status="succeeded"), "succeeded", created=int(time.time()))
    forged = signed(body, secret="whsec_not_ours")
    await acme.svc.fails(
        UNAUTHENTICATED,
        "IngestStripeEvent",
        pb.IngestStripeEventRequest(payload=forged[0], signature=forged[1]),
        __import__("services.chassis.auth", fromlist=["Principal"]).Principal(
            kind="service", subject="gateway"
        ),
    )
    stale = signed(body, at=int(time.time()) - 3600)  # replayed an hour later
    await acme.svc.fails(
        UNAUTHENTICATED,
        "IngestStripeEvent",
        pb.IngestStripeEventRequest(payload=stale[0], signature=stale[1]),
        __import__("services.chassis.auth", fromlist=["Principal"]).Principal(
            kind="service", subject="gateway"
        ),
    )
    foreign = signed(dict(body, account="acct_nobody"))
    await acme.svc.fails(
        NOT_FOUND,
        "IngestStripeEvent",
        pb.IngestStripeEventRequest(payload=foreign[0], signature=foreign[1]),
        __import__("services.chassis.auth", fromlist=["Principal"]).Principal(
            kind="service", subject="gateway"
        ),
    )
    assert (await get(acme, deposit.id)).paid.amount_minor == 0


async def test_a_card_refund_goes_through_stripe_and_reopens_what_it_gives_back(
    acme, deposit, stripe_api
):
    paid = await acme(
        "StartPayment", start(deposit.id, 100_000, await card(stripe_api)), acme.approver
    )
    refund = pb.RefundPaymentRequest(
        request_id=str(uuid.uuid4()),
        payment_id=paid.payment.id,
        amount=gbp(25_000),
        reason="Returned a speaker",
    )
    invoice = (await acme("RefundPayment", refund, acme.finance)).invoice
    assert (invoice.paid.amount_minor, invoice.due.amount_minor) == (75_000, 25_000)
    again = (await acme("RefundPayment", refund, acme.finance)).invoice  # a retry
    assert again.paid.amount_minor == 75_000
    rows = await acme.svc.sql(acme.tenant_id, "SELECT stripe_refund_id FROM refund")
    assert len(rows) == 1 and rows[0][0].startswith("re_")
    await acme.fails(DENIED, "RefundPayment", refund, acme.staff("project_manager"))
