"""What notifications asks identity, against the real identity service: a burst
of handlers for one tenant shares one GetTenant in flight, and nothing is kept
once it has answered (a brand change is seen by the next call)."""

from __future__ import annotations

import asyncio

from portal.identity.v1 import identity_pb2 as pb

from services.chassis.auth import PrincipalSigner
from services.chassis.grpc_client import Caller, open_channel
from services.chassis.runtime import Remote
from services.notifications.identity_client import IdentityClient
from tests.identity.conftest import World, identity, identity_url, world  # noqa: F401 (fixtures)


class CountingCaller:
    """The real caller, counting the RPCs that reach identity."""

    def __init__(self, caller: Caller) -> None:
        self._caller = caller
        self.calls: list[str] = []

    async def __call__(self, method, request, principal, **kw):
        self.calls.append(type(request).__name__)
        return await self._caller(method, request, principal, **kw)


async def test_handlers_at_once_share_one_tenant_call_and_a_later_call_sees_a_change(
    world: World,  # noqa: F811 (the fixture imported above)
    keypair: tuple[str, str],
):
    signer = PrincipalSigner(keypair[0])
    caller = CountingCaller(Caller(signer, timeout=20))
    channel = open_channel(world.identity.target)
    try:
        client = IdentityClient(Remote(channel, caller, signer))  # type: ignore[arg-type]
        tenants = await asyncio.gather(*(client.tenant(world.tenant_id) for _ in range(8)))
        assert {t.id for t in tenants} == {world.tenant_id}
        assert caller.calls == ["GetTenantRequest"]  # eight handlers, one round trip

        await world.identity(
            "UpdateTenant",
            pb.UpdateTenantRequest(display_name="Renamed AV"),
            world.staff(world.owner),
        )
        again = await client.tenant(world.tenant_id)
        assert again.display_name == "Renamed AV"  # nothing kept after the answer
        assert caller.calls == ["GetTenantRequest", "GetTenantRequest"]
    finally:
        await channel.close()
