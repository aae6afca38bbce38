"""The chassis copy of each project's audience on real PostgreSQL: the table
its migration helper creates, the subscriptions recording it (newest wins
whatever order projects' events arrive in, a redelivery handled once, the
created event only filling a gap), and the rule every service applies to a
client: a project that lists them or lists no one, of their own customer."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from google.protobuf.message import Message
from portal.projects.v1 import events_pb2 as project_events
from sqlalchemy import Column, MetaData, Table, Uuid, select, text

from services.chassis.audience import (
    audience_of,
    audience_subscriptions,
    project_visible,
    require_project_visible,
)
from services.chassis.auth import Principal
from services.chassis.consumer import EventConsumer
from services.chassis.db import UnitOfWork
from services.chassis.errors import NotFound
from services.chassis.events import build_envelope
from services.chassis.migrations import create_project_audience_table

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
# A service's own table of per-project records, filtered by the rule in one query.
records = Table("record", MetaData(), Column("id", Uuid), Column("project_id", Uuid))


@pytest.fixture
async def db(scratch_db):
    """The scratch database with the table as a service's migration creates it."""

    def migrate(conn) -> None:
        with Operations.context(MigrationContext.configure(conn)):
            create_project_audience_table()

    async with scratch_db.engine.begin() as conn:
        await conn.run_sync(migrate)
        await conn.execute(text("CREATE TABLE record (id uuid, project_id uuid)"))
    return scratch_db


class Job:
    """One project of one customer, and the people who might look at it."""

    def __init__(self) -> None:
        self.tenant, self.project, self.customer = (str(uuid.uuid4()) for _ in range(3))
        self.jane, self.tom = str(uuid.uuid4()), str(uuid.uuid4())

    def contact(self, subject: str, customer: str | None = None, **kw) -> Principal:
        return Principal(
            kind="client",
            subject=subject,
            tenant_id=self.tenant,
            customer_id=customer or self.customer,
            roles=frozenset({"viewer"}),
            **kw,
        )

    def created(self, *listed: str) -> project_events.ProjectCreated:
        return project_events.ProjectCreated(
            project_id=self.project, customer_id=self.customer, visible_contact_ids=listed
        )

    def changed(self, *listed: str) -> project_events.ProjectAudienceChanged:
        return project_events.ProjectAudienceChanged(
            project_id=self.project, customer_id=self.customer, visible_contact_ids=listed
        )


async def deliver(db, job: Job, payload: Message, at: datetime, event_id: str = "") -> bool:
    """The consumer's whole path for one message, minus JetStream."""
    envelope = build_envelope(
        tenant_id=job.tenant,
        aggregate_type="project",
        aggregate_id=job.project,
        payload=payload,
        event_id=event_id or None,
        occurred_at=at,
    )
    consumer = EventConsumer(
        consumer="svc", sessions=db.sessions, js=None, subscriptions=audience_subscriptions()
    )
    return await consumer.process(envelope.SerializeToString(), {})


async def sees(db, job: Job, who: Principal) -> bool:
    async with UnitOfWork(db.sessions, job.tenant) as uow:
        try:
            await require_project_visible(uow, who, job.project)
        except NotFound as exc:
            assert (str(exc), exc.field) == ("no such project", "project_id")
            return False
    return True


async def listed_for(db, job: Job, who: Principal) -> list[uuid.UUID]:
    async with UnitOfWork(db.sessions, job.tenant) as uow:
        return list(
            await uow.session.scalars(
                select(records.c.id).where(project_visible(who, records.c.project_id))
            )
        )


async def test_a_contact_the_project_leaves_out_sees_nothing_of_it_until_listed_again(db) -> None:
    job = Job()
    jane, tom = job.contact(job.jane), job.contact(job.tom)
    await deliver(db, job, job.created(), T0)
    assert await sees(db, job, jane) and await sees(db, job, tom)  # lists no one: everyone
    await deliver(db, job, job.changed(job.jane), T0 + timedelta(minutes=1))
    assert await sees(db, job, jane) and not await sees(db, job, tom)
    await deliver(db, job, job.changed(), T0 + timedelta(minutes=2))
    assert await sees(db, job, tom)


async def test_the_newest_list_wins_whatever_order_the_events_arrive_in(db) -> None:
    job = Job()
    tom = job.contact(job.tom)
    # Three consumers, three subjects: the change can land before the creation.
    await deliver(db, job, job.changed(job.jane), T0 + timedelta(minutes=5))
    await deliver(db, job, job.created(), T0)
    assert not await sees(db, job, tom)
    # An older change arriving late does not undo the newer one.
    await deliver(db, job, job.changed(), T0 + timedelta(minutes=1))
    assert not await sees(db, job, tom)
    async with UnitOfWork(db.sessions, job.tenant) as uow:
        held = await audience_of(uow, job.project)
    assert held is not None and held.visible_contact_ids == (job.jane,)


async def test_a_redelivered_event_is_handled_once_and_a_repeated_creation_changes_nothing(
    db,
) -> None:
    job = Job()
    event_id = str(uuid.uuid4())
    assert await deliver(db, job, job.changed(job.jane), T0, event_id)
    assert not await deliver(db, job, job.changed(job.jane), T0, event_id)
    # The created event (first fact) under a new id and a later time fills no gap here.
    await deliver(db, job, job.created(), T0 + timedelta(hours=1))
    assert not await sees(db, job, job.contact(job.tom))
    async with UnitOfWork(db.sessions, job.tenant) as uow:
        rows = await uow.session.scalar(text("SELECT count(*) FROM project_audience"))
    assert rows == 1


async def test_another_customer_an_unknown_project_and_view_as_follow_the_projects_rule(
    db,
) -> None:
    job = Job()
    await deliver(db, job, job.created(job.jane), T0)
    staff = Principal(kind="staff", subject="s", tenant_id=job.tenant, roles=frozenset({"owner"}))
    viewing_as = job.contact(str(uuid.uuid4()), read_only=True, viewing_as=True)
    # Staff viewing as the client see what the customer's contacts together see.
    assert await sees(db, job, staff) and await sees(db, job, viewing_as)
    assert not await sees(db, job, job.contact(job.jane, customer=str(uuid.uuid4())))
    # An archived customer's unlisted contact is read-only too, but not viewing as.
    assert not await sees(db, job, job.contact(job.tom, read_only=True))
    unknown = Job()
    unknown.tenant = job.tenant
    assert not await sees(db, unknown, unknown.contact(unknown.jane))


async def test_a_list_query_keeps_only_records_of_projects_the_caller_may_see(db) -> None:
    job, other = Job(), Job()
    other.tenant, other.customer = job.tenant, job.customer
    await deliver(db, job, job.created(job.jane), T0)
    await deliver(db, other, other.created(), T0)
    mine, theirs, orphan = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with UnitOfWork(db.sessions, job.tenant) as uow:
        await uow.session.execute(
            records.insert(),
            [
                {"id": mine, "project_id": uuid.UUID(job.project)},
                {"id": theirs, "project_id": uuid.UUID(other.project)},
                {"id": orphan, "project_id": uuid.uuid4()},  # a project we never heard of
            ],
        )
        await uow.commit()
    assert set(await listed_for(db, job, job.contact(job.jane))) == {mine, theirs}
    assert await listed_for(db, job, job.contact(job.tom)) == [theirs]
    staff = Principal(kind="staff", subject="s", tenant_id=job.tenant, roles=frozenset({"owner"}))
    assert len(await listed_for(db, job, staff)) == 3


async def test_each_tenant_sees_only_its_own_projects_audience(db) -> None:
    job = Job()
    await deliver(db, job, job.created(), T0)
    async with UnitOfWork(db.sessions, str(uuid.uuid4())) as uow:
        assert await audience_of(uow, job.project) is None
    async with UnitOfWork(db.sessions, None) as uow:
        forced = await uow.session.scalar(
            text("SELECT relforcerowsecurity FROM pg_class WHERE relname = 'project_audience'")
        )
    assert forced is True
