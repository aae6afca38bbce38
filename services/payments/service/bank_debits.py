"""Pay now by bank debit: the details the client typed checked against what
the integrator offers, then the PaymentMethod made on their Stripe account;
and an ACH debit's wait for micro-deposit verification, recorded and told.
Everything else (the amount, the intent, its states) is pay now's own."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import stripe
from portal.payments.v1 import events_pb2

from services.chassis.db import UnitOfWork
from services.chassis.errors import InvalidTransition
from services.chassis.money import money
from services.payments import domain_bank_debits
from services.payments.domain_bank_debits import BankDebit
from services.payments.models import Invoice, Payment, PaymentSettings
from services.payments.service.common import tenant_today
from services.payments.service.standing import standing_now
from services.payments.stripe_gateway import IntentInfo, StripeGateway


def check_debit(fields: dict[str, Any], invoice: Invoice, settings: PaymentSettings) -> BankDebit:
    return domain_bank_debits.check_bank_debit(
        str(fields.get("method", "")),
        currency=invoice.currency,
        ach_enabled=settings.ach_debit_enabled,
        bacs_enabled=settings.bacs_debit_enabled,
        account_holder_name=str(fields.get("account_holder_name", "")),
        email=str(fields.get("email", "")),
        routing_number=str(fields.get("routing_number", "")),
        sort_code=str(fields.get("sort_code", "")),
        account_number=str(fields.get("account_number", "")),
        mandate_accepted=bool(fields.get("mandate_accepted")),
        ip_address=str(fields.get("ip_address", "")),
        user_agent=str(fields.get("user_agent", "")),
    )


async def make_debit_method(stripe_api: StripeGateway, account: str, debit: BankDebit) -> str:
    """The PaymentMethod's id; Stripe refusing the details is the client's to fix."""
    try:
        return await stripe_api.bank_debit_method(account=account, debit=debit)
    except stripe.InvalidRequestError as exc:
        raise InvalidTransition(
            "the bank could not set up this debit: check the details, or pay by card "
            f"({exc.user_message or 'refused'})",
            field="bank_debit",
        ) from None


async def awaiting_verification(
    uow: UnitOfWork,
    payment: Payment,
    invoice: Invoice,
    intent: IntentInfo,
    settings: PaymentSettings,
    now: datetime,
) -> None:
    """An ACH debit on an account typed by hand: Stripe sends micro-deposits
    and nothing is debited until the client verifies them on Stripe's page.
    Kept on the payment (the pages link to it) and told to the client through
    the outbox (notifications emails "verify your bank account")."""
    step = intent.verification
    if step is not None:
        payment.verification_url = step.url
        payment.microdeposit_type = step.microdeposit_type
        payment.microdeposits_arrive_on = (
            tenant_today(settings, datetime.fromtimestamp(step.arrival_at, UTC))
            if step.arrival_at
            else None
        )
    arrive = payment.microdeposits_arrive_on
    uow.publish(
        events_pb2.PaymentVerificationRequired(
            payment_id=str(payment.id),
            invoice_id=str(invoice.id),
            project_id=str(invoice.project_id),
            customer_id=str(invoice.customer_id),
            amount=money(payment.applied_minor, payment.currency),
            method=payment.method,
            account_last4=payment.card_last4,
            verification_url=payment.verification_url,
            arrive_on=arrive.isoformat() if arrive else "",
            microdeposit_type=payment.microdeposit_type,
            standing=await standing_now(uow, invoice),
        ),
        aggregate_type="payment",
        aggregate_id=str(payment.id),
        occurred_at=now,
    )
