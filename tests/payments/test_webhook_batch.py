"""IngestStripeEvents: the gateway's deliveries that arrived together, in one
call and one group commit, each answered or refused on its own."""

from __future__ import annotations

import time
import uuid

import grpc
from portal.payments.v1 import events_pb2
from portal.payments.v1 import payments_pb2 as pb

from services.chassis.auth import Principal
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
