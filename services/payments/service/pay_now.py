"""Pay now: the client pays all or part of an invoice through Stripe, on the
integrator's own account. One PaymentIntent per attempt: the attempt id (the
pay form's one-time id) makes a double click, a retry or a second tab one
payment, here (unique per invoice) and at Stripe (the idempotency key).

The invoice row is locked from the amount check to the insert, so two
attempts with different ids cannot both take the same balance. Only
`succeeded` puts money on the invoice (apply_intent, shared with webhooks).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import stripe
from portal.payments.v1 import events_pb2
from sqlalchemy import select

from services.chassis.access import require_open_portal
from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.errors import InvalidArgument, InvalidTransition
from services.chassis.money import money
from services.payments import domain_fees, domain_payments
from services.payments.domain_bank_debits import BankDebit
from services.payments.domain_payments import Method, PaymentStatus, PayPolicy
from services.payments.models import Invoice, Payment, PaymentSettings
from services.payments.service.bank_debits import (
    awaiting_verification,
    check_debit,
    make_debit_method,
)
from services.payments.service.common import (
    Sessions,
    invoice_state,
    ledgers,
    load_invoice,
    load_settings,
    now_utc,
    tenant_today,
)
from services.payments.service.ledger import money_moved
from services.payments.service.standing import standing_now
from services.payments.stripe_gateway import IntentInfo, MethodInfo, StripeGateway, intent_info


@dataclass(frozen=True)
class Started:
    payment: Payment
    client_secret: str
    next_action: str


def fee_policy(settings: PaymentSettings) -> domain_fees.FeePolicy:
    return domain_fees.FeePolicy(settings.card_surcharge_bps, settings.bank_discount_bps)


async def quote_payment(
    *,
    sessions: Sessions,
    principal: Principal,
    invoice_id: str,
    amount_minor: int,
    currency: str,
    method: str,
    card_funding: str,
) -> domain_fees.Charge:
    """What paying `amount` by `method` would cost, shown before paying."""
    tenant_id = principal.require_reader()
    async with UnitOfWork(sessions, tenant_id) as uow:
        invoice = await load_invoice(uow, principal, invoice_id)
        settings = await load_settings(uow)
        how = _stripe_method(method)
        await _checked_amount(uow, principal, invoice, settings, amount_minor, currency)
        return domain_fees.charge_for(
            amount_minor,
            how,
            card_funding=card_funding,
            policy=fee_policy(settings),
            region=settings.region,
        )


def _stripe_method(method: str) -> Method:
    names = {m.value: m for m in domain_payments.STRIPE_METHODS}
    if method not in names:
        raise InvalidArgument(f"pay by one of: {', '.join(sorted(names))}", field="method")
    return names[method]


async def _checked_amount(
    uow: UnitOfWork,
    principal: Principal,
    invoice: Invoice,
    settings: PaymentSettings,
    amount_minor: int,
    currency: str,
) -> int:
    ledger = (await ledgers(uow, [invoice]))[invoice.id]
    return domain_payments.check_payment_amount(
        amount_minor,
        currency,
        invoice_currency=invoice.currency,
        state=invoice_state(invoice),
        ledger=ledger,
        policy=PayPolicy(
            minimum_minor=settings.minimum_payment_minor,
            payments_open=principal.is_client and not principal.read_only,
        ),
    )


async def start_payment(
    *,
    sessions: Sessions,
    stripe_api: StripeGateway,
    principal: Principal,
    invoice_id: str,
    attempt_id: str,
    amount_minor: int,
    currency: str,
    payment_method_id: str,
    bank_debit: dict[str, Any] | None = None,
) -> Started:
    """`bank_debit`: the BankDebit message's fields instead of a Stripe.js
    method; payments makes the PaymentMethod (service/bank_debits.py)."""
    tenant_id = principal.require_approver("pay an invoice")
    attempt = _attempt_id(attempt_id)
    async with UnitOfWork(sessions, tenant_id) as uow:
        await require_open_portal(uow, principal, write=True)
        invoice = await load_invoice(uow, principal, invoice_id, lock=True)
        earlier = await uow.session.scalar(
            select(Payment).where(Payment.invoice_id == invoice.id, Payment.attempt_id == attempt)
        )
        if earlier is not None:  # the same click again: the same payment
            return Started(earlier, earlier.client_secret, _next_action(earlier))
        settings = await load_settings(uow)
        await _checked_amount(uow, principal, invoice, settings, amount_minor, currency)
        account = settings.stripe_account_id
        debit = None
        if bank_debit is not None:
            debit = check_debit(bank_debit, invoice, settings)
            payment_method_id = await make_debit_method(stripe_api, account, debit)
        method_info = await stripe_api.payment_method(
            account=account, payment_method_id=payment_method_id
        )
        payment, charge = _new_payment(
            invoice, attempt, amount_minor, method_info, settings, created_by=principal.subject
        )
        intent = await _create_intent(
            stripe_api, account, invoice, payment, charge, payment_method_id, debit
        )
        payment.stripe_payment_intent_id = intent.id
        payment.client_secret = intent.client_secret
        uow.session.add(payment)
        await uow.flush()
        await apply_intent(uow, payment, invoice, intent, settings)
        await uow.commit()
    return Started(payment, payment.client_secret, _next_action(payment, intent.status))


def _new_payment(
    invoice: Invoice,
    attempt: str,
    amount_minor: int,
    method_info: MethodInfo,
    settings: PaymentSettings,
    *,
    created_by: str,
) -> tuple[Payment, domain_fees.Charge]:
    """The pending attempt, charged as the tenant's fee policy says for the
    method the client chose (its surcharge or discount kept beside it)."""
    how = _stripe_method(method_info.type)
    charge = domain_fees.charge_for(
        amount_minor,
        how,
        card_funding=method_info.funding,
        policy=fee_policy(settings),
        region=settings.region,
    )
    payment = Payment(
        id=uuid.uuid4(),
        tenant_id=invoice.tenant_id,
        invoice_id=invoice.id,
        attempt_id=attempt,
        status=PaymentStatus.PENDING,
        method=how.value,
        currency=invoice.currency,
        applied_minor=charge.applied_minor,
        surcharge_minor=charge.surcharge_minor,
        discount_minor=charge.discount_minor,
        card_brand=method_info.brand[:20],
        card_last4=method_info.last4[:4],
        created_by=created_by,
    )
    return payment, charge


def _attempt_id(value: str) -> str:
    value = value.strip()
    if not 8 <= len(value) <= 100 or not value.replace("-", "").isalnum():
        raise InvalidArgument("attempt_id must be the pay form's one-time id", field="attempt_id")
    return value


def _next_action(payment: Payment, stripe_status: str = "") -> str:
    """What the page does next: Stripe.js's 3-D Secure step, or nothing in the
    page (a debit awaiting micro-deposits is verified on Stripe's own page)."""
    if payment.status == PaymentStatus.AWAITING_VERIFICATION:
        return "verify_with_microdeposits"
    return "requires_action" if stripe_status == "requires_action" else ""


async def _create_intent(
    stripe_api: StripeGateway,
    account: str,
    invoice: Invoice,
    payment: Payment,
    charge: domain_fees.Charge,
    payment_method_id: str,
    debit: BankDebit | None = None,
) -> IntentInfo:
    key = domain_payments.intent_idempotency_key(
        str(invoice.tenant_id), str(invoice.id), str(payment.attempt_id)
    )
    metadata = {
        "tenant_id": str(invoice.tenant_id),
        "invoice_id": str(invoice.id),
        "payment_id": str(payment.id),
        "invoice_number": invoice.number or "",
    }
    try:
        return await stripe_api.create_intent(
            account=account,
            amount_minor=charge.charged_minor,
            currency=invoice.currency,
            payment_method_id=payment_method_id,
            method_type=payment.method,
            metadata=metadata,
            idempotency_key=key,
            mandate=debit,
        )
    except stripe.CardError as declined:
        # Declined at confirmation: Stripe's error carries the intent, now failed.
        body = declined.json_body or {}
        error = body.get("error") or {}
        intent = error.get("payment_intent")
        if not intent:
            raise InvalidTransition(
                domain_payments.failure_words(
                    str(error.get("decline_code") or error.get("code") or "")
                ),
                field="payment_method_id",
            ) from None
        return intent_info(intent)


async def apply_intent(
    uow: UnitOfWork,
    payment: Payment,
    invoice: Invoice,
    intent: IntentInfo,
    settings: PaymentSettings,
    *,
    at: datetime | None = None,
) -> bool:
    """Land a PaymentIntent's state on our record, if it is news (webhooks
    repeat and arrive out of order). Publishes what changed."""
    now = now_utc()
    landing = domain_payments.land_intent(
        current=PaymentStatus(payment.status),
        current_at=payment.status_at,
        stripe_status=intent.status,
        failure_code=intent.failure_code,
        failure_message=intent.failure_message,
        when=at or intent.created,
        method=Method(payment.method),
        today=tenant_today(settings, now),
        next_action=intent.next_action,
    )
    if landing is None:
        return False
    held = payment.status == PaymentStatus.AWAITING_VERIFICATION
    payment.status, payment.status_at = landing.status.value, landing.at
    if landing.failure_message is not None:
        payment.failure_message = landing.failure_message
    if landing.status is PaymentStatus.AWAITING_VERIFICATION:
        await awaiting_verification(uow, payment, invoice, intent, settings, now)
    elif landing.status is PaymentStatus.PROCESSING:
        payment.expected_by = landing.expected_by
        expected = payment.expected_by.isoformat() if payment.expected_by else ""
        await _publish(
            uow, payment, invoice, now, events_pb2.PaymentProcessing, expected_by=expected
        )
    elif landing.status is PaymentStatus.SUCCEEDED:
        payment.succeeded_at = now
        await uow.flush()
        await money_moved(uow, invoice, payment, now)
    elif landing.status is PaymentStatus.CANCELED and held:
        # The held amount is payable again: the board stops asking to verify.
        await _publish(uow, payment, invoice, now, events_pb2.PaymentCanceled)
    elif landing.status is PaymentStatus.FAILED:
        await _publish(
            uow,
            payment,
            invoice,
            now,
            events_pb2.PaymentFailed,
            failure_message=payment.failure_message,
        )
    await uow.flush()
    return True


async def _publish(
    uow: UnitOfWork,
    payment: Payment,
    invoice: Invoice,
    now: datetime,
    event: (
        type[events_pb2.PaymentProcessing]
        | type[events_pb2.PaymentFailed]
        | type[events_pb2.PaymentCanceled]
    ),
    **own: str,
) -> None:
    """A payment's processing, failure or cancel, with the invoice's standing after it."""
    uow.publish(
        event(
            payment_id=str(payment.id),
            invoice_id=str(invoice.id),
            project_id=str(invoice.project_id),
            customer_id=str(invoice.customer_id),
            amount=money(payment.applied_minor, payment.currency),
            method=payment.method,
            standing=await standing_now(uow, invoice),
            **own,
        ),
        aggregate_type="payment",
        aggregate_id=str(payment.id),
        occurred_at=now,
    )
