"""Counting the SQL statements a use case or handler sends: a budget a test
can hold it to (round trips are most of what an approval costs)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


@contextmanager
def statements_sent(sessions: async_sessionmaker[AsyncSession]) -> Iterator[list[str]]:
    """The statements sent through `sessions`' engine meanwhile (BEGIN and
    COMMIT are not statements here: asyncpg sends them itself)."""
    engine = sessions.kw["bind"].sync_engine
    sent: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(" ".join(statement.split())[:120])

    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", seen)
