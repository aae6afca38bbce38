"""A scratch service database with the chassis tables and one tenant-owned
table under row-level security, connected as a non-superuser role."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from deploy.infra import Postgres
from services.chassis.db import chassis_metadata, make_engine, make_sessionmaker

EFFECT_DDL = [
    "CREATE TABLE effect (id serial PRIMARY KEY, tenant_id uuid NOT NULL, "
    "event_id uuid NOT NULL, note text NOT NULL)",
    "ALTER TABLE effect ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE effect FORCE ROW LEVEL SECURITY",
    "CREATE POLICY tenant_isolation ON effect "
    "USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid) "
    "WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)",
]


@dataclass
class ScratchDb:
    url: str
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]


@pytest.fixture
async def scratch_db(postgres: Postgres, unique: str) -> AsyncIterator[ScratchDb]:
    name = f"scratch_{unique}"
    url = postgres.ensure_service_database(name, "scratch-password")
    engine = make_engine(url, pool_size=4)
    async with engine.begin() as conn:
        await conn.run_sync(chassis_metadata.create_all)
        for ddl in EFFECT_DDL:
            await conn.execute(text(ddl))
    yield ScratchDb(url, engine, make_sessionmaker(engine))
    await engine.dispose()
    postgres.drop_database(name)
