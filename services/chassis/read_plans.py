"""A `ReadUnit`'s repeated SELECTs, compiled once and run on asyncpg itself.

SQLAlchemy Core re-does per execution what does not change for a statement
built once (the hot reads' queries are module-level or `functools.cache`d):
a cache-key walk, an execution context, parameter lists through its asyncpg
adapter (a greenlet hop) and a cursor result (about 40% of `ReadUnit.execute`
in projects' profile). A plan keeps the compiled SQL, the order of its
parameters (with the values fixed in the statement) and its result columns;
running it is one `fetch` on the connection the unit already holds, in its
transaction, and the rows come back as SQLAlchemy `Row`s as before.

Only what the plan reproduces exactly takes this path: a SELECT with no
expanding or post-compile parameters, no parameter conversion on the way in
and, on the way out, only the dialect's ARRAY conversion (applied as
SQLAlchemy applies it). Anything else, and a statement seen for the first
time (an ad-hoc one is built per call and would be compiled for nothing), goes
through SQLAlchemy. The plan lives on the statement object and names it by
a weak reference, so a statement derived from it (`.where(...)` copies its attributes) is
not mistaken for it.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import ARRAY, exc
from sqlalchemy.engine import Dialect, Result
from sqlalchemy.engine.result import IteratorResult, SimpleResultMetaData
from sqlalchemy.sql import Executable
from sqlalchemy.sql.selectable import Select

_ATTRIBUTE = "_portal_read_plan"
_SEEN_ONCE = "seen once"
_UNSUPPORTED = "unsupported"


@dataclass(frozen=True, slots=True)
class ReadPlan:
    sql: str
    keys: tuple[str, ...]  # the parameters' keys, in $1, $2, ... order
    fixed: dict[str, Any]  # by key: values the statement itself holds
    metadata: SimpleResultMetaData
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]

    def arguments(self, parameters: dict | None) -> list[Any]:
        given = parameters or {}
        try:
            return [given[k] if k in given else self.fixed[k] for k in self.keys]
        except KeyError as missing:
            raise exc.ArgumentError(f"a value is required for parameter {missing}") from None

    async def run(self, driver: Any, parameters: dict | None) -> Result:
        args = self.arguments(parameters)
        try:
            records = await driver.fetch(self.sql, *args)
        except asyncpg.PostgresError as error:
            raise exc.DBAPIError(self.sql, args, error) from error
        rows: Sequence[tuple[Any, ...]] = [tuple(r) for r in records]
        if self.processors:
            rows = [self._processed(r) for r in rows]
        return IteratorResult(self.metadata, iter(rows))

    def _processed(self, row: tuple[Any, ...]) -> tuple[Any, ...]:
        values = list(row)
        for i, process in self.processors:
            values[i] = process(values[i])
        return tuple(values)


def plan_for(statement: Executable, dialect: Dialect) -> ReadPlan | None:
    """The statement's plan from its second execution on; None for the
    SQLAlchemy path."""
    if not isinstance(statement, Select):
        return None
    held = statement.__dict__.get(_ATTRIBUTE)
    # A weak reference, not id(): a copy carries its parent's entry, and once
    # the parent is freed a copy of the copy can be allocated at the parent's
    # address (CPython reuses it at once) and would run the parent's SQL.
    if held is None or held[0]() is not statement:
        statement.__dict__[_ATTRIBUTE] = (weakref.ref(statement), _SEEN_ONCE)
        return None
    plan = held[1]
    if plan == _SEEN_ONCE:
        plan = _compile(statement, dialect) or _UNSUPPORTED
        statement.__dict__[_ATTRIBUTE] = (held[0], plan)
    return plan if isinstance(plan, ReadPlan) else None


def _compile(statement: Select, dialect: Dialect) -> ReadPlan | None:
    compiled: Any = statement.compile(dialect=dialect)
    by_name = {name: bind for bind, name in compiled.bind_names.items()}
    if (
        compiled.post_compile_params
        or compiled.literal_execute_params
        or compiled.escaped_bind_names
        or compiled._bind_processors
        or any(b.expanding or b.callable is not None for b in by_name.values())
    ):
        return None
    processors = []
    for i, column in enumerate(compiled._result_columns):
        try:
            # The driver's column type is not known here; a type whose
            # conversion depends on it (asyncpg's Numeric and Float, or an
            # ARRAY of them) refuses None, and SQLAlchemy's path handles it.
            process = column.type._cached_result_processor(dialect, None)
        except (TypeError, exc.InvalidRequestError):
            return None
        if process is not None:
            if not isinstance(column.type, ARRAY):
                return None
            processors.append((i, process))
    order = [by_name[name] for name in compiled.positiontup or ()]
    return ReadPlan(
        sql=compiled.string,
        keys=tuple(b.key for b in order),
        fixed={b.key: b.value for b in order if not b.required},
        metadata=SimpleResultMetaData([c.keyname for c in compiled._result_columns]),
        processors=tuple(processors),
    )
