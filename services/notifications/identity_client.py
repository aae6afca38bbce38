"""What notifications asks identity: a tenant's brand, a customer's contacts."""

from __future__ import annotations

from portal.identity.v1 import identity_pb2, identity_pb2_grpc

from services.chassis.auth import Principal, PrincipalSigner
from services.chassis.grpc_client import Caller, open_channel


class IdentityClient:
    def __init__(self, target: str, signer: PrincipalSigner) -> None:
        self._channel = open_channel(target)
        self._stub = identity_pb2_grpc.IdentityServiceStub(self._channel)
        self._call = Caller(signer)

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

    async def close(self) -> None:
        await self._channel.close()
