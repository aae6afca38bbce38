"""Stripe's webhooks: verified, recorded once by event id, answered at once;
the work happens after commit, in our own consumer of
`payments.stripe_event.received` (so a failure is retried and never lost).

Which tenant: the event's `account` (a connected account) through the
routing table; an event from the platform account itself (localstripe sends
no account) is routed by the metadata we put on the PaymentIntent. An event
no integrator owns is refused, changing nothing.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from portal.payments.v1 import events_pb2
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.errors import NotFound, PermissionDenied
from services.chassis.events import Event
from services.payments.models import Invoice, Payment, StripeAccount, StripeEvent
from services.payments.service.common import Sessions, load_settings, now_utc
from services.payments.service.pay_now import apply_intent
from services.payments.stripe_gateway import StripeGateway, intent_info

INTENT_EVENTS = frozenset(
    {
        "payment_intent.processing",
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "payment_intent.canceled",
    }
)


async def ingest_stripe_event(
    *,
    sessions: Sessions,
    stripe_api: StripeGateway,
    principal: Principal,
    payload: bytes,
    signature: str,
) -> tuple[str, bool]:
    """(event id, whether we had it already)."""
    if principal.kind != "service":
        raise PermissionDenied("only the gateway's webhook endpoint hands over Stripe events")
    event = stripe_api.verify(payload, signature)
    tenant_id = await _tenant_of(sessions, event)
    async with UnitOfWork(sessions, tenant_id) as uow:
        inserted = await uow.session.scalar(
            insert(StripeEvent)
            .values(
                id=event["id"],
                tenant_id=uuid.UUID(tenant_id),
                type=str(event.get("type", "")),
                account=str(event.get("account") or ""),
                created=datetime.fromtimestamp(int(event.get("created") or 0), UTC),
                payload=event,
            )
            .on_conflict_do_nothing(index_elements=[StripeEvent.id])
            .returning(StripeEvent.id)
        )
        if inserted is None:
            return event["id"], True
        uow.publish(
            events_pb2.StripeEventReceived(event_id=event["id"], type=str(event.get("type", ""))),
            aggregate_type="stripe_event",
            aggregate_id=event["id"],
        )
        await uow.commit()
    return event["id"], False


async def _tenant_of(sessions: Sessions, event: dict[str, Any]) -> str:
    account = str(event.get("account") or "")
    async with UnitOfWork(sessions, None) as uow:
        if account:
            tenant = await uow.session.scalar(
                select(StripeAccount.tenant_id).where(StripeAccount.account_id == account)
            )
            if tenant is None:
                raise NotFound("no integrator is connected to this Stripe account", field="account")
            return str(tenant)
    obj = ((event.get("data") or {}).get("object")) or {}
    tenant_text = str((obj.get("metadata") or {}).get("tenant_id") or "")
    try:
        return str(uuid.UUID(tenant_text))
    except ValueError:
        raise NotFound("this event belongs to no integrator", field="account") from None


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
