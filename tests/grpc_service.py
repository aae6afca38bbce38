"""A service's real gRPC server in-process, called the way the gateway calls
it (a signed principal on every call), with its database at hand for
assertions. Each service's test folder subclasses `ServiceUnderTest`.

Fakes of a service are served the same way (`serve_fake`): through the
chassis server, so they see verified principals and their DomainErrors
travel as ErrorDetail."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
from google.protobuf.message import Message
from portal.identity.v1 import events_pb2 as identity_events
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from deploy.infra import Postgres
from services.chassis.auth import Principal, PrincipalVerifier
from services.chassis.consumer import Subscription
from services.chassis.db import UnitOfWork, outbox_message
from services.chassis.events import Event, parse_envelope, subject_for
from services.chassis.grpc_client import Caller
from services.chassis.grpc_server import start_grpc_server
from services.chassis.migrations import upgrade


@contextmanager
def migrated_database(postgres: Postgres, service: str, revision: str = "head") -> Iterator[str]:
    """A fresh database of the service's own, migrated to `revision`; dropped after."""
    name = f"{service}_t{uuid.uuid4().hex[:8]}"
    url = postgres.ensure_service_database(name, f"{service}-test-password")
    try:
        upgrade(service, url, revision)
        yield url
    finally:
        postgres.drop_database(name)


@asynccontextmanager
async def as_tenant(engine: AsyncEngine, tenant: uuid.UUID | str) -> AsyncIterator[AsyncConnection]:
    """A transaction on the service's own role inside the tenant (RLS on), as
    a migration test writes rows before an upgrade and reads them after."""
    async with engine.begin() as conn:
        await conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant)})
        yield conn


def service_name(module: Any, name: str) -> str:
    """The full name of a service in a generated *_pb2 module."""
    return module.DESCRIPTOR.services_by_name[name].full_name


@asynccontextmanager
async def serve_fake(
    register: Callable[[grpc.aio.Server], None],
    name: str,
    public_key: str,
    *,
    deadline_ceilings: dict[str, float] | None = None,
) -> AsyncIterator[str]:
    """A fake servicer behind the chassis' server (real interceptor, real
    principal verification); yields its target."""
    server, port, _ = await start_grpc_server(
        host="127.0.0.1",
        port=0,
        verifier=PrincipalVerifier(public_key),
        register=register,
        service_names=[name],
        deadline_ceilings=deadline_ceilings,
    )
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await server.stop(None)


class Assertions:
    """Checks shared by every running service under test; the subclass is
    callable as `await svc(method, request, principal)` and has `sessions`."""

    sessions: Any

    async def fails(
        self, code: grpc.StatusCode, method: str, request: Message, principal: Principal
    ) -> grpc.aio.AioRpcError:
        """Calls and expects a refusal with `code`; returns the error for more checks."""
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await self(method, request, principal)  # type: ignore[operator]
        assert err.value.code() == code, (err.value.code(), err.value.details())
        return err.value

    async def deliver(
        self,
        subscriptions: list[Subscription],
        payload: Message,
        *,
        tenant_id: str,
        aggregate_id: str,
        at: datetime | None = None,
        event_id: str | None = None,
    ) -> None:
        """As the event lands, through the handler the service subscribes to
        its type (a service that forgot a subscription fails here)."""
        (sub,) = [s for s in subscriptions if s.payload_type is type(payload)]
        event = Event(
            id=event_id or str(uuid.uuid4()),
            type=sub.subject,
            tenant_id=tenant_id,
            occurred_at=at or datetime.now(UTC),
            aggregate_type=sub.subject.split(".")[1],
            aggregate_id=aggregate_id,
            payload=payload,
        )
        async with UnitOfWork(self.sessions, tenant_id) as uow:
            await sub.handler(uow, event)
            await uow.commit()

    async def change_customer_access(
        self, subscriptions: list[Subscription], *, tenant_id: str, customer_id: str, to_state: int
    ) -> None:
        """As identity's customer.access_changed lands."""
        await self.deliver(
            subscriptions,
            identity_events.CustomerAccessChanged(customer_id=customer_id, to_state=to_state),
            tenant_id=tenant_id,
            aggregate_id=customer_id,
        )

    async def sql(self, tenant_id: str, statement: str, **params: Any) -> list[Any]:
        """Runs SQL as the service's own role, inside the tenant (row-level security on)."""
        async with UnitOfWork(self.sessions, tenant_id) as uow:
            result = await uow.session.execute(text(statement), params)
            rows = list(result.all()) if result.returns_rows else []
            await uow.commit()
        return rows

    async def events(self, tenant_id: str, payload_type: type[Message]) -> list:
        """Typed payloads of the tenant's outbox rows of this event type (on the
        subject its proto declares), oldest first."""
        async with UnitOfWork(self.sessions, None) as uow:
            rows = (
                await uow.session.execute(
                    select(outbox_message.c.payload)
                    .where(
                        outbox_message.c.tenant_id == uuid.UUID(tenant_id),
                        outbox_message.c.subject == subject_for(payload_type),
                    )
                    .order_by(outbox_message.c.created_at)
                )
            ).scalars()
            out = []
            for raw in rows:
                payload = payload_type()
                assert parse_envelope(raw).payload.Unpack(payload)
                out.append(payload)
        return out


@dataclass
class ServiceUnderTest(Assertions):
    """The running service: a stub, a signing caller, and its database."""

    url: str
    stub: Any
    caller: Caller
    sessions: Any

    async def __call__(self, method: str, request: Message, principal: Principal) -> Any:
        return await self.caller(getattr(self.stub, method), request, principal)
