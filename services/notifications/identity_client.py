"""What notifications asks identity: a tenant's brand, a customer's contacts,
the staff (by role: mail to the integrator, and whom a dispatch email goes to)."""

from __future__ import annotations

from portal.identity.v1 import identity_pb2, identity_pb2_grpc

from services.chassis.auth import Principal
from services.chassis.runtime import Remote


class IdentityClient:
    def __init__(self, identity: Remote) -> None:
        self._stub = identity_pb2_grpc.IdentityServiceStub(identity.channel)
        self._call = identity.call

    def _me(self, tenant_id: str) -> Principal:
        return Principal(kind="service", subject="notifications", tenant_id=tenant_id)

    async def tenant(self, tenant_id: str) -> identity_pb2.Tenant:
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
