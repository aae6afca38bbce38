"""A service's real gRPC server in-process, called the way the gateway calls
it (a signed principal on every call), with its database at hand for
assertions. Each service's test folder subclasses `ServiceUnderTest`."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
from google.protobuf.message import Message
from portal.identity.v1 import events_pb2 as identity_events
from sqlalchemy import select, text

from deploy.infra import Postgres
from services.chassis.access import SUBJECT_ACCESS_CHANGED
from services.chassis.auth import Principal
from services.chassis.consumer import Subscription
from services.chassis.db import UnitOfWork, outbox_message
from services.chassis.events import Event, parse_envelope
from services.chassis.grpc_client import Caller
from services.chassis.migrations import upgrade


@contextmanager
def migrated_database(postgres: Postgres, service: str) -> Iterator[str]:
    """A fresh database of the service's own, migrated to head; dropped after."""
    name = f"{service}_t{uuid.uuid4().hex[:8]}"
    url = postgres.ensure_service_database(name, f"{service}-test-password")
    upgrade(service, url)
    try:
        yield url
    finally:
        postgres.drop_database(name)


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

    async def change_customer_access(
        self, subscriptions: list[Subscription], *, tenant_id: str, customer_id: str, to_state: int
    ) -> None:
        """As identity's customer.access_changed lands, through the handler the
        service subscribes (a service that forgot the chassis copy fails here)."""
        (sub,) = [s for s in subscriptions if s.subject == SUBJECT_ACCESS_CHANGED]
        event = Event(
            id=str(uuid.uuid4()),
            type=sub.subject,
            tenant_id=tenant_id,
            occurred_at=datetime.now(UTC),
            aggregate_type="customer",
            aggregate_id=customer_id,
            payload=identity_events.CustomerAccessChanged(
                customer_id=customer_id, to_state=to_state
            ),
        )
        async with UnitOfWork(self.sessions, tenant_id) as uow:
            await sub.handler(uow, event)
            await uow.commit()

    async def sql(self, tenant_id: str, statement: str, **params: Any) -> list[Any]:
        """Runs SQL as the service's own role, inside the tenant (row-level security on)."""
        async with UnitOfWork(self.sessions, tenant_id) as uow:
            result = await uow.session.execute(text(statement), params)
            rows = list(result.all()) if result.returns_rows else []
            await uow.commit()
        return rows

    async def events(self, tenant_id: str, subject: str, payload_type: type[Message]) -> list:
        """Typed payloads of the tenant's outbox rows with this subject, oldest first."""
        async with UnitOfWork(self.sessions, None) as uow:
            rows = (
                await uow.session.execute(
                    select(outbox_message.c.payload)
                    .where(
                        outbox_message.c.tenant_id == uuid.UUID(tenant_id),
                        outbox_message.c.subject == subject,
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
