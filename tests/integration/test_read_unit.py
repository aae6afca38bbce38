"""The lean read path: the same row-level security as the unit of work, and
nothing of one use left on the pooled connection for the next."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import text

from services.chassis.db import ReadUnit, UnitOfWork


async def _add(scratch_db, tenant: str, note: str = "x") -> None:
    async with UnitOfWork(scratch_db.sessions, tenant) as uow:
        await uow.session.execute(
            text("INSERT INTO effect (tenant_id, event_id, note) VALUES (:t, :e, :n)"),
            {"t": tenant, "e": str(uuid.uuid4()), "n": note},
        )
        await uow.commit()


async def _notes(scratch_db, tenant: str | None) -> set[str]:
    async with ReadUnit(scratch_db.sessions, tenant) as read:
        return set((await read.execute(text("SELECT tenant_id::text FROM effect"))).scalars())


async def test_a_read_unit_sees_only_its_tenants_rows(scratch_db):
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    await _add(scratch_db, a)
    await _add(scratch_db, b)
    assert await _notes(scratch_db, a) == {a}
    assert await _notes(scratch_db, b) == {b}
    assert await _notes(scratch_db, None) == set()  # no tenant: RLS shows nothing


async def test_the_tenant_setting_ends_with_the_read(scratch_db):
    a = str(uuid.uuid4())
    await _add(scratch_db, a)
    # Many reads over the small pool: every connection has served tenant a by now.
    for _ in range(3):
        await asyncio.gather(*(_notes(scratch_db, a) for _ in range(8)))
    async with scratch_db.engine.connect() as conn:
        setting = (
            await conn.execute(text("SELECT current_setting('app.tenant_id', true)"))
        ).scalar()
        assert not setting
    assert await _notes(scratch_db, None) == set()


async def test_a_read_unit_rolls_back_unless_told_to_commit(scratch_db):
    a = str(uuid.uuid4())
    await _add(scratch_db, a, note="before")

    async def rename(note: str, *, commit: bool) -> None:
        async with ReadUnit(scratch_db.sessions, a) as read:
            await read.execute(text("UPDATE effect SET note = :n"), {"n": note})
            if commit:
                read.commit()

    await rename("rolled back", commit=False)
    async with ReadUnit(scratch_db.sessions, a) as read:
        assert (await read.execute(text("SELECT note FROM effect"))).scalar() == "before"
    await rename("kept", commit=True)
    async with ReadUnit(scratch_db.sessions, a) as read:
        assert (await read.execute(text("SELECT note FROM effect"))).scalar() == "kept"


async def test_a_failed_read_leaves_a_clean_connection(scratch_db):
    a = str(uuid.uuid4())
    await _add(scratch_db, a)
    for _ in range(6):  # more than the pool holds
        with pytest.raises(Exception, match="division by zero"):
            async with ReadUnit(scratch_db.sessions, a) as read:
                await read.execute(text("SELECT 1 / 0"))
    assert await _notes(scratch_db, a) == {a}
    assert await _notes(scratch_db, None) == set()


async def test_a_read_unit_refuses_a_tenant_that_is_not_a_uuid(scratch_db):
    with pytest.raises(ValueError):
        async with ReadUnit(scratch_db.sessions, "x'); DROP TABLE effect; --"):
            pass  # never reached: the tenant is checked before any SQL is sent
    assert await _notes(scratch_db, None) == set()  # the table is still there


async def test_a_unit_of_work_after_a_read_inherits_no_tenant(scratch_db):
    # The setting is local to the read's own transaction, committed (bookkeeping)
    # or rolled back: a unit of work with no tenant, on any connection a read of
    # tenant a used, sees no row.
    a = str(uuid.uuid4())
    await _add(scratch_db, a)

    async def read(*, commit: bool) -> None:
        async with ReadUnit(scratch_db.sessions, a) as unit:
            assert (await unit.execute(text("SELECT count(*) FROM effect"))).scalar() == 1
            if commit:
                unit.commit()

    async def untenanted() -> list:
        async with UnitOfWork(scratch_db.sessions, None) as uow:
            return list((await uow.session.execute(text("SELECT note FROM effect"))).all())

    for _ in range(3):
        await asyncio.gather(*(read(commit=i % 2 == 0) for i in range(8)))
        assert await asyncio.gather(*(untenanted() for _ in range(8))) == [[]] * 8
