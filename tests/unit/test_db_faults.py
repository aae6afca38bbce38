"""Which failures mean "the database is not there right now" (UNAVAILABLE, a 503
with Retry-After) and which are a fault in the statement or the code (INTERNAL).
The live cases (a stopped server, ended connections) are in
tests/projects/test_database_unavailable.py; these are the classes and SQLSTATEs
it decides by, including the ones a live test only meets by chance."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import exc as sa_exc

from services.chassis.db_faults import database_unavailable


def wrapped(orig: BaseException) -> sa_exc.DBAPIError:
    """As SQLAlchemy raises a driver's error: the driver's exception as `orig`."""
    return sa_exc.DBAPIError("SELECT 1", {}, orig)


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.exceptions.AdminShutdownError("terminating connection (administrator command)"),
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already"),
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle"),
        asyncpg.InterfaceError("connection is closed"),
        # The FATAL of a terminated idle connection, read before the socket's close.
        asyncpg.InternalClientError("cannot switch to state 15; another operation (2)"),
        ConnectionRefusedError(111, "Connection refused"),
        sa_exc.TimeoutError("QueuePool limit reached"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_the_server_not_being_there_is_unavailable_bare_or_wrapped(error: BaseException):
    assert database_unavailable(error)
    assert database_unavailable(wrapped(error))
    outer = RuntimeError("while loading the board")
    outer.__cause__ = error
    assert database_unavailable(outer)  # found through the cause chain


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.UniqueViolationError("duplicate key value violates unique constraint"),
        asyncpg.exceptions.UndefinedColumnError('column "nope" does not exist'),
        asyncpg.exceptions.InsufficientPrivilegeError("permission denied for table invoice"),
        asyncpg.exceptions.QueryCanceledError("canceling statement due to statement timeout"),
        ValueError("a bug"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_a_fault_in_the_statement_or_the_code_is_not(error: BaseException):
    assert not database_unavailable(error)
    assert not database_unavailable(wrapped(error))


def test_a_connection_sqlalchemy_invalidated_is_unavailable_whatever_the_driver_said():
    error = sa_exc.DBAPIError("SELECT 1", {}, ValueError("odd"), connection_invalidated=True)
    assert database_unavailable(error)


def test_a_cause_cycle_ends():
    a, b = ValueError("a"), ValueError("b")
    a.__cause__, b.__cause__ = b, a
    assert not database_unavailable(a)
