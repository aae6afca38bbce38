"""The client gives up an ACH debit still waiting for micro-deposit
verification, to pay another way: its PaymentIntent is canceled at Stripe
(nothing was debited) and the held amount is payable again. Under the
invoice's row lock, like paying, so a cancel and a webhook land one at a time."""

from __future__ import annotations

import stripe
from sqlalchemy import select

from services.chassis.access import require_open_portal
from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.errors import InvalidTransition, NotFound
from services.chassis.validation import parse_uuid
from services.payments import domain_bank_debits
from services.payments.domain_payments import Method, PaymentStatus
from services.payments.models import Payment
from services.payments.service.common import (
    InvoiceView,
    Sessions,
    invoice_view,
    load_invoice,
    load_settings,
    now_utc,
    tenant_today,
)
from services.payments.service.pay_now import apply_intent
from services.payments.stripe_gateway import StripeGateway


async def cancel_payment(
    *,
    sessions: Sessions,
    stripe_api: StripeGateway,
    principal: Principal,
    invoice_id: str,
    payment_id: str,
) -> InvoiceView:
    tenant_id = principal.require_approver("cancel a payment")
    pid = parse_uuid(payment_id, field="payment_id")
    async with UnitOfWork(sessions, tenant_id) as uow:
        await require_open_portal(uow, principal, write=True)
        invoice = await load_invoice(uow, principal, invoice_id, lock=True)
        payment = await uow.session.scalar(
            select(Payment).where(Payment.id == pid, Payment.invoice_id == invoice.id)
        )
        if payment is None:
            raise NotFound("this payment isn't available", field="payment_id")
        domain_bank_debits.plan_cancel(PaymentStatus(payment.status), method=Method(payment.method))
        settings = await load_settings(uow)
        account, intent_id = settings.stripe_account_id, payment.stripe_payment_intent_id
        try:
            intent = await stripe_api.cancel_intent(account=account, intent_id=intent_id)
        except stripe.InvalidRequestError:
            # Stripe moved on first (verified, or canceled): land what it holds now.
            intent = await stripe_api.retrieve_intent(account=account, intent_id=intent_id)
        await apply_intent(uow, payment, invoice, intent, settings, at=now_utc())
        if payment.status != PaymentStatus.CANCELED:
            await uow.commit()  # what Stripe said instead is kept
            raise InvalidTransition(
                "this debit was verified and is on its way; it can no longer be cancelled",
                field="payment",
            )
        view = await invoice_view(
            uow, invoice, settings=settings, today=tenant_today(settings, now_utc())
        )
        await uow.commit()
    return view
