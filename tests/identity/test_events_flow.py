"""Identity's events leave through the outbox and reach JetStream (real NATS)."""

from __future__ import annotations

from portal.identity.v1 import events_pb2
from portal.identity.v1 import identity_pb2 as pb

from services.chassis.events import Event, parse_envelope, subject_for
from services.chassis.outbox import OutboxRelay
from tests.identity.conftest import World


async def test_a_magic_link_event_reaches_the_identity_stream(world: World, nc):
    await world.identity(
        "RequestMagicLink",
        pb.RequestMagicLinkRequest(email=world.approver.email, client_ip=world.client_ip),
        world.gateway,
    )
    js = nc.jetstream()
    relay = OutboxRelay(world.identity.engine, js)
    while await relay.relay_once():
        continue  # until the outbox is empty
    msg = await js.get_last_msg("IDENTITY", subject_for(events_pb2.MagicLinkRequested))
    event = Event.from_envelope(parse_envelope(msg.data), events_pb2.MagicLinkRequested)
    assert event.tenant_id == world.tenant_id
    assert event.aggregate_type == "contact" and event.aggregate_id == world.approver.id
    assert event.payload.email == world.approver.email and event.payload.token
    assert msg.headers["Portal-Tenant"] == world.tenant_id
