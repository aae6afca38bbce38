"""Our copy of each customer's portal access, from identity's events."""

from __future__ import annotations

import uuid
from typing import Any

from portal.identity.v1 import events_pb2 as identity_events

from services.chassis.db import UnitOfWork
from services.chassis.events import Event
from services.projects import domain
from services.projects.models import CustomerAccess


async def on_customer_access_changed(
    uow: UnitOfWork, event: Event[identity_events.CustomerAccessChanged]
) -> None:
    await _record_access(uow, event, event.payload.customer_id, event.payload.to_state)


async def on_customer_purged(uow: UnitOfWork, event: Event[identity_events.CustomerPurged]) -> None:
    await _record_access(uow, event, event.payload.customer_id, domain.ACCESS_PURGED)


async def _record_access(uow: UnitOfWork, event: Event[Any], customer_id: str, state: int) -> None:
    cid = uuid.UUID(customer_id)
    row = await uow.session.get(CustomerAccess, cid, with_for_update=True)
    if row is None:
        uow.session.add(
            CustomerAccess(
                customer_id=cid,
                tenant_id=uuid.UUID(event.tenant_id),
                state=state,
                changed_at=event.occurred_at,
            )
        )
    elif domain.newer(event.occurred_at, row.changed_at):
        row.state, row.changed_at = state, event.occurred_at
