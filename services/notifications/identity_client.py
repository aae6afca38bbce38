"""What notifications asks identity: a tenant's brand, a customer's contacts,
the staff (by role: mail to the integrator, and whom a dispatch email goes to)."""

from __future__ import annotations

import asyncio

from portal.identity.v1 import identity_pb2, identity_pb2_grpc

from services.chassis.auth import Principal
from services.chassis.runtime import Remote


class IdentityClient:
    def __init__(self, identity: Remote) -> None:
        self._stub = identity_pb2_grpc.IdentityServiceStub(identity.channel)
        self._call = identity.call
        self._tenants: dict[str, asyncio.Future[identity_pb2.Tenant]] = {}

    def _me(self, tenant_id: str) -> Principal:
        return Principal(kind="service", subject="notifications", tenant_id=tenant_id)

    async def tenant(self, tenant_id: str) -> identity_pb2.Tenant:
        """Handlers asking at once for one tenant share the call in flight (a
        burst of events, one tenant: one round trip, not one each). Nothing is
        kept after it answers, so a brand change is seen by the next call. Not
        done for contacts: one removed must not get mail about a later event
        from an answer that started before the removal."""
        pending = self._tenants.get(tenant_id)
        if pending is None:
            pending = asyncio.ensure_future(self._get_tenant(tenant_id))
            self._tenants[tenant_id] = pending
            pending.add_done_callback(lambda _done: self._tenants.pop(tenant_id, None))
        # Shielded: one handler cancelled does not cancel the others' answer.
        return await asyncio.shield(pending)

    async def _get_tenant(self, tenant_id: str) -> identity_pb2.Tenant:
        response = await self._call(
            self._stub.GetTenant,
            identity_pb2.GetTenantRequest(tenant_id=tenant_id),
            self._me(tenant_id),
        )
        return response.tenant

    async def customer(self, tenant_id: str, customer_id: str) -> identity_pb2.Customer:
        response = await self._call(
            self._stub.GetCustomer,
            identity_pb2.GetCustomerRequest(customer_id=customer_id),
            self._me(tenant_id),
        )
        return response.customer

    async def staff_users(self, tenant_id: str) -> list[identity_pb2.StaffUser]:
        response = await self._call(
            self._stub.ListStaffUsers,
            identity_pb2.ListStaffUsersRequest(),
            self._me(tenant_id),
        )
        return list(response.users)
