"""The lean read path: the same row-level security as the unit of work, and
nothing of one use left on the pooled connection for the next."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import column, select, table, text
from sqlalchemy.ext.asyncio import create_async_engine

from services.chassis.db import ReadUnit, UnitOfWork, make_sessionmaker


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


async def _one_connection(scratch_db):
    """An engine over the scratch database with one pooled connection: every
    use below meets what the one before it left."""
    engine = create_async_engine(scratch_db.url, pool_size=1, max_overflow=0)
    return engine, make_sessionmaker(engine)


async def test_tenants_in_turn_on_one_connection_each_see_only_their_rows(scratch_db):
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    await _add(scratch_db, a, note="a")
    await _add(scratch_db, b, note="b")
    engine, sessions = await _one_connection(scratch_db)
    try:
        for tenant, seen in [(a, {a}), (a, {a}), (b, {b}), (None, set()), (a, {a}), (b, {b})]:
            async with ReadUnit(sessions, tenant) as read:
                rows = await read.execute(select(column("tenant_id")).select_from(table("effect")))
                assert {str(t) for t in rows.scalars()} == seen
        # Whatever a read left, a unit of work with no tenant and a bare
        # connection find no tenant on the same connection.
        async with UnitOfWork(sessions, None) as uow:
            assert (await uow.session.execute(text("SELECT note FROM effect"))).all() == []
        async with ReadUnit(sessions, a):
            pass
        async with engine.connect() as conn:
            setting = (
                await conn.execute(text("SELECT current_setting('app.tenant_id', true)"))
            ).scalar()
            assert not setting
    finally:
        await engine.dispose()


async def test_a_repeated_read_of_one_tenant_sends_only_its_query(scratch_db):
    a = str(uuid.uuid4())
    await _add(scratch_db, a)
    engine, sessions = await _one_connection(scratch_db)
    query = select(column("note")).select_from(table("effect"))
    sent: list[str] = []
    try:
        async with ReadUnit(sessions, a) as read:  # sets the tenant
            read._driver.add_query_logger(lambda record: sent.append(record.query))
            for _ in range(3):  # from here on the query runs as a read plan, logged
                await read.execute(query)
        sent.clear()
        for _ in range(2):
            async with ReadUnit(sessions, a) as read:
                assert (await read.execute(query)).scalars().all() == ["x"]
        assert len(sent) == 2 and all("SET" not in q and "BEGIN" not in q for q in sent)
        assert not any("ROLLBACK" in q for q in sent)
    finally:
        await engine.dispose()


async def test_a_write_in_a_read_unit_opens_a_transaction_that_a_failure_undoes(scratch_db):
    a = str(uuid.uuid4())
    await _add(scratch_db, a, note="before")
    engine, sessions = await _one_connection(scratch_db)
    try:
        with pytest.raises(RuntimeError):
            async with ReadUnit(sessions, a) as read:
                await read.execute(text("UPDATE effect SET note = 'lost'"))
                read.commit()
                raise RuntimeError("after the write, before the end")
        async with ReadUnit(sessions, a) as read:
            assert (await read.execute(text("SELECT note FROM effect"))).scalar() == "before"
            assert read._driver.is_in_transaction()  # textual SQL: in a transaction
    finally:
        await engine.dispose()
