"""Database access: one async engine per service, a unit of work per use case.

The unit of work owns the transaction. It scopes it to a tenant (code passes
tenant_id explicitly, and PostgreSQL row-level security checks the same value
from the transaction-local `app.tenant_id` setting), and collects events into
the outbox in the same transaction as the change. Nothing else commits.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from types import TracebackType

from google.protobuf.message import Message
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from services.chassis.events import EVENT_TYPE_HEADER, TENANT_HEADER, build_envelope, subject_for
from services.chassis.telemetry import inject_headers

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
OUTBOX_CHANNEL = "portal_outbox"

# Tables every service has, created by its first migration (see migration_helpers).
chassis_metadata = MetaData(naming_convention=NAMING)

outbox_message = Table(
    "outbox_message",
    chassis_metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=True),
    Column("subject", String(200), nullable=False),
    Column("payload", LargeBinary, nullable=False),  # serialized EventEnvelope
    Column("headers", JSONB, nullable=False),  # traceparent etc. of the writer
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("published_at", DateTime(timezone=True), nullable=True, index=True),
    Column("attempts", Integer, nullable=False, server_default="0"),
)

processed_event = Table(
    "processed_event",
    chassis_metadata,
    Column("consumer", String(200), primary_key=True),
    Column("event_id", Uuid, primary_key=True),
    Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

dead_letter = Table(
    "dead_letter",
    chassis_metadata,
    Column("id", Uuid, primary_key=True),
    Column("consumer", String(200), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("event_id", Uuid, nullable=False),
    Column("tenant_id", Uuid, nullable=True),
    Column("payload", LargeBinary, nullable=False),
    Column("headers", JSONB, nullable=False),
    Column("error", Text, nullable=False),
    Column("deliveries", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("replayed_at", DateTime(timezone=True), nullable=True),
)

# Human numbers per tenant and scope (PRJ-0001, INV-1247, CO-003 per project).
sequence_counter = Table(
    "sequence_counter",
    chassis_metadata,
    Column("tenant_id", Uuid, primary_key=True),
    Column("scope", String(200), primary_key=True),
    Column("value", Integer, nullable=False),
)


async def next_number(session: AsyncSession, tenant_id: str, scope: str) -> int:
    """The next number in a tenant's sequence; gap-free because it is in the caller's tx."""
    stmt = (
        insert(sequence_counter)
        .values(tenant_id=uuid.UUID(str(tenant_id)), scope=scope, value=1)
        .on_conflict_do_update(
            index_elements=[sequence_counter.c.tenant_id, sequence_counter.c.scope],
            set_={"value": sequence_counter.c.value + 1},
        )
        .returning(sequence_counter.c.value)
    )
    return (await session.execute(stmt)).scalar_one()


def make_engine(url: str, *, pool_size: int = 5) -> AsyncEngine:
    # No pre-ping: it costs a round trip on every checkout; recycle instead.
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


class UnitOfWork:
    """`async with UnitOfWork(sessions, tenant_id) as uow: ...; await uow.commit()`.

    Leaving the block without commit() rolls back, events included.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], tenant_id: str | None) -> None:
        self._sessions = sessions
        self.tenant_id = tenant_id
        self._outbox_rows: list[dict] = []
        self.committed = False

    async def __aenter__(self) -> UnitOfWork:
        self.session = self._sessions()
        await self.session.begin()
        if self.tenant_id:
            await self.session.execute(
                text("SELECT set_config('app.tenant_id', :tenant, true)"),
                {"tenant": str(self.tenant_id)},
            )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if not self.committed:
                # Reads end here too: detach what was loaded first, so it stays
                # readable instead of being expired by the rollback.
                if exc is None:
                    self.session.expunge_all()
                await self.session.rollback()
        finally:
            await self.session.close()

    def publish(
        self,
        payload: Message,
        *,
        aggregate_type: str,
        aggregate_id: str,
        occurred_at: datetime | None = None,
    ) -> str:
        """Add an event to the outbox, in this transaction, on the subject its
        type declares. Returns the event id."""
        subject = subject_for(type(payload))
        envelope = build_envelope(
            tenant_id=self.tenant_id,
            aggregate_type=aggregate_type,
            aggregate_id=aggregate_id,
            payload=payload,
            occurred_at=occurred_at,
        )
        headers = inject_headers({EVENT_TYPE_HEADER: subject})
        if self.tenant_id:
            headers[TENANT_HEADER] = str(self.tenant_id)
        self._outbox_rows.append(
            {
                "id": uuid.UUID(envelope.id),
                "tenant_id": uuid.UUID(str(self.tenant_id)) if self.tenant_id else None,
                "subject": subject,
                "payload": envelope.SerializeToString(),
                "headers": headers,
            }
        )
        return envelope.id

    async def flush(self) -> None:
        await self.session.flush()

    async def commit(self) -> None:
        if self._outbox_rows:
            await self.session.execute(outbox_message.insert(), self._outbox_rows)
            # Delivered to LISTENers only if the transaction commits: wakes the relay.
            await self.session.execute(text(f"NOTIFY {OUTBOX_CHANNEL}"))
            self._outbox_rows = []
        await self.session.commit()
        self.committed = True
