"""Stripe's webhooks: verified, recorded once by event id, answered at once;
the work happens after commit, in our own consumer of
`payments.stripe_event.received` (so a failure is retried and never lost).

Which tenant: the event's `account` (a connected account) through the
routing table; an event from the platform account itself (localstripe sends
no account) is routed by the metadata we put on the PaymentIntent. An event
no integrator owns is refused, changing nothing.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from opentelemetry import context as otel_context
from portal.payments.v1 import events_pb2
from sqlalchemy import select, text

from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.errors import DomainError, InvalidArgument, PermissionDenied, Unauthenticated
from services.chassis.events import Event
from services.chassis.telemetry import extract_context, get_logger
from services.payments.domain_payments import INTENT_EVENTS
from services.payments.models import Invoice, Payment, StripeEvent
from services.payments.service.common import load_settings, now_utc
from services.payments.service.pay_now import apply_intent
from services.payments.service.webhook_batch import MAX_BATCH, WebhookBatcher
from services.payments.stripe_gateway import StripeGateway, intent_info

log = get_logger(__name__)


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
    return event["id"], await batcher.record(event, payload)


@dataclass(frozen=True)
class Delivery:
    payload: bytes
    signature: str
    traceparent: str = ""  # its own request's trace (a batch call has one of its own)


async def ingest_stripe_events(
    *,
    batcher: WebhookBatcher,
    stripe_api: StripeGateway,
    principal: Principal,
    deliveries: Sequence[Delivery],
) -> list[tuple[str, bool] | DomainError]:
    """The gateway's deliveries that arrived together: each verified on its
    own, all written in one group commit; per delivery (event id, duplicate?)
    or why it was refused, so one forged body refuses only itself."""
    if principal.kind != "service":
        raise PermissionDenied("only the gateway's webhook endpoint hands over Stripe events")
    if not 1 <= len(deliveries) <= MAX_BATCH:
        raise InvalidArgument(f"hand over 1 to {MAX_BATCH} deliveries", field="deliveries")
    answers: list[tuple[str, asyncio.Future[bool]] | DomainError] = []
    for delivery in deliveries:
        try:
            event = stripe_api.verify(delivery.payload, delivery.signature)
        except DomainError as refused:
            answers.append(refused)
            continue
        except Exception:  # a flaw in checking one delivery refuses it alone, not its batch
            log.exception("webhook delivery could not be checked")
            answers.append(Unauthenticated("the Stripe-Signature could not be checked"))
            continue
        answers.append(
            (
                event["id"],
                batcher.submit(event, delivery.payload, _traced(delivery.traceparent)),
            )
        )
    queued = [a[1] for a in answers if not isinstance(a, DomainError)]
    # Shielded: a cancelled call leaves the batch intact; every answer is collected.
    written = iter(await asyncio.shield(asyncio.gather(*queued, return_exceptions=True)))
    results: list[tuple[str, bool] | DomainError] = []
    for answer in answers:
        if isinstance(answer, DomainError):
            results.append(answer)
            continue
        outcome = next(written)
        if isinstance(outcome, DomainError):  # its account is no integrator's
            results.append(outcome)
        elif isinstance(outcome, BaseException):  # the database: the whole call fails
            raise outcome
        else:
            results.append((answer[0], outcome))
    return results


def _traced(traceparent: str) -> Callable[[], contextvars.Context]:
    """This call's context with the delivery's own request's span as current,
    so its outbox row (and the work after commit) joins that trace. Built
    when asked: only an event with work after the answer gets an outbox row,
    and extracting a traceparent cost ~10 % of payments' CPU per delivery."""
    context = contextvars.copy_context()
    if not traceparent:
        return lambda: context

    def traced() -> contextvars.Context:
        context.run(otel_context.attach, extract_context({"traceparent": traceparent}))
        return context

    return traced


# One round trip, the payload never decoded: lock the events, find whether
# each one's PaymentIntent is one of our payments, and mark done there and
# then every one that changes none (most events: the integrator's other
# Stripe business). Locked in id order, so two passes never wait on each other
# crosswise.
#
# Shaped for row-level security. The intent id is taken out of the payload in
# a MATERIALIZED step, so the join to `payment` compares two plain columns:
# written as `p.stripe_payment_intent_id = e.payload -> ... ->> 'id'` it holds
# a non-leakproof operator (jsonb `->`), which PostgreSQL must not run before
# `payment`'s RLS policy, so it could not be an index condition and every
# event scanned all the tenant's payments. And `stripe_event` has no index on
# tenant_id (migration 0008): with one, the planner ANDed the RLS qual's index
# into the id lookup on stale statistics, and at 1,000 webhooks a second this
# statement read ~33,000 buffers a call, growing with the table, most of
# PostgreSQL's CPU (bench/HISTORY.md, 2026-12-07).
_PENDING = text(
    """
    WITH locked AS MATERIALIZED (
        SELECT e.id, e.type, e.payload -> 'data' -> 'object' ->> 'id' AS intent_id
        FROM stripe_event e
        WHERE e.id = ANY(:ids) AND e.processed_at IS NULL
        ORDER BY e.id
        FOR UPDATE OF e
    ), pending AS (
        SELECT l.id, l.type, p.id AS payment_id
        FROM locked l
        LEFT JOIN payment p
          ON p.stripe_payment_intent_id = l.intent_id
         AND p.stripe_payment_intent_id <> ''
    ), done AS (
        UPDATE stripe_event s SET processed_at = :at
        FROM pending
        WHERE s.id = pending.id
          AND (pending.payment_id IS NULL OR NOT pending.type = ANY(:intent_events))
    )
    SELECT id, type, payment_id FROM pending ORDER BY id
    """
)
_DONE = text("UPDATE stripe_event SET processed_at = :at WHERE id = :id")


async def on_stripe_event(uow: UnitOfWork, event: Event[events_pb2.StripeEventReceived]) -> None:
    """The work of one webhook, after its commit; idempotent (the consumer
    also skips an event it has handled)."""
    await on_stripe_events(uow, [event])


async def on_stripe_events(
    uow: UnitOfWork, events: list[Event[events_pb2.StripeEventReceived]]
) -> None:
    """The work of a fetched batch of one tenant's webhooks, in one
    transaction: one statement marks done every event that changes no
    payment (unknown or done already: nothing); each that does is landed in
    turn (monotonic, so in any order). Plain SQL: the consumer runs this at
    webhook rates; the ORM only where a payment changes."""
    at = now_utc()
    pending = (
        await uow.session.execute(
            _PENDING,
            {
                "ids": sorted({e.payload.event_id for e in events}),
                "at": at,
                "intent_events": sorted(INTENT_EVENTS),
            },
        )
    ).all()
    for event_id, kind, payment_id in pending:
        if payment_id is None or kind not in INTENT_EVENTS:
            continue  # done just now
        row = await uow.session.get(StripeEvent, event_id)
        if row is not None:
            await _intent_changed(uow, row)
        await uow.session.execute(_DONE, {"id": event_id, "at": at})


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
