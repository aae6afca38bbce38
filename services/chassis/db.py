"""Database access: one async engine per service, a unit of work per use case.

The unit of work owns the transaction. It scopes it to a tenant (code passes
tenant_id explicitly, and PostgreSQL row-level security checks the same value
from the transaction-local `app.tenant_id` setting), and collects events into
the outbox in the same transaction as the change. Nothing else commits.

Hot reads (a request's session, an API token, a list) use `ReadUnit` instead:
the same tenant scoping and RLS, SQLAlchemy Core on a bare connection, no ORM
session, and one round trip per query, nothing around it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from types import TracebackType
from typing import Any

from google.protobuf.message import Message
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
    event,
    exc,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.engine import Result
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.sql import Executable, Select

from services.chassis import read_tenant
from services.chassis.events import EVENT_TYPE_HEADER, TENANT_HEADER, build_envelope, subject_for
from services.chassis.read_plans import plan_for
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
    # The order rows were written in, which the relay keeps; not created_at, the
    # transaction's start: tied within it, earlier for one that began first but wrote last.
    Column("seq", BigInteger, Identity(always=True), nullable=False),
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


def outbox_row(
    tenant_id: str | None,
    payload: Message,
    *,
    aggregate_type: str,
    aggregate_id: str,
    occurred_at: datetime | None = None,
) -> dict:
    """The outbox row that publishes `payload` on the subject its type declares,
    with the writer's trace context: `UnitOfWork.publish`'s, and a data
    migration's that announces existing state."""
    subject = subject_for(type(payload))
    envelope = build_envelope(
        tenant_id=tenant_id,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        payload=payload,
        occurred_at=occurred_at,
    )
    headers = inject_headers({EVENT_TYPE_HEADER: subject})
    if tenant_id:
        headers[TENANT_HEADER] = str(tenant_id)
    return {
        "id": uuid.UUID(envelope.id),
        "tenant_id": uuid.UUID(str(tenant_id)) if tenant_id else None,
        "subject": subject,
        "payload": envelope.SerializeToString(),
        "headers": headers,
    }


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
    """Up to 2 x pool_size connections, each kept once opened.

    Not pool_size kept plus as many "overflow" ones: under load an overflow
    connection was closed on every checkin and opened again on the next
    checkout (TCP, TLS negotiation, auth and asyncpg's type introspection:
    several per cent of a service's CPU under the bench). A request beyond the
    ceiling waits for a connection, as it did before at the same ceiling.
    No pre-ping: it costs a round trip on every checkout; recycle instead,
    and hand out no connection the driver already knows is closed."""
    engine = create_async_engine(url, pool_size=2 * pool_size, max_overflow=0, pool_recycle=1800)
    event.listen(engine.sync_engine.pool, "checkout", _refuse_closed)
    return engine


def _refuse_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """A connection PostgreSQL ended (a restart, a failover, pg_terminate_backend)
    is closed in asyncpg once the loop sees the socket close, free to check.
    DisconnectionError makes the pool discard it and check out another
    (SQLAlchemy's "pessimistic disconnect handling"). Without it, the reads that
    talk to asyncpg directly (ReadUnit's plans, the webhook batch) never told
    SQLAlchemy, and the dead connection failed every read that drew it, for good."""
    if dbapi_connection.driver_connection.is_closed():
        raise exc.DisconnectionError("the connection was closed by the server")


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
        self._wake_relay = False
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
        wake_relay: bool = True,
    ) -> str:
        """Add an event to the outbox, in this transaction, on the subject its
        type declares. Returns the event id.

        `wake_relay=False` leaves it for the relay's next poll (its fallback
        interval, 1 s, or sooner if another commit wakes it): for an event whose
        consequences must not start while the request that wrote it is still
        answering, so their cost cannot show in that answer's timing."""
        row = outbox_row(
            self.tenant_id,
            payload,
            aggregate_type=aggregate_type,
            aggregate_id=aggregate_id,
            occurred_at=occurred_at,
        )
        self._outbox_rows.append(row)
        self._wake_relay = self._wake_relay or wake_relay
        return str(row["id"])

    async def flush(self) -> None:
        await self.session.flush()

    async def commit(self) -> None:
        if self._outbox_rows:
            await self.session.execute(outbox_message.insert(), self._outbox_rows)
            if self._wake_relay:
                # Delivered to LISTENers only if the transaction commits: wakes the relay.
                await self.session.execute(text(f"NOTIFY {OUTBOX_CHANNEL}"))
            self._outbox_rows, self._wake_relay = [], False
        await self.session.commit()
        self.committed = True


class ReadUnit:
    """A lean transaction for hot reads: SQLAlchemy Core on one pooled connection.

    Use it where a use case only reads (or writes bookkeeping that publishes no
    event, such as a minute-grained `last_seen_at`), and is called on every
    request; use `UnitOfWork` for everything else::

        async with ReadUnit(sessions, tenant_id) as read:
            rows = (await read.execute(select(project.c.id, project.c.name)
                                       .where(project.c.customer_id == cid))).all()
        # the transaction has ended (rolled back) here

    What it costs, against a UnitOfWork read (6 round trips: BEGIN, set_config,
    the query, ROLLBACK, plus the ORM's identity map and unit-of-work machinery):

    - the tenant is a setting of the connection's session, remembered per
      pooled connection (read_tenant.py): a read of the tenant the connection
      already holds sends nothing before its query, another tenant costs one
      `SET` first; the tenant is a parsed UUID, so the literal cannot carry
      anything else;
    - each `execute` is one round trip (asyncpg prepared statements); a SELECT
      run a second time skips SQLAlchemy's execution machinery (read_plans.py);
    - a plain SELECT is its own transaction (autocommit; READ COMMITTED gives
      each statement its snapshot inside a block too), so nothing ends it;
      the first statement that is not (a write, `FOR UPDATE`, textual SQL)
      opens a transaction with BEGIN, ended by ROLLBACK, or COMMIT after
      `commit()`.

    Guarantees are the UnitOfWork's: row-level security sees exactly this
    unit's tenant, and every other user of the pool (a unit of work, a job,
    `engine.connect()`) finds no tenant on its connection (a pool checkout
    listener RESETs one a read left: read_tenant.py). If the transaction
    cannot be ended cleanly (an error or a cancellation while ending it), the
    connection is invalidated instead
    of going back to the pool. Rows come back as SQLAlchemy `Row`s (attribute
    access by column name or label), not ORM objects: select columns (or
    `Model.__table__`), not entities. Tables from the services' declarative
    models work as they are (`select(Project.id, Project.name)`).

    `sessions`: the service's `async_sessionmaker` (its engine is used) or the
    engine itself. PostgreSQL through asyncpg only.
    """

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession] | AsyncEngine, tenant_id: str | None
    ) -> None:
        engine = sessions if isinstance(sessions, AsyncEngine) else sessions.kw["bind"]
        if not isinstance(engine, AsyncEngine) or engine.dialect.driver != "asyncpg":
            raise TypeError(
                "ReadUnit needs an asyncpg AsyncEngine (or a sessionmaker bound to one)"
            )
        self._engine = engine
        self.tenant_id = tenant_id
        self._commit = False

    async def __aenter__(self) -> ReadUnit:
        # Validate before taking a connection: only a UUID reaches the SQL text.
        tenant = uuid.UUID(str(self.tenant_id)) if self.tenant_id else None
        self._began = False
        # A SELECT is its own transaction, and a write opens one (execute).
        self.connection: AsyncConnection = await read_tenant.checkout(self._engine)
        self._autocommit = False
        try:
            # Just checked out, so valid: no greenlet hop (get_raw_connection's).
            sync = self.connection.sync_connection
            driver = sync.connection.driver_connection if sync is not None else None
            if driver is None:
                raise RuntimeError("the pooled connection has no driver connection")
            self._driver = driver
            script = read_tenant.tenant_script(self.connection, driver, tenant)
            if driver.is_in_transaction():  # never expected; never inherit one
                script = "ROLLBACK; " + script
            if script:
                await driver.execute(script)
            read_tenant.remember(self.connection, driver, tenant)
        except BaseException:
            await self.connection.invalidate()
            await self.connection.close()
            raise
        return self

    async def execute(self, statement: Executable, parameters: dict | None = None) -> Result:
        if not self._began and not _plain_select(statement):
            # A write (or a locking or textual statement): from here on one
            # transaction, ended by COMMIT after commit(), else ROLLBACK.
            await self._driver.execute("BEGIN")
            self._began = True
        # A SELECT run before goes straight to asyncpg (read_plans.py).
        plan = plan_for(statement, self._engine.dialect)
        if plan is not None:
            return await plan.run(self._driver, parameters)
        if not self._autocommit:
            # Only SQLAlchemy's own path needs it (its asyncpg adapter then
            # issues no BEGIN of its own), so a read that runs plans alone
            # neither sets it nor has it reset at checkin.
            await self.connection.execution_options(isolation_level="AUTOCOMMIT")
            self._autocommit = True
        return await self.connection.execute(statement, parameters)

    def commit(self) -> None:
        """End with COMMIT instead of ROLLBACK: for bookkeeping writes made here
        (they publish no event; anything that does belongs in a UnitOfWork)."""
        self._commit = True

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._began or self._driver.is_in_transaction():
                await self._driver.execute("COMMIT" if self._commit and exc is None else "ROLLBACK")
            elif exc is not None and not isinstance(exc, Exception):
                # Cancelled during a statement: the connection must answer
                # before it goes back to the pool.
                await self._driver.execute(";")
        except BaseException:
            # A connection in an unknown transaction state must not be reused.
            await self.connection.invalidate()
            if exc is None:
                raise  # otherwise the block's own error is the one to see
        finally:
            await self.connection.close()


def _plain_select(statement: Executable) -> bool:
    """A SELECT that takes no lock: it needs no transaction block of its own."""
    return isinstance(statement, Select) and statement._for_update_arg is None
