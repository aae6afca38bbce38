"""Money landing on an invoice outside Stripe's flow: offline payments and
refunds recorded by staff; and what every change of the ledger implies (the
invoice paid, its events)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from portal.payments.v1 import events_pb2
from sqlalchemy import func, select

from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.errors import InvalidArgument, InvalidTransition, NotFound
from services.chassis.money import money, round_half_up
from services.chassis.validation import parse_uuid
from services.payments import domain_payments
from services.payments.domain_payments import PaymentStatus
from services.payments.models import Invoice, Payment, Refund
from services.payments.service.common import (
    BILLING_ROLES,
    InvoiceView,
    Sessions,
    invoice_state,
    invoice_view,
    ledgers,
    load_invoice,
    load_settings,
    now_utc,
    tenant_today,
)
from services.payments.service.standing import publish_plan_changed, standing_now
from services.payments.stripe_gateway import StripeGateway

FINANCE_ROLES = ("finance",)


async def record_offline_payment(
    *,
    sessions: Sessions,
    principal: Principal,
    request_id: str,
    invoice_id: str,
    method: str,
    amount_minor: int,
    currency: str,
    reference: str,
    received_on: date | None,
) -> InvoiceView:
    tenant_id = principal.require_editor(*BILLING_ROLES)
    request_id = request_id or str(uuid.uuid4())
    async with UnitOfWork(sessions, tenant_id) as uow:
        invoice = await load_invoice(uow, principal, invoice_id, lock=True)
        settings = await load_settings(uow)
        now = now_utc()
        today = tenant_today(settings, now)
        if await uow.session.scalar(select(Payment.id).where(Payment.request_id == request_id)):
            return await invoice_view(uow, invoice, settings=settings, today=today)  # a retry
        _same_currency(invoice, currency)
        ledger = (await ledgers(uow, [invoice]))[invoice.id]
        offline = domain_payments.check_offline_payment(
            method,
            amount_minor,
            reference,
            received_on or today,
            state=invoice_state(invoice),
            ledger=ledger,
            issued_on=invoice.issued_on,
            today=today,
        )
        payment = Payment(
            tenant_id=invoice.tenant_id,
            invoice_id=invoice.id,
            request_id=request_id,
            status=PaymentStatus.SUCCEEDED,
            status_at=now,
            method=offline.method.value,
            currency=invoice.currency,
            applied_minor=offline.amount_minor,
            reference=offline.reference,
            received_on=offline.received_on,
            created_by=principal.subject,
            succeeded_at=now,
        )
        uow.session.add(payment)
        await uow.flush()
        await money_moved(uow, invoice, payment, now)
        view = await invoice_view(uow, invoice, settings=settings, today=today)
        await uow.commit()
    return view


def _same_currency(invoice: Invoice, currency: str) -> None:
    if currency and currency.upper() != invoice.currency:
        raise InvalidArgument(
            f"this invoice is in {invoice.currency}; enter the amount in {invoice.currency}",
            field="amount.currency",
        )


async def refund_payment(
    *,
    sessions: Sessions,
    stripe_api: StripeGateway | None,
    principal: Principal,
    request_id: str,
    payment_id: str,
    amount_minor: int,
    reason: str,
) -> InvoiceView:
    """Staff give money back: through Stripe for card and bank-debit payments
    (the request id is the idempotency key), as a record for offline ones."""
    tenant_id = principal.require_editor(*FINANCE_ROLES)
    request_id = request_id or str(uuid.uuid4())
    async with UnitOfWork(sessions, tenant_id) as uow:
        payment = await load_payment(uow, payment_id, lock=True)
        invoice = await load_invoice(uow, principal, str(payment.invoice_id), lock=True)
        settings = await load_settings(uow)
        now = now_utc()
        if not await uow.session.scalar(select(Refund.id).where(Refund.request_id == request_id)):
            stripe_refund = ""
            if payment.stripe_payment_intent_id:
                if stripe_api is None:
                    raise InvalidTransition("Stripe is not configured", field="payment_id")
                stripe_refund = await stripe_api.refund(
                    account=settings.stripe_account_id,
                    intent_id=payment.stripe_payment_intent_id,
                    amount_minor=_refundable(payment, amount_minor),
                    idempotency_key=f"portal-refund-{tenant_id}-{request_id}",
                )
            await add_refund(
                uow,
                payment,
                invoice,
                amount_minor,
                reason,
                request_id,
                principal,
                now,
                stripe_refund,
            )
        view = await invoice_view(
            uow, invoice, settings=settings, today=tenant_today(settings, now)
        )
        await uow.commit()
    return view


def _refundable(payment: Payment, amount_minor: int) -> int:
    """Stripe refunds what the client was charged: a surcharge goes back in
    proportion, a discount was never taken."""
    if amount_minor <= 0 or amount_minor > payment.applied_minor:
        domain_payments.check_refund(
            amount_minor, paid_minor=payment.applied_minor, refunded_minor=0
        )
    charged = payment.applied_minor + payment.surcharge_minor - payment.discount_minor
    return min(charged, round_half_up(amount_minor * charged, payment.applied_minor))


async def load_payment(uow: UnitOfWork, payment_id: str, *, lock: bool = False) -> Payment:
    pid = parse_uuid(payment_id, field="payment_id")
    query = select(Payment).where(Payment.id == pid)
    payment = await uow.session.scalar(query.with_for_update() if lock else query)
    if payment is None:
        raise NotFound("this payment isn't available", field="payment_id")
    return payment


async def add_refund(
    uow: UnitOfWork,
    payment: Payment,
    invoice: Invoice,
    amount_minor: int,
    reason: str,
    request_id: str,
    principal: Principal,
    now: datetime,
    stripe_refund_id: str = "",
) -> Refund:
    if payment.status != PaymentStatus.SUCCEEDED:
        raise InvalidTransition(
            "only a payment that went through can be refunded", field="payment_id"
        )
    refunded = await uow.session.scalar(
        select(func.coalesce(func.sum(Refund.amount_minor), 0)).where(
            Refund.payment_id == payment.id
        )
    )
    domain_payments.check_refund(
        amount_minor, paid_minor=payment.applied_minor, refunded_minor=int(refunded or 0)
    )
    refund = Refund(
        tenant_id=payment.tenant_id,
        payment_id=payment.id,
        request_id=request_id,
        amount_minor=amount_minor,
        reason=reason.strip()[:500],
        stripe_refund_id=stripe_refund_id,
        created_by=principal.subject,
    )
    uow.session.add(refund)
    if invoice.paid_at is not None:
        invoice.paid_at = None  # money went back: it is owed again until voided or repaid
    uow.publish(
        events_pb2.PaymentRefunded(
            payment_id=str(payment.id),
            invoice_id=str(invoice.id),
            project_id=str(invoice.project_id),
            customer_id=str(invoice.customer_id),
            amount=money(amount_minor, payment.currency),
            reason=refund.reason,
            standing=await standing_now(uow, invoice),
        ),
        aggregate_type="payment",
        aggregate_id=str(payment.id),
        occurred_at=now,
    )
    if invoice.milestone:
        await publish_plan_changed(uow, invoice.project_id)
    await uow.flush()
    return refund


async def money_moved(uow: UnitOfWork, invoice: Invoice, payment: Payment, now: datetime) -> None:
    """A payment succeeded: say so, and say the invoice is paid when it is;
    a milestone's payment moves the plan's next payment on."""
    ledger = (await ledgers(uow, [invoice]))[invoice.id]
    paid = ledger.due_minor <= 0 and invoice.paid_at is None
    if paid:
        invoice.paid_at = now
    after = await standing_now(uow, invoice)
    uow.publish(
        events_pb2.PaymentSucceeded(
            payment_id=str(payment.id),
            invoice_id=str(invoice.id),
            project_id=str(invoice.project_id),
            customer_id=str(invoice.customer_id),
            amount=money(payment.applied_minor, payment.currency),
            charged=money(
                payment.applied_minor + payment.surcharge_minor - payment.discount_minor,
                payment.currency,
            ),
            method=payment.method,
            invoice_number=invoice.number or "",
            invoice_due=money(ledger.due_minor, invoice.currency),
            standing=after,
        ),
        aggregate_type="payment",
        aggregate_id=str(payment.id),
        occurred_at=now,
    )
    if paid:
        uow.publish(
            events_pb2.InvoicePaid(
                invoice_id=str(invoice.id),
                number=invoice.number or "",
                project_id=str(invoice.project_id),
                customer_id=str(invoice.customer_id),
                total=money(invoice.total_minor, invoice.currency),
                standing=after,
            ),
            aggregate_type="invoice",
            aggregate_id=str(invoice.id),
            occurred_at=now,
        )
    if invoice.milestone:
        await publish_plan_changed(uow, invoice.project_id)
