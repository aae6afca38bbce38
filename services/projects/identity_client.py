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
from services.chassis.runtime import Remote
from services.projects.domain import CustomerRecord


class IdentityClient:
    def __init__(self, identity: Remote) -> None:
        self._stub = identity_pb2_grpc.IdentityServiceStub(identity.channel)
        # Refusals come back as the DomainError identity raised.
        self._call = Caller(identity.signer, domain_errors=True)

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
        """The tenant's IANA zone ("" when it has none set). Asked each time:
        a stage move is rare, and a zone staff just changed must date it."""
        me = Principal(kind="service", subject="projects", tenant_id=tenant_id)
        try:
            answer = await self._call(
                self._stub.GetTenant, identity_pb2.GetTenantRequest(tenant_id=tenant_id), me
            )
        except grpc.aio.AioRpcError as exc:  # no answer at all: the caller may retry
            raise Unavailable("identity is not answering; try again shortly") from exc
        return answer.tenant.time_zone
