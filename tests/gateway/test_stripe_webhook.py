"""Stripe's webhook through the gateway against a payments fake: deliveries
that arrive together reach payments in one IngestStripeEvents call, each
answered on its own (a refused one as its own problem, the rest 200); a call
that fails as a whole fails each of its deliveries; one alone is sent at once.
Payments' side (verification, dedupe, the group commit) is
tests/payments/test_webhook_batch.py; the whole path, tests/e2e."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import grpc
import httpx
import pytest
from portal.common.v1 import common_pb2
from portal.payments.v1 import payments_pb2 as pb
from portal.payments.v1 import payments_pb2_grpc

from gateway.app import create_app
from gateway.settings import GatewaySettings
from tests.gateway.conftest import client_for
from tests.grpc_service import serve_fake, service_name

PATH = "/api/v1/stripe/webhook"
PROBLEM = "application/problem+json"


class FakePayments(payments_pb2_grpc.PaymentsServiceServicer):
    """Answers `good-N` bodies, refuses `forged` ones as payments would
    (UNAUTHENTICATED with its ErrorDetail); holds each call a moment, as a
    commit would, so deliveries pile up behind it."""

    def __init__(self) -> None:
        self.calls: list[list[pb.StripeDelivery]] = []
        self.down = False

    async def IngestStripeEvents(self, request, context):
        if self.down:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "the database is away")
        self.calls.append(list(request.deliveries))
        await asyncio.sleep(0.05)
        results = []
        for d in request.deliveries:
            if d.payload == b"forged":
                results.append(
                    pb.StripeDeliveryResult(
                        error_status=grpc.StatusCode.UNAUTHENTICATED.value[0],
                        error=common_pb2.ErrorDetail(
                            code="unauthenticated",
                            message="the Stripe-Signature header does not match this body",
                        ),
                    )
                )
            else:
                results.append(pb.StripeDeliveryResult(event_id=d.payload.decode()))
        return pb.IngestStripeEventsResponse(results=results)


@pytest.fixture
async def payments(keypair) -> AsyncIterator[tuple[FakePayments, str]]:
    fake = FakePayments()
    async with serve_fake(
        lambda srv: payments_pb2_grpc.add_PaymentsServiceServicer_to_server(fake, srv),
        service_name(pb, "PaymentsService"),
        keypair[1],
    ) as target:
        yield fake, target


@asynccontextmanager
async def gateway(settings: GatewaySettings, target: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.model_copy(update={"payments_target": target}))
    # Stripe calls the platform's own host, not a tenant's.
    async with client_for(app, host="localhost") as client:
        yield client


async def _send(client: httpx.AsyncClient, body: bytes) -> httpx.Response:
    return await client.post(PATH, content=body, headers={"Stripe-Signature": "t=1,v1=ab"})


async def test_deliveries_arriving_together_share_a_call_and_keep_their_own_answers(
    settings, payments
):
    fake, target = payments
    bodies = [b"forged" if i == 5 else f"evt_good-{i}".encode() for i in range(12)]
    async with gateway(settings, target) as client:
        answers = await asyncio.gather(*(_send(client, b) for b in bodies))
    for body, answer in zip(bodies, answers, strict=True):
        if body == b"forged":
            assert answer.status_code == 401 and answer.headers["content-type"] == PROBLEM
            assert "Stripe-Signature" in answer.json()["detail"]
        else:
            assert answer.status_code == 200, answer.text
            assert answer.json() == {"received": True, "duplicate": False}
    sent = [d.payload for call in fake.calls for d in call]
    assert sorted(sent) == sorted(bodies)  # each exactly once
    assert len(fake.calls) < len(bodies)  # the later ones waited for a shared call
    assert all(d.signature == "t=1,v1=ab" for call in fake.calls for d in call)


async def test_a_delivery_alone_is_sent_at_once(settings, payments):
    fake, target = payments
    async with gateway(settings, target) as client:
        answer = await _send(client, b"evt_good-alone")
    assert answer.status_code == 200
    assert [[d.payload for d in call] for call in fake.calls] == [[b"evt_good-alone"]]


async def test_each_delivery_carries_its_own_requests_trace(settings, payments):
    fake, target = payments
    traces = ["4bf92f3577b34da6a3ce929d0e0e4736", "0af7651916cd43dd8448eb211c80319c"]
    async with gateway(settings, target) as client:
        await asyncio.gather(
            *(
                client.post(
                    PATH,
                    content=f"evt_good-{t}".encode(),
                    headers={"Stripe-Signature": "t=1,v1=ab", "traceparent": f"00-{t}-{t[:16]}-01"},
                )
                for t in traces
            )
        )
    carried = {d.payload.decode(): d.traceparent for call in fake.calls for d in call}
    for t in traces:
        assert carried[f"evt_good-{t}"].split("-")[1] == t


async def test_a_call_that_fails_fails_each_delivery_so_stripe_retries(settings, payments):
    fake, target = payments
    fake.down = True
    async with gateway(settings, target) as client:
        answers = await asyncio.gather(*(_send(client, f"evt_{i}".encode()) for i in range(4)))
    assert [a.status_code for a in answers] == [503] * 4
    assert all(a.headers["content-type"] == PROBLEM for a in answers)


async def test_the_fast_path_keeps_the_headers_limits_and_problems(settings, payments):
    fake, target = payments
    async with gateway(settings, target) as client:
        ok = await _send(client, b"evt_good-headers")
        long = await client.post(PATH, content=b"evt_x", headers={"Stripe-Signature": "v" * 3000})
        big = await client.post(PATH, content=b"x" * (600 * 1024))
        other = await client.get(PATH)  # not a delivery: FastAPI's routing answers
    assert ok.status_code == 200 and ok.headers["x-content-type-options"] == "nosniff"
    assert ok.headers["cache-control"] == "no-store"
    assert long.status_code == 422 and long.headers["content-type"] == PROBLEM
    assert big.status_code == 413 and big.json()["instance"] == PATH
    assert other.status_code == 405
    assert [d.payload for call in fake.calls for d in call] == [b"evt_good-headers"]


async def test_a_body_that_trickles_in_is_refused_and_frees_its_slot(
    settings, payments, monkeypatch
):
    """Slowloris: a body still arriving after BODY_SECONDS is a 408, so slow
    senders cannot hold every in-flight slot against Stripe's deliveries."""
    from gateway.api import stripe_webhook

    monkeypatch.setattr(stripe_webhook, "BODY_SECONDS", 0.2)
    fake, target = payments

    async def trickle():
        yield b"evt_"
        await asyncio.sleep(1.0)
        yield b"slow"

    async with gateway(settings, target) as client:
        slow = await client.post(PATH, content=trickle(), headers={"Stripe-Signature": "t=1,v1=ab"})
        ok = await _send(client, b"evt_good-after")
    assert slow.status_code == 408 and slow.headers["content-type"] == PROBLEM
    assert "did not arrive in time" in slow.json()["detail"]
    assert ok.status_code == 200
    assert [d.payload for call in fake.calls for d in call] == [b"evt_good-after"]
