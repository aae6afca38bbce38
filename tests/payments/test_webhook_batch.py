"""IngestStripeEvents: the gateway's deliveries that arrived together, in one
call and one group commit, each answered or refused on its own."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime

import grpc
from portal.payments.v1 import events_pb2
from portal.payments.v1 import payments_pb2 as pb

from services.chassis.auth import Principal
from services.chassis.db import OUTBOX_CHANNEL, UnitOfWork
from services.chassis.events import Event
from services.payments import service
from tests.payments.conftest import INVALID, Integrator, intent_event, signed

GATEWAY = Principal(kind="service", subject="gateway")


def _uuid() -> str:
    return str(uuid.uuid4())


def _intent(acme: Integrator) -> dict:
    """Not one of our payments (no payment_id): recorded, and done at once."""
    return {
        "id": f"pi_{uuid.uuid4().hex[:24]}",
        "object": "payment_intent",
        "status": "succeeded",
        "metadata": {"tenant_id": acme.tenant_id},
    }


def _delivery(body: dict, **kw) -> pb.StripeDelivery:
    payload, signature = signed(body, **kw)
    return pb.StripeDelivery(payload=payload, signature=signature)


async def _ingest(acme: Integrator, *deliveries: pb.StripeDelivery) -> list:
    answer = await acme.svc.caller(
        acme.svc.stub.IngestStripeEvents,
        pb.IngestStripeEventsRequest(deliveries=deliveries),
        GATEWAY,
    )
    return list(answer.results)


async def test_a_batch_with_one_forged_and_one_foreign_delivery_records_only_the_good(acme):
    now = int(time.time())
    good = intent_event(_intent(acme), "succeeded", created=now)
    other = intent_event(_intent(acme), "succeeded", created=now)
    forged = intent_event(_intent(acme), "succeeded", created=now)
    foreign = dict(intent_event(_intent(acme), "succeeded", created=now), account="acct_nobody")
    results = await _ingest(
        acme,
        _delivery(good),
        _delivery(forged, secret="whsec_not_ours"),
        _delivery(foreign),
        _delivery(good),  # Stripe sent it twice at once
        _delivery(other),
    )
    assert [(r.event_id, r.duplicate, r.error_status) for r in results] == [
        (good["id"], False, 0),
        ("", False, grpc.StatusCode.UNAUTHENTICATED.value[0]),
        ("", False, grpc.StatusCode.NOT_FOUND.value[0]),
        (good["id"], True, 0),
        (other["id"], False, 0),
    ]
    assert results[1].error.code and results[2].error.field_violations[0].field == "account"
    rows = await acme.svc.sql(
        acme.tenant_id, "SELECT id FROM stripe_event WHERE processed_at IS NOT NULL ORDER BY id"
    )
    assert sorted(r[0] for r in rows) == sorted([good["id"], other["id"]])
    again = await _ingest(acme, _delivery(other), _delivery(good))  # redelivered later
    assert [(r.duplicate, r.error_status) for r in again] == [(True, 0), (True, 0)]


async def test_a_stale_signature_in_a_batch_refuses_only_itself(acme):
    now = int(time.time())
    fresh = intent_event(_intent(acme), "succeeded", created=now)
    stale = intent_event(_intent(acme), "succeeded", created=now - 3600)
    results = await _ingest(acme, _delivery(stale, at=now - 3600), _delivery(fresh))
    assert results[0].error_status == grpc.StatusCode.UNAUTHENTICATED.value[0]
    assert (results[1].event_id, results[1].duplicate) == (fresh["id"], False)


async def test_a_non_ascii_signature_in_a_batch_refuses_only_itself(acme):
    """A header is latin-1: `v1=ÿ` once made the comparison raise and failed
    every delivery of its call (a way to deny all tenants' webhooks)."""
    good = intent_event(_intent(acme), "succeeded", created=int(time.time()))
    odd = pb.StripeDelivery(payload=b"{}", signature=f"t={int(time.time())},v1=\u00ff")
    results = await _ingest(acme, odd, _delivery(good))
    assert results[0].error_status == grpc.StatusCode.UNAUTHENTICATED.value[0]
    assert "does not match" in results[0].error.message
    assert (results[1].event_id, results[1].duplicate) == (good["id"], False)


async def test_a_batch_is_the_gateways_alone_and_never_empty(acme):
    body = intent_event(_intent(acme), "succeeded", created=int(time.time()))
    request = pb.IngestStripeEventsRequest(deliveries=[_delivery(body)])
    await acme.fails(grpc.StatusCode.PERMISSION_DENIED, "IngestStripeEvents", request, acme.finance)
    await acme.fails(INVALID, "IngestStripeEvents", pb.IngestStripeEventsRequest(), GATEWAY)
    rows = await acme.svc.sql(acme.tenant_id, "SELECT id FROM stripe_event")
    assert rows == []


async def test_an_event_naming_a_payment_we_do_not_hold_is_done_after_its_pass(acme):
    intent = dict(_intent(acme), metadata={"tenant_id": acme.tenant_id, "payment_id": _uuid()})
    body = intent_event(intent, "succeeded", created=int(time.time()))
    (result,) = await _ingest(acme, _delivery(body))
    unprocessed = "SELECT id FROM stripe_event WHERE processed_at IS NULL"
    assert [r[0] for r in await acme.svc.sql(acme.tenant_id, unprocessed)] == [body["id"]]
    await acme.deliver(events_pb2.StripeEventReceived(event_id=result.event_id), tenant=True)
    assert await acme.svc.sql(acme.tenant_id, unprocessed) == []


async def test_the_consumers_batch_pass_lands_each_payment_in_any_order_and_the_rest_done(acme):
    await acme.accept(total_minor=200_000)
    (deposit,) = await acme.invoices()
    intent_id, payment_id = f"pi_{uuid.uuid4().hex[:24]}", uuid.uuid4()
    await acme.svc.sql(
        acme.tenant_id,
        "INSERT INTO payment (id, tenant_id, invoice_id, attempt_id, status, method, currency, "
        "applied_minor, surcharge_minor, discount_minor, stripe_payment_intent_id, client_secret, "
        "failure_message, reference, card_brand, card_last4, created_by) VALUES (:id, :t, :i, :a, "
        "'pending', 'us_bank_account', 'GBP', 100000, 0, 0, :pi, '', '', '', '', '', 'test')",
        id=payment_id,
        t=uuid.UUID(acme.tenant_id),
        i=uuid.UUID(deposit.id),
        a=_uuid(),
        pi=intent_id,
    )
    ours = {
        "id": intent_id,
        "object": "payment_intent",
        "amount": 100_000,
        "currency": "gbp",
        "status": "processing",
        "created": int(time.time()) - 60,
        "metadata": {"tenant_id": acme.tenant_id, "payment_id": str(payment_id)},
    }
    now = int(time.time())
    succeeded = intent_event(dict(ours, status="succeeded"), "succeeded", created=now)
    processing = intent_event(ours, "processing", created=now - 30)
    stranger = dict(_intent(acme), metadata={"tenant_id": acme.tenant_id, "payment_id": _uuid()})
    unknown = intent_event(stranger, "succeeded", created=now)
    results = await _ingest(acme, *(_delivery(b) for b in (succeeded, processing, unknown)))
    received = [
        Event(
            id=_uuid(),
            type="payments.stripe_event.received",
            tenant_id=acme.tenant_id,
            occurred_at=datetime.now(UTC),
            aggregate_type="stripe_event",
            aggregate_id=r.event_id,
            payload=events_pb2.StripeEventReceived(event_id=r.event_id),
        )
        for r in results
    ]
    async with UnitOfWork(acme.svc.sessions, acme.tenant_id) as uow:
        await service.on_stripe_events(uow, received)  # the newer news first
        await uow.commit()
    unprocessed = "SELECT id FROM stripe_event WHERE processed_at IS NULL"
    assert await acme.svc.sql(acme.tenant_id, unprocessed) == []
    invoice = (await acme.invoices())[0]
    assert invoice.status == pb.INVOICE_STATUS_PAID and invoice.paid.amount_minor == 100_000
    assert len(await acme.svc.events(acme.tenant_id, events_pb2.PaymentSucceeded)) == 1


async def test_each_delivery_in_a_batch_carries_its_own_requests_trace(acme):
    traces = [uuid.uuid4().hex for _ in range(2)]
    deliveries = []
    for trace in traces:
        intent = dict(_intent(acme), metadata={"tenant_id": acme.tenant_id, "payment_id": _uuid()})
        delivery = _delivery(intent_event(intent, "succeeded", created=int(time.time())))
        delivery.traceparent = f"00-{trace}-{uuid.uuid4().hex[:16]}-01"
        deliveries.append(delivery)
    # Only this batch's rows: the module's earlier tests wrote theirs too.
    (before,) = await acme.svc.sql(acme.tenant_id, "SELECT clock_timestamp()")
    await _ingest(acme, *deliveries)
    rows = await acme.svc.sql(
        acme.tenant_id,
        "SELECT headers->>'traceparent' FROM outbox_message WHERE created_at > :before",
        before=before[0],
    )
    assert sorted(r[0].split("-")[1] for r in rows) == sorted(traces)


async def test_only_a_delivery_with_work_after_it_has_its_trace_extracted(acme, monkeypatch):
    from services.payments.service import webhooks

    extracted: list[str] = []

    def extract(headers):
        extracted.append(headers["traceparent"])
        return real(headers)

    real = webhooks.extract_context
    monkeypatch.setattr(webhooks, "extract_context", extract)
    worked, idle = (f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01" for _ in range(2))
    ours = dict(_intent(acme), metadata={"tenant_id": acme.tenant_id, "payment_id": _uuid()})
    with_work = _delivery(intent_event(ours, "succeeded", created=int(time.time())))
    with_work.traceparent = worked
    without = _delivery(intent_event(_intent(acme), "succeeded", created=int(time.time())))
    without.traceparent = idle
    results = await _ingest(acme, with_work, without)
    assert [r.error_status for r in results] == [0, 0]
    assert extracted == [worked]


async def test_one_batch_of_two_tenants_records_each_under_its_own_tenant(payments):
    """One transaction, one statement per tenant: each event lands under its
    own tenant (row-level security shows it to that tenant only), stored as
    the JSON Stripe signed, and only the one with work after it is queued
    (its outbox row under its tenant, the relay woken)."""
    acme, bright = Integrator(payments), Integrator(payments)
    now = int(time.time())
    ours = dict(_intent(acme), metadata={"tenant_id": acme.tenant_id, "payment_id": _uuid()})
    first = intent_event(ours, "succeeded", created=now)
    second = intent_event(_intent(bright), "succeeded", created=now)
    results = await _ingest(acme, _delivery(first), _delivery(second), _delivery(first))
    assert [(r.event_id, r.duplicate) for r in results] == [
        (first["id"], False),
        (second["id"], False),
        (first["id"], True),
    ]
    shown = (
        "SELECT id, processed_at IS NULL, payload -> 'data' -> 'object' ->> 'id' FROM stripe_event"
    )
    assert await acme.svc.sql(acme.tenant_id, shown) == [(first["id"], True, ours["id"])]
    assert await acme.svc.sql(bright.tenant_id, shown) == [
        (second["id"], False, second["data"]["object"]["id"])
    ]
    (queued,) = await acme.svc.events(acme.tenant_id, events_pb2.StripeEventReceived)
    assert queued.event_id == first["id"]
    assert await acme.svc.events(bright.tenant_id, events_pb2.StripeEventReceived) == []


async def test_a_batch_with_work_after_it_wakes_the_relay_at_commit(acme):
    """The relay is woken (NOTIFY on the outbox channel) by a batch that
    queued work, and not by one that queued none."""
    heard: list[str] = []
    async with acme.svc.sessions.kw["bind"].connect() as connection:
        listener = (await connection.get_raw_connection()).driver_connection

        def hear(_conn, _pid, channel: str, _payload: str) -> None:
            heard.append(channel)

        await listener.add_listener(OUTBOX_CHANNEL, hear)
        try:
            now = int(time.time())
            plain = intent_event(_intent(acme), "succeeded", created=now)
            await _ingest(acme, _delivery(plain))  # nothing after it: no wake-up
            ours = dict(
                _intent(acme), metadata={"tenant_id": acme.tenant_id, "payment_id": _uuid()}
            )
            await _ingest(acme, _delivery(intent_event(ours, "succeeded", created=now)))
            for _ in range(100):
                if heard:
                    break
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.1)  # a stray second one would be heard by now
        finally:
            await listener.remove_listener(OUTBOX_CHANNEL, hear)
    assert heard == [OUTBOX_CHANNEL]
