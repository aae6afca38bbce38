"""Whether a failure means "the database is not there right now": down,
restarting, refusing connections, out of connections, or the pool has none to
give. Such a call is worth trying again, so the server answers UNAVAILABLE
(the gateway's 503 with Retry-After) rather than INTERNAL (a 500 that says
nothing can be done). It almost always changed nothing; a connection lost
during COMMIT leaves that unknown, which is why every write carries its
request id (a retry finds the first one's result). A consumer's handler is
retried by redelivery either way.

Decided from the exception and its causes (SQLAlchemy wraps asyncpg's), by
class and SQLSTATE, never by message text.
"""

from __future__ import annotations

import asyncpg
from sqlalchemy import exc as sa_exc

# SQLSTATE classes and codes that mean the server, not the statement: 08
# connection exception; 57P01-57P05 shutdown, crash, starting up, database
# dropped, idle session timeout; 53300 too many connections.
_STATES = ("08", "57P01", "57P02", "57P03", "57P04", "57P05", "53300")
_NO_SERVER = (
    ConnectionError,  # refused, reset, broken pipe
    asyncpg.CannotConnectNowError,
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.InterfaceError,  # the connection closed under a call
    # A server ending an idle connection sends its FATAL before it closes the
    # socket. asyncpg, not expecting a message between queries, parks the
    # protocol waiting for a sync that never comes; the next query on it,
    # before the loop has seen the socket close, fails with this instead of
    # a closed-connection error. Our code never shares a connection between
    # tasks (SQLAlchemy's adapter holds a lock), so this is that case.
    asyncpg.InternalClientError,
)


def database_unavailable(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _unavailable(current):
            return True
        orig = getattr(current, "orig", None)  # SQLAlchemy's DBAPIError: the driver's error
        current = orig if isinstance(orig, BaseException) else current.__cause__
    return False


def _unavailable(exc: BaseException) -> bool:
    if isinstance(exc, sa_exc.TimeoutError):  # the pool had no connection to give in time
        return True
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, _NO_SERVER):
        return True
    state = getattr(exc, "sqlstate", None)
    return isinstance(state, str) and state.startswith(_STATES)
