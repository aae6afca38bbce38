"""Customer access, once for the suite: each service keeps its own copy of
identity's access state and refuses a closed portal itself, whatever
principal a gateway hands it (archived = read-only, deleted or purged = closed).

A service declares it in three places:

- its migration calls `create_customer_access_table()` (services/chassis/migrations.py);
- its handlers list includes `access_subscriptions()`;
- its use cases call `await require_open_portal(uow, principal)` before a
  client reads (`write=True` before a client changes something); `uow` may be
  a `ReadUnit`. A hot read can instead select `portal_state_column(principal)`
  with its rows and call `check_portal(principal, state)`: no extra round trip.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from portal.identity.v1 import events_pb2 as identity_events
from portal.identity.v1.identity_pb2 import (
    ACCESS_STATE_ARCHIVED,
    ACCESS_STATE_DELETED,
    ACCESS_STATE_PURGED,
)
from sqlalchemy import Column, DateTime, Integer, MetaData, Table, Uuid, bindparam, literal, select
from sqlalchemy.dialects.postgresql import insert

from services.chassis.auth import Principal
from services.chassis.consumer import Subscription
from services.chassis.db import NAMING, ReadUnit, UnitOfWork
from services.chassis.errors import PermissionDenied
from services.chassis.events import Event
from services.chassis.validation import parse_uuid

CLOSED_STATES = frozenset({ACCESS_STATE_DELETED, ACCESS_STATE_PURGED})
PORTAL_CLOSED = "access to this portal has been closed"

# Its own metadata, not chassis_metadata: the services that keep a copy opt in
# (create_chassis_tables() in every first migration must not create it).
access_metadata = MetaData(naming_convention=NAMING)

customer_access = Table(
    "customer_access",
    access_metadata,
    Column("customer_id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False, index=True),
    Column("state", Integer, nullable=False),  # identity.v1.AccessState
    # The event's time: an older event arriving late must not undo a newer one.
    Column("changed_at", DateTime(timezone=True), nullable=False),
)


def portal_open(state: int | None) -> bool:
    """A client may look unless their customer is deleted or purged. No record
    means identity never changed the customer's access: active."""
    return state not in CLOSED_STATES


def portal_writable(state: int | None) -> bool:
    """An archived customer's portal is open for reading only."""
    return portal_open(state) and state != ACCESS_STATE_ARCHIVED


def supersedes(incoming: datetime, stored: datetime | None) -> bool:
    """The newest change wins; the same change again (a redelivery) changes nothing."""
    return stored is None or incoming > stored


async def record_access(
    uow: UnitOfWork, *, tenant_id: str, customer_id: str, state: int, changed_at: datetime
) -> None:
    """Keep the customer's state if this change is newer than the one we hold."""
    cid = uuid.UUID(customer_id)
    stored = await uow.session.scalar(
        select(customer_access.c.changed_at)
        .where(customer_access.c.customer_id == cid)
        .with_for_update()
    )
    if not supersedes(changed_at, stored):
        return
    # With no row to lock, a concurrent first event may insert between our read
    # and this write: the upsert's condition applies the same rule to it.
    await uow.session.execute(
        insert(customer_access)
        .values(customer_id=cid, tenant_id=uuid.UUID(tenant_id), state=state, changed_at=changed_at)
        .on_conflict_do_update(
            index_elements=[customer_access.c.customer_id],
            set_={"state": state, "changed_at": changed_at},
            where=customer_access.c.changed_at < changed_at,
        )
    )


async def on_customer_access_changed(
    uow: UnitOfWork, event: Event[identity_events.CustomerAccessChanged]
) -> None:
    await record_access(
        uow,
        tenant_id=event.tenant_id,
        customer_id=event.payload.customer_id,
        state=event.payload.to_state,
        changed_at=event.occurred_at,
    )


async def on_customer_purged(uow: UnitOfWork, event: Event[identity_events.CustomerPurged]) -> None:
    await record_access(
        uow,
        tenant_id=event.tenant_id,
        customer_id=event.payload.customer_id,
        state=ACCESS_STATE_PURGED,
        changed_at=event.occurred_at,
    )


def access_subscriptions() -> list[Subscription]:
    """Identity's access events -> this service's copy; add to the service's handlers."""
    return [
        Subscription(identity_events.CustomerAccessChanged, on_customer_access_changed),
        Subscription(identity_events.CustomerPurged, on_customer_purged),
    ]


def _customer(customer_id: str | uuid.UUID) -> uuid.UUID:
    if isinstance(customer_id, uuid.UUID):
        return customer_id
    return parse_uuid(customer_id, field="customer_id")


async def access_state(unit: UnitOfWork | ReadUnit, customer_id: str | uuid.UUID) -> int | None:
    """The state we hold for the customer; None if identity never changed it."""
    query = select(customer_access.c.state).where(
        customer_access.c.customer_id == _customer(customer_id)
    )
    if isinstance(unit, ReadUnit):
        return (await unit.execute(query)).scalar()
    return await unit.session.scalar(query)


def portal_state_column(for_client: bool) -> Any:
    """The caller's portal state as a column of a hot read's own query (a
    scalar subquery, NULL when none is held), so the check costs no round trip
    of its own; the customer is the bound parameter `portal_customer`
    (`portal_state_params`). For staff and services a constant NULL: they pass.
    Build the statement once per kind of caller and pass the parameters."""
    if not for_client:
        return literal(None, Integer).label("portal_state")
    return (
        select(customer_access.c.state)
        .where(customer_access.c.customer_id == bindparam("portal_customer", type_=Uuid))
        .scalar_subquery()
        .label("portal_state")
    )


def portal_state_params(principal: Principal) -> dict[str, uuid.UUID]:
    if not principal.is_client:
        return {}
    return {"portal_customer": _customer(principal.customer_id or "")}


def check_portal(principal: Principal, state: int | None, *, write: bool = False) -> None:
    """The rule of `require_open_portal`, on a state already read."""
    if not principal.is_client:
        return
    if not portal_open(state):
        raise PermissionDenied(PORTAL_CLOSED)
    if write and not portal_writable(state):
        raise PermissionDenied(Principal.READ_ONLY_MESSAGE)


async def require_open_portal(
    uow: UnitOfWork | ReadUnit, principal: Principal, *, write: bool = False
) -> None:
    """Refuse a client whose customer's portal is closed (and, for a change, one
    whose portal is read-only), by our own copy of the state. Staff and
    services pass: they keep working on a closed customer's records."""
    if not principal.is_client:
        return
    check_portal(principal, await access_state(uow, principal.customer_id or ""), write=write)
