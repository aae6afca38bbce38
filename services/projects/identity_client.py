"""What projects asks identity: is this a customer of the integrator, and
who are its contacts (a project is made for one, and may be shown to only
some of them); and the integrator's time zone, whose day a stage move dates."""

from __future__ import annotations

import grpc
from portal.identity.v1 import identity_pb2, identity_pb2_grpc

from services.chassis import enums
from services.chassis.auth import Principal
from services.chassis.errors import NotFound, Unavailable
from services.chassis.grpc_client import Caller
from services.chassis.identity_cache import IdentityCache
from services.chassis.runtime import Remote
from services.projects.domain import CustomerRecord

# A zone changed in identity dates stage moves within this long. Asking on
# every move cost identity about 1.7 ms of CPU per move (bench/HISTORY.md,
# polish); a zone changes about never, and only a move within a minute of the
# change near midnight could be dated by the old one.
ZONE_SECONDS = 60.0


class IdentityClient:
    def __init__(self, identity: Remote, *, zones: IdentityCache | None = None) -> None:
        self._stub = identity_pb2_grpc.IdentityServiceStub(identity.channel)
        # Refusals come back as the DomainError identity raised.
        self._call = Caller(identity.signer, domain_errors=True)
        self._zones = zones or IdentityCache(seconds=ZONE_SECONDS)

    async def customer(self, tenant_id: str, customer_id: str) -> CustomerRecord | None:
        """The tenant's customer, or None if it has none with this id (another
        integrator's is not found here: identity looks inside the tenant)."""
        me = Principal(kind="service", subject="projects", tenant_id=tenant_id)
        try:
            answer = await self._call(
                self._stub.GetCustomer, identity_pb2.GetCustomerRequest(customer_id=customer_id), me
            )
        except NotFound:
            return None
        except grpc.aio.AioRpcError as exc:  # no answer at all: the caller may retry
            raise Unavailable("identity is not answering; try again shortly") from exc
        customer = answer.customer
        return CustomerRecord(
            id=customer.id,
            access_state=enums.short_name(
                identity_pb2.AccessState, customer.access_state, unknown="unspecified"
            ),
            contact_ids=frozenset(c.id for c in customer.contacts),
        )

    async def time_zone(self, tenant_id: str) -> str:
        """The tenant's IANA zone ("" when it has none set), kept ZONE_SECONDS."""
        return await self._zones.get(
            (tenant_id, "tenant", "time_zone"), lambda: self._ask_zone(tenant_id)
        )

    async def _ask_zone(self, tenant_id: str) -> str:
        me = Principal(kind="service", subject="projects", tenant_id=tenant_id)
        try:
            answer = await self._call(
                self._stub.GetTenant, identity_pb2.GetTenantRequest(tenant_id=tenant_id), me
            )
        except grpc.aio.AioRpcError as exc:  # no answer at all: the caller may retry
            raise Unavailable("identity is not answering; try again shortly") from exc
        return answer.tenant.time_zone
