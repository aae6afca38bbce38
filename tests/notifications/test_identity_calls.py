"""What notifications asks identity, against the real identity service: a burst
of handlers for one tenant shares one GetTenant in flight; the brand, staff and
contacts are kept until identity's own event about the change (read from
identity's outbox, as the consumer would get it) is handled; never across
tenants; a removed contact is not mailed from the copy."""

from __future__ import annotations

import asyncio

from portal.identity.v1 import events_pb2 as identity_events
from portal.identity.v1 import identity_pb2 as pb

from services.chassis.auth import PrincipalSigner
from services.chassis.grpc_client import Caller, open_channel
from services.chassis.runtime import Remote
from services.notifications.identity_client import IdentityClient
from tests.identity.conftest import (  # noqa: F401 (fixtures)
    World,
    identity,
    identity_url,
    new_world,
    world,
)


class CountingCaller:
    """The real caller, counting the RPCs that reach identity."""

    def __init__(self, caller: Caller) -> None:
        self._caller = caller
        self.calls: list[str] = []

    async def __call__(self, method, request, principal, **kw):
        self.calls.append(type(request).__name__)
        return await self._caller(method, request, principal, **kw)


async def _client(world: World, keypair: tuple[str, str]):  # noqa: F811
    signer = PrincipalSigner(keypair[0])
    caller = CountingCaller(Caller(signer, timeout=20))
    channel = open_channel(world.identity.target)
    client = IdentityClient(Remote(channel, caller, signer), cache_seconds=60)  # type: ignore[arg-type]
    return client, caller, channel


async def test_a_brand_is_kept_until_identity_says_the_tenant_changed(
    world: World,  # noqa: F811 (the fixture imported above)
    keypair: tuple[str, str],
):
    client, caller, channel = await _client(world, keypair)
    try:
        tenants = await asyncio.gather(*(client.tenant(world.tenant_id) for _ in range(8)))
        assert {t.id for t in tenants} == {world.tenant_id}
        assert caller.calls == ["GetTenantRequest"]  # eight handlers, one round trip
        await client.tenant(world.tenant_id)
        assert caller.calls == ["GetTenantRequest"]  # kept

        await world.identity(
            "UpdateTenant",
            pb.UpdateTenantRequest(display_name="Renamed AV"),
            world.staff(world.owner),
        )
        [updated] = await world.identity.events(world.tenant_id, identity_events.TenantUpdated)
        assert updated.tenant_id == world.tenant_id
        client.forget_for(world.tenant_id, updated)
        again = await client.tenant(world.tenant_id)
        assert again.display_name == "Renamed AV"
        assert caller.calls == ["GetTenantRequest", "GetTenantRequest"]
    finally:
        await channel.close()


async def test_a_removed_contact_is_not_mailed_from_a_copy(
    world: World,  # noqa: F811
    keypair: tuple[str, str],
):
    """Contacts are asked every time: the removal's event comes on its own
    subscription, unordered with the mail events, so no copy is kept that it
    would have to reach first."""
    client, caller, channel = await _client(world, keypair)
    try:
        before = await client.customer(world.tenant_id, world.customer.id)
        assert world.viewer.id in {c.id for c in before.contacts}

        await world.identity(
            "RemoveContact",
            pb.RemoveContactRequest(contact_id=world.viewer.id),
            world.staff(world.pm),
        )
        after = await client.customer(world.tenant_id, world.customer.id)  # no event handled yet
        assert world.viewer.id not in {c.id for c in after.contacts}
        assert world.approver.id in {c.id for c in after.contacts}
        assert caller.calls == ["GetCustomerRequest", "GetCustomerRequest"]
    finally:
        await channel.close()


async def test_an_answer_on_its_way_when_forgotten_is_not_kept(
    world: World,  # noqa: F811
    keypair: tuple[str, str],
):
    """The rename's event handled while the GetTenant that began before it is
    still on its way: that answer may carry the old name, so the next ask goes
    to identity again instead of joining it or reading it back."""
    client, caller, channel = await _client(world, keypair)
    try:
        early = asyncio.ensure_future(client.tenant(world.tenant_id))
        await asyncio.sleep(0)  # the call is on its way
        await world.identity(
            "UpdateTenant",
            pb.UpdateTenantRequest(display_name="Renamed in flight"),
            world.staff(world.owner),
        )
        [updated] = await world.identity.events(world.tenant_id, identity_events.TenantUpdated)
        client.forget_for(world.tenant_id, updated)
        later = await client.tenant(world.tenant_id)
        await early
        assert later.display_name == "Renamed in flight"
        assert caller.calls == ["GetTenantRequest", "GetTenantRequest"]
    finally:
        await channel.close()


async def test_staff_are_kept_per_tenant_and_forgotten_when_one_changes(
    world: World,  # noqa: F811
    identity,  # noqa: F811
    keypair: tuple[str, str],
):
    other = await new_world(identity)
    client, caller, channel = await _client(world, keypair)
    try:
        ours = await client.staff_users(world.tenant_id)
        theirs = await client.staff_users(other.tenant_id)
        assert {u.email for u in ours}.isdisjoint({u.email for u in theirs})
        assert caller.calls == ["ListStaffUsersRequest", "ListStaffUsersRequest"]

        await world.identity(
            "CreateStaffUser",
            pb.CreateStaffUserRequest(
                email=f"nina@{world.tenant.slug}.example",
                full_name="Nina",
                roles=[pb.STAFF_ROLE_ADMIN],
            ),
            world.staff(world.owner),
        )
        changes = await world.identity.events(world.tenant_id, identity_events.StaffUserChanged)
        client.forget_for(world.tenant_id, changes[-1])
        assert "Nina" in {u.full_name for u in await client.staff_users(world.tenant_id)}
        await client.staff_users(other.tenant_id)  # the other tenant's copy is untouched
        assert caller.calls == ["ListStaffUsersRequest"] * 3
    finally:
        await channel.close()
