"""Alembic, per service: each service keeps its scripts in its own
`migrations/` folder and its own version table in its own database.

A service's migrations/env.py is two lines: import and call `run_env()`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command, context, op
from alembic.config import Config
from sqlalchemy import pool, text
from sqlalchemy.ext.asyncio import create_async_engine

from services.chassis.access import customer_access
from services.chassis.audience import project_audience
from services.chassis.db import chassis_metadata

SERVICES_DIR = Path(__file__).resolve().parent.parent


def alembic_config(service: str, database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SERVICES_DIR / service / "migrations"))
    cfg.set_main_option("version_table", f"alembic_version_{service}")
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(service: str, database_url: str, revision: str = "head") -> None:
    """Migrate a service's database; safe to call from inside an event loop."""
    cfg = alembic_config(service, database_url)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        command.upgrade(cfg, revision)
        return
    # env.py runs its own event loop, which cannot nest: use a thread.
    errors: list[BaseException] = []

    def target() -> None:
        try:
            command.upgrade(cfg, revision)
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def run_env() -> None:
    """Body of every service's migrations/env.py (online mode only)."""
    cfg = context.config
    url = cfg.attributes["database_url"]
    version_table = cfg.get_main_option("version_table")

    def do_run(connection) -> None:
        context.configure(
            connection=connection, version_table=version_table, transaction_per_migration=True
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        async with engine.connect() as connection:
            await connection.run_sync(do_run)
            await connection.commit()
        await engine.dispose()

    asyncio.run(run())


def create_chassis_tables() -> None:
    """Outbox, processed-event and dead-letter tables; call from a first migration."""
    chassis_metadata.create_all(bind=op.get_bind())


def add_outbox_sequence() -> None:
    """outbox_message.seq, the order its rows were written in (chassis.db says
    why). A first migration run with today's chassis already made it, hence
    IF NOT EXISTS; on an existing table PostgreSQL numbers the rows there in
    their physical order, which is the order they were inserted in."""
    op.execute(
        text(
            "ALTER TABLE outbox_message "
            "ADD COLUMN IF NOT EXISTS seq bigint GENERATED ALWAYS AS IDENTITY"
        )
    )


def drop_outbox_sequence() -> None:
    op.execute(text("ALTER TABLE outbox_message DROP COLUMN IF EXISTS seq"))


def enable_tenant_rls(table: str) -> None:
    """Row-level security keyed on the transaction-local `app.tenant_id`.

    FORCE makes it apply to the table's owner too (services connect as the
    owner); with no tenant set, no row is visible or writable.
    """
    tenant = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"
    op.execute(text(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY"))
    op.execute(text(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY"))
    op.execute(
        text(
            f"CREATE POLICY tenant_isolation ON {table} "
            f"USING (tenant_id = {tenant}) WITH CHECK (tenant_id = {tenant})"
        )
    )


@contextmanager
def forced_rls_lifted(*tables: str) -> Iterator[None]:
    """For a data migration that reads or writes every tenant's rows: the
    owner (the service's role, which runs migrations) bypasses RLS while FORCE
    is off. Transactional DDL: FORCE is back before anyone else sees the tables."""
    for table in tables:
        op.execute(text(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY"))
    yield
    for table in tables:
        op.execute(text(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY"))


def create_customer_access_table() -> None:
    """The service's copy of identity's customer access state (chassis.access), under RLS."""
    customer_access.create(bind=op.get_bind())
    enable_tenant_rls(customer_access.name)


def drop_customer_access_table() -> None:
    customer_access.drop(bind=op.get_bind())


def create_project_audience_table() -> None:
    """The service's copy of each project's customer and visible contacts
    (chassis.audience), under RLS."""
    project_audience.create(bind=op.get_bind())
    enable_tenant_rls(project_audience.name)


def drop_project_audience_table() -> None:
    project_audience.drop(bind=op.get_bind())
