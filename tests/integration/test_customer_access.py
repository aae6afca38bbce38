"""The chassis copy of identity's customer access on real PostgreSQL: the
table its migration helper creates, the subscriptions recording state
(idempotent, newest wins, out of order), row-level security, and the portal
check every service makes."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from portal.identity.v1 import events_pb2 as identity_events
from portal.identity.v1.identity_pb2 import (
    ACCESS_STATE_ACTIVE,
    ACCESS_STATE_ARCHIVED,
    ACCESS_STATE_DELETED,
    ACCESS_STATE_PURGED,
)
from sqlalchemy import text

from services.chassis.access import (
    access_state,
    access_subscriptions,
    record_access,
    require_open_portal,
)
from services.chassis.auth import Principal
from services.chassis.consumer import EventConsumer
from services.chassis.db import UnitOfWork
from services.chassis.errors import PermissionDenied
from services.chassis.events import build_envelope
from services.chassis.migrations import create_customer_access_table

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture
async def db(scratch_db):
    """The scratch database with the table as a service's migration creates it."""

    def migrate(conn) -> None:
        with Operations.context(MigrationContext.configure(conn)):
            create_customer_access_table()

    async with scratch_db.engine.begin() as conn:
        await conn.run_sync(migrate)
    return scratch_db


def consumer(db) -> EventConsumer:
    # process() is the consumer's whole path for one message, minus JetStream.
    return EventConsumer(
        consumer="svc", sessions=db.sessions, js=None, subscriptions=access_subscriptions()
    )


async def deliver(
    db,
    tenant: str,
    payload: identity_events.CustomerAccessChanged | identity_events.CustomerPurged,
    at: datetime,
    event_id: str | None = None,
) -> bool:
    envelope = build_envelope(
        tenant_id=tenant,
        aggregate_type="customer",
        aggregate_id=payload.customer_id,
        payload=payload,
        event_id=event_id,
        occurred_at=at,
    )
    return await consumer(db).process(envelope.SerializeToString(), {})


def changed(customer: str, to: int) -> identity_events.CustomerAccessChanged:
    return identity_events.CustomerAccessChanged(customer_id=customer, to_state=to)


async def state_of(db, tenant: str | None, customer: str) -> int | None:
    async with UnitOfWork(db.sessions, tenant) as uow:
        return await access_state(uow, customer)


async def test_the_newest_change_wins_whatever_order_the_events_arrive_in(db) -> None:
    tenant, customer = str(uuid.uuid4()), str(uuid.uuid4())
    deleted_at, archived_at = T0 + timedelta(minutes=5), T0
    await deliver(db, tenant, changed(customer, ACCESS_STATE_DELETED), deleted_at)
    # The archive happened first but arrives late: it must not reopen the portal.
    await deliver(db, tenant, changed(customer, ACCESS_STATE_ARCHIVED), archived_at)
    assert await state_of(db, tenant, customer) == ACCESS_STATE_DELETED
    # The same change under a new event id (a replay that slipped past the inbox) changes nothing.
    await deliver(db, tenant, changed(customer, ACCESS_STATE_ACTIVE), deleted_at)
    assert await state_of(db, tenant, customer) == ACCESS_STATE_DELETED
    purge = identity_events.CustomerPurged(customer_id=customer)
    await deliver(db, tenant, purge, deleted_at + timedelta(days=30))
    assert await state_of(db, tenant, customer) == ACCESS_STATE_PURGED


async def test_a_redelivered_event_is_handled_once(db) -> None:
    tenant, customer, event_id = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    event = changed(customer, ACCESS_STATE_ARCHIVED)
    assert await deliver(db, tenant, event, T0, event_id)
    assert not await deliver(db, tenant, event, T0, event_id)
    async with UnitOfWork(db.sessions, tenant) as uow:
        rows = await uow.session.scalar(text("SELECT count(*) FROM customer_access"))
    assert rows == 1
    assert await state_of(db, tenant, customer) == ACCESS_STATE_ARCHIVED


async def test_two_first_events_racing_for_a_new_customer_keep_the_newest(db) -> None:
    """No row to lock yet: the upsert's own condition must settle it."""
    tenant, customer = str(uuid.uuid4()), str(uuid.uuid4())

    async def record(state: int, at: datetime, pause: float) -> None:
        async with UnitOfWork(db.sessions, tenant) as uow:
            await record_access(
                uow, tenant_id=tenant, customer_id=customer, state=state, changed_at=at
            )
            await asyncio.sleep(pause)  # hold the transaction so the other one collides
            await uow.commit()

    await asyncio.gather(
        record(ACCESS_STATE_DELETED, T0 + timedelta(seconds=1), 0.3),
        record(ACCESS_STATE_ARCHIVED, T0, 0.0),
    )
    assert await state_of(db, tenant, customer) == ACCESS_STATE_DELETED


async def test_each_tenant_sees_only_its_own_customers_access(db) -> None:
    tenant, other, customer = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    await deliver(db, tenant, changed(customer, ACCESS_STATE_DELETED), T0)
    assert await state_of(db, other, customer) is None
    assert await state_of(db, None, customer) is None
    async with UnitOfWork(db.sessions, None) as uow:
        forced, owner_is_superuser, index = (
            await uow.session.execute(
                text(
                    "SELECT c.relforcerowsecurity, r.rolsuper, "
                    "(SELECT indexname FROM pg_indexes WHERE tablename = 'customer_access' "
                    " AND indexname <> 'pk_customer_access') "
                    "FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
                    "WHERE c.relname = 'customer_access'"
                )
            )
        ).one()
    # The same names as the tables services created before the chassis held it.
    assert (forced, owner_is_superuser, index) == (True, False, "ix_customer_access_tenant_id")
    # Writing another tenant's row from this tenant's transaction is refused too.
    with pytest.raises(Exception, match="row-level security"):
        async with UnitOfWork(db.sessions, other) as uow:
            await record_access(
                uow, tenant_id=tenant, customer_id=str(uuid.uuid4()), state=1, changed_at=T0
            )


async def test_a_closed_portal_refuses_clients_and_an_archived_one_refuses_their_changes(
    db,
) -> None:
    tenant, customer = str(uuid.uuid4()), str(uuid.uuid4())
    contact = Principal(
        kind="client",
        subject="c",
        tenant_id=tenant,
        customer_id=customer,
        roles=frozenset({"approver"}),
    )
    staff = Principal(kind="staff", subject="s", tenant_id=tenant, roles=frozenset({"owner"}))

    async def check(who: Principal, *, write: bool = False) -> None:
        async with UnitOfWork(db.sessions, tenant) as uow:
            await require_open_portal(uow, who, write=write)

    await check(contact, write=True)  # never changed: active
    await deliver(db, tenant, changed(customer, ACCESS_STATE_ARCHIVED), T0)
    await check(contact)
    with pytest.raises(PermissionDenied, match="read-only"):
        await check(contact, write=True)
    await deliver(
        db,
        tenant,
        changed(customer, ACCESS_STATE_DELETED),
        T0 + timedelta(1),
    )
    with pytest.raises(PermissionDenied, match="access to this portal has been closed"):
        await check(contact)
    await check(staff, write=True)  # staff keep working on a closed customer's records
