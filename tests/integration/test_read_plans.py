"""A ReadUnit's repeated SELECTs run on asyncpg directly (services/chassis/
read_plans.py): the same rows as through SQLAlchemy, the same row-level
security, and a statement derived from a planned one is not run as it."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy import (
    JSON,
    Column,
    Date,
    DateTime,
    Float,
    Integer,
    Interval,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Uuid,
    bindparam,
    cast,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from services.chassis.db import ReadUnit, UnitOfWork
from services.chassis.read_plans import ReadPlan, plan_for

effect = Table(
    "effect",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("tenant_id", Uuid),
    Column("note", String),
)
NOTES = select(effect.c.note, effect.c.tenant_id).order_by(effect.c.note)


async def _add(scratch_db, tenant: str, *notes: str) -> None:
    async with UnitOfWork(scratch_db.sessions, tenant) as uow:
        for note in notes:
            await uow.session.execute(
                text("INSERT INTO effect (tenant_id, event_id, note) VALUES (:t, :e, :n)"),
                {"t": tenant, "e": str(uuid.uuid4()), "n": note},
            )
        await uow.commit()


async def _rows(scratch_db, tenant: str | None, statement, params=None) -> list[tuple]:
    async with ReadUnit(scratch_db.sessions, tenant) as read:
        return [tuple(r) for r in (await read.execute(statement, params)).all()]


def _planned(statement) -> bool:
    held = statement.__dict__.get("_portal_read_plan")
    return held is not None and isinstance(held[1], ReadPlan)


async def test_a_repeated_select_gets_a_plan_and_the_same_rows(scratch_db):
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    await _add(scratch_db, a, "a1", "a2")
    await _add(scratch_db, b, "b1")
    first = await _rows(scratch_db, a, NOTES)  # through SQLAlchemy
    assert not _planned(NOTES)
    assert (
        await _rows(scratch_db, a, NOTES) == first == [("a1", uuid.UUID(a)), ("a2", uuid.UUID(a))]
    )
    assert _planned(NOTES)
    assert await _rows(scratch_db, b, NOTES) == [("b1", uuid.UUID(b))]  # RLS on the plan path
    assert await _rows(scratch_db, None, NOTES) == []


async def test_parameters_come_by_key_and_fixed_values_from_the_statement(scratch_db):
    a = str(uuid.uuid4())
    await _add(scratch_db, a, "x", "y", "z")
    query = select(effect.c.note, func.upper(effect.c.note).label("shout")).where(
        effect.c.note != "y", effect.c.note <= bindparam("upto", type_=String)
    )
    for _ in range(3):
        rows = await _rows(scratch_db, a, query, {"upto": "z"})
        assert sorted(rows) == [("x", "X"), ("z", "Z")]
    assert _planned(query)
    async with ReadUnit(scratch_db.sessions, a) as read:
        row = (await read.execute(query, {"upto": "x"})).one()
        assert row.shout == "X"  # attribute access, as on SQLAlchemy's rows
        with pytest.raises(Exception, match="upto"):
            await read.execute(query, {})


async def test_a_derived_statement_is_not_run_as_its_parent(scratch_db):
    a = str(uuid.uuid4())
    await _add(scratch_db, a, "keep", "drop")
    for _ in range(2):
        await _rows(scratch_db, a, NOTES)
    assert _planned(NOTES)
    narrowed = NOTES.where(effect.c.note == "keep")  # copies NOTES' attributes
    for _ in range(3):
        assert await _rows(scratch_db, a, narrowed) == [("keep", uuid.UUID(a))]


async def test_an_array_result_is_converted_as_sqlalchemy_converts_it(scratch_db):
    a = str(uuid.uuid4())
    await _add(scratch_db, a, "p", "q")
    query = select(func.array_agg(effect.c.note, type_=ARRAY(String)).label("notes"))
    through_sqlalchemy = await _rows(scratch_db, a, query)
    for _ in range(2):
        assert await _rows(scratch_db, a, query) == through_sqlalchemy
    assert _planned(query)
    assert sorted(through_sqlalchemy[0][0]) == ["p", "q"]


async def test_an_error_on_the_plan_path_leaves_a_clean_connection(scratch_db):
    a = str(uuid.uuid4())
    await _add(scratch_db, a, "n")
    query = select(func.div(effect.c.id, effect.c.id - effect.c.id).label("boom"))
    for _ in range(8):  # more than the pool holds, most of them planned
        with pytest.raises(Exception, match="division by zero"):
            await _rows(scratch_db, a, query)
    assert _planned(query)
    assert await _rows(scratch_db, a, select(effect.c.note)) == [("n",)]


def test_a_copy_of_a_copy_at_a_freed_parents_address_is_not_run_as_it():
    # SQLAlchemy's compiled cache keeps a statement alive for a while; once it
    # is evicted and freed, CPython hands its address to the next one built.
    dialect = postgresql.asyncpg.dialect()  # type: ignore[attr-defined]
    for _ in range(50):
        parent = select(effect.c.note)
        plan_for(parent, dialect)
        assert plan_for(parent, dialect) is not None
        child = parent.where(effect.c.note == "keep")  # carries parent's entry
        del parent
        grandchild = child.order_by(effect.c.note)
        assert plan_for(grandchild, dialect) is None  # first sight, not parent's SQL


async def test_numeric_and_float_columns_read_as_through_sqlalchemy(scratch_db):
    # asyncpg's Numeric and Float conversions depend on the driver's column
    # type, which a plan does not know: such a SELECT stays on SQLAlchemy's path.
    a = str(uuid.uuid4())
    await _add(scratch_db, a, "n")
    query = select(
        effect.c.id.cast(Numeric(10, 2)).label("exact"),
        (effect.c.id * 0.5).cast(Float).label("half"),
        func.array_agg(effect.c.id, type_=ARRAY(Numeric)).label("ids"),
    ).group_by(effect.c.id)
    first = await _rows(scratch_db, a, query)
    for _ in range(2):
        assert await _rows(scratch_db, a, query) == first
    assert not _planned(query)
    assert isinstance(first[0][0], Decimal)


_TYPED = {
    "jsonb": func.jsonb_build_object(literal_column("'a'"), literal_column("1"), type_=JSONB),
    "json": func.json_build_object(literal_column("'a'"), literal_column("1"), type_=JSON),
    "tstz": func.to_timestamp(literal_column("0"), type_=DateTime(timezone=True)),
    "ts": cast(literal_column("'2020-01-01 10:00'"), DateTime),
    "uuid": cast(literal_column(f"'{uuid.UUID(int=7)}'"), Uuid),
    "interval": cast(literal_column("'1 day'"), Interval),
    "date": cast(literal_column("'2020-01-01'"), Date),
    "bytes": cast(literal_column("'\\x01'"), LargeBinary),
    "jsonb_array": cast(literal_column("ARRAY['{\"b\": 2}'::jsonb]"), ARRAY(JSONB)),
}


@pytest.mark.parametrize("name", sorted(_TYPED))
async def test_a_planned_column_reads_as_through_sqlalchemy(scratch_db, name) -> None:
    query = select(_TYPED[name].label("v"))
    first = await _rows(scratch_db, None, query)
    planned = await _rows(scratch_db, None, query)
    assert _planned(query)
    assert planned == first and type(planned[0][0]) is type(first[0][0])


async def test_an_in_list_stays_on_sqlalchemys_path_with_each_calls_values(scratch_db):
    a = str(uuid.uuid4())
    await _add(scratch_db, a, "p", "q", "r")
    query = select(effect.c.note).where(effect.c.note.in_(bindparam("notes", expanding=True)))
    query = query.order_by(effect.c.note)
    for notes, expected in ((["p"], [("p",)]), (["q", "r"], [("q",), ("r",)]), (["p"], [("p",)])):
        assert await _rows(scratch_db, a, query, {"notes": notes}) == expected
    assert not _planned(query)
