"""Identity's events leave through the outbox and reach JetStream (real NATS),
and the one it consumes itself comes back through its own durable consumer."""

from __future__ import annotations

import asyncio

from nats.js.errors import NotFoundError
from portal.identity.v1 import events_pb2
from portal.identity.v1 import identity_pb2 as pb

from services.chassis.consumer import EventConsumer
from services.chassis.events import Event, parse_envelope, subject_for
from services.chassis.outbox import OutboxRelay
from services.identity import handlers
from tests.identity.conftest import World


async def test_a_magic_link_request_goes_round_identitys_own_consumer_to_the_stream(
    world: World, nc
):
    await world.identity(
        "RequestMagicLink",
        pb.RequestMagicLinkRequest(email=world.approver.email, client_ip=world.client_ip),
        world.gateway,
    )
    js = nc.jetstream()
    relay = OutboxRelay(world.identity.engine, js)
    consumer = EventConsumer(
        consumer="identity",
        sessions=world.identity.sessions,
        js=js,
        subscriptions=handlers.subscriptions(),
    )
    stop = asyncio.Event()
    consuming = asyncio.create_task(consumer.run(stop))
    link = subject_for(events_pb2.MagicLinkRequested)
    try:
        await asyncio.wait_for(consumer.ready.wait(), 10)
        for _ in range(100):  # relay the request; the consumer issues the link; relay that
            await relay.relay_once()
            try:
                msg = await js.get_last_msg("IDENTITY", link)
            except NotFoundError:  # not there yet
                await asyncio.sleep(0.1)
                continue
            event = Event.from_envelope(parse_envelope(msg.data), events_pb2.MagicLinkRequested)
            if event.tenant_id == world.tenant_id:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("no magic link reached the stream")
    finally:
        stop.set()
        await consuming
    asked = await js.get_last_msg("IDENTITY", subject_for(events_pb2.LinkRequested))
    assert parse_envelope(asked.data).tenant_id == world.tenant_id
    assert event.aggregate_type == "contact" and event.aggregate_id == world.approver.id
    assert event.payload.email == world.approver.email and event.payload.token
    assert msg.headers["Portal-Tenant"] == world.tenant_id
    (handled,) = await world.identity.sql(world.tenant_id, "SELECT handled_at FROM link_request")
    assert handled.handled_at is not None
