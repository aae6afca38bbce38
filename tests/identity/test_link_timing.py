"""Asking for a link takes the same time, and the same statements, whether or
not the address belongs to anyone: the answer must not tell an attacker which
addresses are registered."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from portal.identity.v1 import events_pb2
from portal.identity.v1 import identity_pb2 as pb
from sqlalchemy import event

from tests.identity.conftest import Identity, World
from tests.timing import time_pairs

SAMPLES = 200  # per purpose: half registered addresses, half unknown
ASK = {
    "magic_link": ("RequestMagicLink", pb.RequestMagicLinkRequest),
    "password_reset": ("RequestPasswordReset", pb.RequestPasswordResetRequest),
}


async def many_contacts(world: World, n: int) -> list[str]:
    """n registered client addresses (each can ask for a link and get one)."""
    contacts = [
        pb.NewContact(
            email=f"person{i}@{world.tenant.slug}-home.example",
            full_name=f"Person {i}",
            role=pb.CONTACT_ROLE_VIEWER,
        )
        for i in range(n)
    ]
    await world.identity(
        "CreateCustomer", pb.CreateCustomerRequest(name="Many", contacts=contacts), world.platform
    )
    return [c.email for c in contacts]


async def ask(world: World, purpose: str, email: str, ip: str) -> None:
    """One request as the gateway makes it."""
    method, request = ASK[purpose]
    await world.identity(method, request(email=email, client_ip=ip), world.gateway)


async def test_registered_and_unknown_addresses_are_answered_in_the_same_time(world: World):
    half = SAMPLES // 2
    known = await many_contacts(world, half)
    unknown = [f"nobody{i}@{world.tenant.slug}-home.example" for i in range(half)]
    measured = {}
    for purpose in ASK:
        await ask(world, purpose, f"warm-up@{world.tenant.slug}.example", "198.51.100.250")
        measured[purpose] = await time_pairs(
            list(zip(known, unknown, strict=True)),
            lambda email, i, purpose=purpose: ask(
                world, purpose, email, f"10.{i // 200}.{i % 200}.1"
            ),
            seed=purpose,
        )
    print("".join(f"\n{purpose}: {timings}" for purpose, timings in measured.items()))
    for purpose, timings in measured.items():
        assert abs(timings.gap) < timings.tolerance, (purpose, str(timings))
    # ... and the links did go to every registered address, after the answers.
    assert len(await world.identity.events(world.tenant_id, events_pb2.MagicLinkRequested)) == half
    resets = await world.identity.events(world.tenant_id, events_pb2.PasswordResetRequested)
    assert sorted(r.email for r in resets) == sorted(known)


@contextmanager
def statements(identity: Identity) -> Iterator[list[str]]:
    """The SQL the service sends while the block runs, values left out."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append(re.sub(r"\s+", " ", statement))

    engine = identity.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_a_registered_and_an_unknown_address_take_the_same_path(world: World):
    for purpose in ASK:
        paths = []
        for email in (world.approver.email, f"nobody-{purpose}@{world.tenant.slug}.example"):
            with statements(world.identity) as seen:
                await ask(world, purpose, email, world.client_ip)
            paths.append(seen)
        registered, unknown = paths
        assert registered == unknown, purpose
        # Nothing in the answer's path looks at who has the address.
        assert not any(re.search(r"\b(contact|staff_user|login_token)\b", s) for s in registered)
        assert any("INSERT INTO link_request" in s for s in registered)
        assert any("INSERT INTO outbox_message" in s for s in registered)
