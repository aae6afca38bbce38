"""ACH on an account typed by hand (no Financial Connections): Stripe answers
the confirmed intent `requires_action` with `verify_with_microdeposits`. The
real Stripe SDK talks to the local Stripe-call server (stripe_calls.py); the
webhooks after it are signed exactly as Stripe signs them."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from portal.common.v1 import common_pb2
from portal.payments.v1 import events_pb2
from portal.payments.v1 import payments_pb2 as pb
from portal.projects.v1 import events_pb2 as projects_events

from services.chassis.errors import InvalidTransition
from services.payments import domain_bank_debits, domain_payments, service
from services.payments.domain_invoices import InvoiceState, Ledger, plan_void
from services.payments.domain_payments import Method, PaymentStatus
from services.payments.stripe_gateway import StripeGateway
from tests.payments.conftest import Integrator, intent_event, signed
from tests.payments.stripe_calls import FakeDebits, serve_debits

ACH = {
    "method": "us_bank_account",
    "account_holder_name": "Sam Lee",
    "email": "sam@example.com",
    "routing_number": "110000000",
    "account_number": "000123456789",
    "mandate_accepted": True,
    "ip_address": "203.0.113.9",
    "user_agent": "Mozilla/5.0 (iPhone)",
}


@pytest.fixture
async def debits() -> AsyncIterator[FakeDebits]:
    async for fake in serve_debits():
        fake.microdeposits = "descriptor_code"
        yield fake


@pytest.fixture
async def us(payments) -> Integrator:
    """A US integrator with ACH on, and the $2,500 deposit (half of $5,000) invoice open."""
    us = Integrator(payments)
    await us.deliver(
        projects_events.ProposalAccepted(
            proposal_id=str(uuid.uuid4()),
            project_id=us.project_id,
            project_name="Media room",
            reference="PRJ-0002",
            customer_id=us.customer_id,
            version=1,
            total=common_pb2.Money(currency="USD", amount_minor=500_000),
            tax=common_pb2.Money(currency="USD", amount_minor=0),
            client_name="The Lees",
            letterhead=common_pb2.Letterhead(time_zone="America/New_York"),
        )
    )
    us.account = f"acct_{uuid.uuid4().hex[:16]}"  # type: ignore[attr-defined]
    await us(
        "UpdatePaymentSettings",
        pb.UpdatePaymentSettingsRequest(
            settings=pb.PaymentSettings(stripe_account_id=us.account, ach_debit_enabled=True),
            update_mask=FieldMask(paths=["stripe_account_id", "ach_debit_enabled"]),
        ),
        us.finance,
    )
    return us


def api(fake: FakeDebits) -> StripeGateway:
    return StripeGateway(api_key="sk_test_x", webhook_secret="whsec_x", api_base=fake.url)


async def invoice_of(us: Integrator, who=None) -> pb.Invoice:
    (listed,) = await us.invoices(us.finance)
    request = pb.GetInvoiceRequest(invoice_id=listed.id)
    return (await us("GetInvoice", request, who or us.approver)).invoice


def hook(us: Integrator, intent: dict, kind: str, created: int) -> tuple[bytes, str]:
    """Stripe's webhook from the integrator's connected account, signed."""
    return signed(intent_event(intent, kind, created=created, account=us.account))


async def pay_ach(us: Integrator, fake: FakeDebits, amount: int, attempt: str | None = None):
    invoice = await invoice_of(us)
    return await service.start_payment(
        sessions=us.svc.sessions,
        stripe_api=api(fake),
        principal=us.approver,
        invoice_id=invoice.id,
        attempt_id=attempt or str(uuid.uuid4()),
        amount_minor=amount,
        currency="USD",
        payment_method_id="",
        bank_debit=ACH,
    )


async def cancel(us: Integrator, fake: FakeDebits, payment_id: str):
    invoice = await invoice_of(us)
    return await service.cancel_payment(
        sessions=us.svc.sessions,
        stripe_api=api(fake),
        principal=us.approver,
        invoice_id=invoice.id,
        payment_id=payment_id,
    )


def stripe_intent(fake: FakeDebits) -> dict:
    (intent,) = fake.intents.values()
    return intent


async def test_a_hand_typed_account_awaits_verification_and_holds_the_amount(us, debits):
    attempt = str(uuid.uuid4())
    started = await pay_ach(us, debits, 250_000, attempt)
    again = await pay_ach(us, debits, 250_000, attempt)  # a double click: the same payment
    assert again.payment.id == started.payment.id and len(debits.intents) == 1
    assert started.next_action == "verify_with_microdeposits"

    invoice = await invoice_of(us)
    (debit,) = invoice.payments
    assert debit.status == pb.PAYMENT_STATUS_AWAITING_VERIFICATION
    assert debit.verification_url.startswith("https://payments.stripe.com/microdeposit/")
    assert debit.microdeposit_type == "descriptor_code" and debit.card_last4 == "6789"
    arrives = date.fromisoformat(debit.microdeposits_arrive_on)
    assert date.today() <= arrives <= date.today() + timedelta(days=3)
    # Not paid, not processing, and not offered again: no double debit.
    assert invoice.status == pb.INVOICE_STATUS_OPEN
    assert invoice.paid.amount_minor == 0 and invoice.processing.amount_minor == 0
    assert invoice.payable.amount_minor == 0
    # Payments says what the client's step is; no page works it out from the sums.
    assert invoice.awaiting_verification and invoice.verifying.amount_minor == 250_000
    (listed,) = await us.invoices(us.approver)
    assert listed.awaiting_verification
    with pytest.raises(InvalidTransition, match="awaiting your verification"):
        await pay_ach(us, debits, 100_000)
    assert len(debits.intents) == 1  # Stripe was not asked again

    # Staff see the state and the date, not the client's verification link.
    (staff_view,) = (await invoice_of(us, us.finance)).payments
    assert staff_view.status == pb.PAYMENT_STATUS_AWAITING_VERIFICATION
    assert staff_view.verification_url == "" and staff_view.microdeposits_arrive_on

    (told,) = await us.svc.events(us.tenant_id, events_pb2.PaymentVerificationRequired)
    assert told.verification_url == debit.verification_url and told.account_last4 == "6789"
    assert told.arrive_on == debit.microdeposits_arrive_on
    assert told.amount.amount_minor == 250_000 and told.customer_id == us.customer_id
    # The board's copy: the invoice awaits the client's verification, all of it held.
    assert told.standing.awaiting_verification and told.standing.status == "open"
    assert told.standing.verifying.amount_minor == 250_000
    assert await us.svc.events(us.tenant_id, events_pb2.PaymentProcessing) == []


async def test_verified_then_processing_then_succeeded_in_any_order_and_replayed(us, debits):
    await pay_ach(us, debits, 250_000)
    intent = stripe_intent(debits)
    now = int(time.time())  # the client verifies a day or two later: later events
    # Stripe's own requires_action webhook arrives after our answer: no news.
    asked = hook(us, intent, "requires_action", now)
    processing = dict(intent, status="processing", next_action=None)
    verified = hook(us, processing, "processing", now + 60)
    done = hook(us, dict(processing, status="succeeded"), "succeeded", now + 120)
    await us.webhook(*asked)
    await us.webhook(*verified)
    held = await invoice_of(us)
    assert held.status == pb.INVOICE_STATUS_PROCESSING and held.paid.amount_minor == 0
    assert not held.awaiting_verification and held.verifying.amount_minor == 0
    (moving,) = await us.svc.events(us.tenant_id, events_pb2.PaymentProcessing)
    assert not moving.standing.awaiting_verification
    assert held.payments[0].status == pb.PAYMENT_STATUS_PROCESSING
    await us.webhook(*done)
    for late in (verified, asked, done):  # replayed, and older news after newer
        await us.webhook(*late)
    await us.webhook(*hook(us, intent, "requires_action", now + 90))
    paid = await invoice_of(us)
    assert paid.status == pb.INVOICE_STATUS_PAID and paid.paid.amount_minor == 250_000
    assert paid.payments[0].status == pb.PAYMENT_STATUS_SUCCEEDED
    assert len(await us.svc.events(us.tenant_id, events_pb2.PaymentVerificationRequired)) == 1
    assert len(await us.svc.events(us.tenant_id, events_pb2.PaymentSucceeded)) == 1


async def test_verification_expiring_fails_in_plain_words_and_reopens_the_amount(us, debits):
    await pay_ach(us, debits, 250_000)
    intent = stripe_intent(debits)
    expired = dict(
        intent,
        status="requires_payment_method",
        next_action=None,
        last_payment_error={
            "code": "payment_method_microdeposit_verification_timeout",
            "message": "Microdeposit verification timed out.",
        },
    )
    await us.webhook(*hook(us, expired, "payment_failed", int(time.time())))
    reopened = await invoice_of(us)
    assert reopened.payable.amount_minor == 250_000
    (debit,) = reopened.payments
    assert debit.status == pb.PAYMENT_STATUS_FAILED
    assert "wasn't verified in time" in debit.failure_message
    (failed,) = await us.svc.events(us.tenant_id, events_pb2.PaymentFailed)
    assert failed.failure_message == debit.failure_message  # the email's words too
    assert not failed.standing.awaiting_verification and not reopened.awaiting_verification


async def test_the_client_cancels_a_debit_awaiting_verification_to_pay_by_card(us, debits):
    started = await pay_ach(us, debits, 250_000)
    view = await cancel(us, debits, str(started.payment.id))
    assert view.ledger.payable_minor == 250_000  # payable again, by card
    assert stripe_intent(debits)["status"] == "canceled"
    (asked,) = [f for p, f, _ in debits.forms if p.endswith("/cancel")]
    assert asked["cancellation_reason"] == "abandoned"
    shown = await invoice_of(us, us.finance)
    assert shown.payments[0].status == pb.PAYMENT_STATUS_CANCELED
    assert not shown.awaiting_verification
    # The board hears it: the held amount is to pay again, nothing to verify.
    (gave_up,) = await us.svc.events(us.tenant_id, events_pb2.PaymentCanceled)
    assert gave_up.payment_id == str(started.payment.id)
    assert not gave_up.standing.awaiting_verification
    assert gave_up.standing.verifying.amount_minor == 0
    # Stripe's canceled webhook afterwards, and a stale requires_action: no change.
    intent = stripe_intent(debits)
    now = int(time.time())
    await us.webhook(*hook(us, intent, "canceled", now))
    await us.webhook(*hook(us, dict(intent, status="processing"), "processing", now - 5))
    assert (await invoice_of(us, us.finance)).payments[0].status == pb.PAYMENT_STATUS_CANCELED
    assert len(await us.svc.events(us.tenant_id, events_pb2.PaymentCanceled)) == 1
    with pytest.raises(InvalidTransition, match="already cancelled"):
        await cancel(us, debits, str(started.payment.id))


async def test_a_debit_verified_first_cannot_be_cancelled(us, debits):
    started = await pay_ach(us, debits, 250_000)
    stripe_intent(debits).update(status="processing", next_action=None)  # verified at Stripe
    with pytest.raises(InvalidTransition, match="verified and is on its way"):
        await cancel(us, debits, str(started.payment.id))
    shown = await invoice_of(us, us.finance)
    assert shown.payments[0].status == pb.PAYMENT_STATUS_PROCESSING  # what Stripe said is kept


def test_the_microdeposit_step_is_read_from_next_action_only():
    step = domain_bank_debits.verification_of(
        {
            "type": "verify_with_microdeposits",
            "verify_with_microdeposits": {
                "arrival_date": 1_800_000_000,
                "hosted_verification_url": "https://payments.stripe.com/microdeposit/x",
                "microdeposit_type": "amounts",
            },
        }
    )
    assert step == domain_bank_debits.Verification(
        "https://payments.stripe.com/microdeposit/x", 1_800_000_000, "amounts"
    )
    assert domain_bank_debits.verification_of({"type": "use_stripe_sdk"}) is None
    odd = domain_bank_debits.verification_of(
        {
            "type": "verify_with_microdeposits",
            "verify_with_microdeposits": {"hosted_verification_url": "javascript:alert(1)"},
        }
    )
    assert odd is not None and odd.url == "" and odd.arrival_at == 0


def test_awaiting_verification_sits_between_pending_and_processing():
    status = domain_payments.status_from_stripe
    assert status("requires_action", attempted=False, next_action="verify_with_microdeposits") is (
        PaymentStatus.AWAITING_VERIFICATION
    )
    assert status("requires_action", attempted=False, next_action="use_stripe_sdk") is (
        PaymentStatus.PENDING
    )
    t = datetime(2026, 12, 1, tzinfo=UTC)
    apply = domain_payments.should_apply
    assert apply(PaymentStatus.AWAITING_VERIFICATION, t, PaymentStatus.PROCESSING, t)
    assert not apply(PaymentStatus.PROCESSING, t, PaymentStatus.AWAITING_VERIFICATION, t)
    assert not apply(PaymentStatus.CANCELED, t, PaymentStatus.AWAITING_VERIFICATION, t)


def test_only_a_debit_awaiting_verification_may_be_cancelled_by_the_client():
    domain_bank_debits.plan_cancel(
        PaymentStatus.AWAITING_VERIFICATION, method=Method.US_BANK_ACCOUNT
    )
    with pytest.raises(InvalidTransition, match="on its way") as refused:
        domain_bank_debits.plan_cancel(PaymentStatus.PROCESSING, method=Method.US_BANK_ACCOUNT)
    assert refused.value.field == "payment"
    with pytest.raises(InvalidTransition):
        domain_bank_debits.plan_cancel(PaymentStatus.PENDING, method=Method.CARD)


def test_a_held_verification_blocks_voiding_and_paying_it_again():
    ledger = Ledger(total_minor=250_000, verifying_minor=250_000)
    assert ledger.payable_minor == 0 and ledger.due_minor == 250_000
    with pytest.raises(InvalidTransition, match="cancelled first"):
        plan_void(InvoiceState(issued=True), ledger)
