"""What notifications asks identity: a tenant's brand, a customer's contacts,
the staff (by role: mail to the integrator, and whom a dispatch email goes to).
Kept in an IdentityCache (services/chassis/identity_cache.py) until identity's event says
it changed; `forget_for` is what the consumer calls with those events."""

from __future__ import annotations

from typing import Any

from portal.identity.v1 import events_pb2 as identity_events
from portal.identity.v1 import identity_pb2, identity_pb2_grpc

from services.chassis.auth import Principal
from services.chassis.identity_cache import IdentityCache, Key
from services.chassis.runtime import Remote

# The events after which identity answers differently, and what each makes stale.
FORGETTING: tuple[type, ...] = (
    identity_events.TenantUpdated,
    identity_events.StaffUserChanged,
    identity_events.CustomerChanged,
    identity_events.CustomerAccessChanged,
    identity_events.CustomerPurged,
)


def stale_keys(tenant_id: str, payload: Any) -> list[Key]:
    """The entries an identity event makes stale (always the event's own tenant)."""
    if isinstance(payload, identity_events.TenantUpdated):
        return [(tenant_id, "tenant", "")]
    if isinstance(payload, identity_events.StaffUserChanged):
        return [(tenant_id, "staff", "")]
    if isinstance(payload, FORGETTING):
        return [(tenant_id, "customer", payload.customer_id)]
    return []


class IdentityClient:
    def __init__(self, identity: Remote, *, cache_seconds: float = 0.0) -> None:
        """`cache_seconds` 0: nothing kept (a caller that gets no forgetting
        events, such as the digest job); handlers at once still share a call."""
        self._stub = identity_pb2_grpc.IdentityServiceStub(identity.channel)
        self._call = identity.call
        self._cache = IdentityCache(seconds=cache_seconds)

    def _me(self, tenant_id: str) -> Principal:
        return Principal(kind="service", subject="notifications", tenant_id=tenant_id)

    def forget_for(self, tenant_id: str, payload: Any) -> None:
        for key in stale_keys(tenant_id, payload):
            self._cache.forget(key)

    async def tenant(self, tenant_id: str) -> identity_pb2.Tenant:
        async def load() -> identity_pb2.Tenant:
            response = await self._call(
                self._stub.GetTenant,
                identity_pb2.GetTenantRequest(tenant_id=tenant_id),
                self._me(tenant_id),
            )
            return response.tenant

        return await self._cache.get((tenant_id, "tenant", ""), load)

    async def customer(self, tenant_id: str, customer_id: str) -> identity_pb2.Customer:
        async def load() -> identity_pb2.Customer:
            response = await self._call(
                self._stub.GetCustomer,
                identity_pb2.GetCustomerRequest(customer_id=customer_id),
                self._me(tenant_id),
            )
            return response.customer

        # Asked every time, never kept: the event that says a contact was
        # removed comes on its own subscription, unordered with the mail
        # events, so a kept copy could mail a removed contact (a review found
        # it); brand and staff lists are kept, the people a client has are not.
        return await load()

    async def staff_users(self, tenant_id: str) -> list[identity_pb2.StaffUser]:
        async def load() -> list[identity_pb2.StaffUser]:
            response = await self._call(
                self._stub.ListStaffUsers,
                identity_pb2.ListStaffUsersRequest(),
                self._me(tenant_id),
            )
            return list(response.users)

        # A copy each: a caller's list is its own to change.
        return list(await self._cache.get((tenant_id, "staff", ""), load))
