"""Stripe's webhooks: verified, recorded once by event id, answered at once;
the work happens after commit, in our own consumer of
`payments.stripe_event.received` (so a failure is retried and never lost).

Which tenant: the event's `account` (a connected account) through the
routing table; an event from the platform account itself (localstripe sends
no account) is routed by the metadata we put on the PaymentIntent. An event
no integrator owns is refused, changing nothing.
"""

from __future__ import annotations

from portal.payments.v1 import events_pb2
from sqlalchemy import select

from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.errors import PermissionDenied
from services.chassis.events import Event
from services.payments.domain_payments import INTENT_EVENTS
from services.payments.models import Invoice, Payment, StripeEvent
from services.payments.service.common import load_settings, now_utc
from services.payments.service.pay_now import apply_intent
from services.payments.service.webhook_batch import WebhookBatcher
from services.payments.stripe_gateway import StripeGateway, intent_info


async def ingest_stripe_event(
    *,
    batcher: WebhookBatcher,
    stripe_api: StripeGateway,
    principal: Principal,
    payload: bytes,
    signature: str,
) -> tuple[str, bool]:
    """(event id, whether we had it already). Written with the deliveries
    arriving alongside it, in one transaction (service/webhook_batch.py)."""
    if principal.kind != "service":
        raise PermissionDenied("only the gateway's webhook endpoint hands over Stripe events")
    event = stripe_api.verify(payload, signature)
    return event["id"], await batcher.record(event)


async def on_stripe_event(uow: UnitOfWork, event: Event[events_pb2.StripeEventReceived]) -> None:
    """The work of one webhook, after its commit; idempotent (the consumer
    also skips an event it has handled)."""
    row = await uow.session.get(StripeEvent, event.payload.event_id, with_for_update=True)
    if row is None or row.processed_at is not None:
        return
    if row.type in INTENT_EVENTS:
        await _intent_changed(uow, row)
    row.processed_at = now_utc()


async def _intent_changed(uow: UnitOfWork, row: StripeEvent) -> None:
    intent = intent_info(row.payload["data"]["object"])
    payment = await uow.session.scalar(
        select(Payment).where(Payment.stripe_payment_intent_id == intent.id).with_for_update()
    )
    if payment is None:
        return  # not one of ours (a payment taken outside the portal)
    invoice = await uow.session.get(Invoice, payment.invoice_id, with_for_update=True)
    if invoice is None:
        return
    settings = await load_settings(uow)
    # The event's own time orders it, not the intent's creation time.
    await apply_intent(uow, payment, invoice, intent, settings, at=row.created)
