"""Recognise the errors that mean "the database refused, and not because of a bug".

They come from several layers, none of which fast_query wraps (they can be
raised by any statement or checkout, not at one boundary), so callers that
want to tell them apart ask:

``is_timeout``, the database did not answer in time:
- PostgreSQL cancelled the statement: ``statement_timeout`` (SQLSTATE 57014)
  or ``lock_timeout`` (55P03);
- SQLite gave up waiting for a lock after its busy timeout;
- the pool had no connection to give within ``pool_timeout``;
- asyncpg gave up on the server: ``command_timeout`` or the connect timeout
  (a plain ``TimeoutError``).

``is_too_complex``, a valid statement nested deeper than the database takes:
SQLite's parser has a fixed stack ("parser stack overflow") and a limit on
expression depth, PostgreSQL stops at ``max_stack_depth`` (SQLSTATE 54001),
and SQLAlchemy's compiler may run out of Python's stack first.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

_PG_TIMEOUT_CODES = frozenset({"57014", "55P03"})
_PG_TOO_COMPLEX_CODES = frozenset({"54001"})
_SQLITE_TOO_COMPLEX = ("parser stack overflow", "expression tree is too large")


def is_timeout(exc: BaseException) -> bool:
    """Whether ``exc`` says the database (or its pool) did not answer in time.

    ``exc`` may come through SQLAlchemy (a ``DBAPIError``) or straight from the
    driver (statements that ``RawSelect`` runs on the driver connection).
    """
    if isinstance(exc, TimeoutError | PoolTimeout):
        return True
    return _refused(exc, _PG_TIMEOUT_CODES, ("database is locked",))


def is_too_complex(exc: BaseException) -> bool:
    """Whether ``exc`` says a statement was nested too deeply to compile or to run."""
    if isinstance(exc, RecursionError):
        return True
    return _refused(exc, _PG_TOO_COMPLEX_CODES, _SQLITE_TOO_COMPLEX)


def _refused(
    exc: BaseException, pg_codes: frozenset[str], sqlite_messages: tuple[str, ...]
) -> bool:
    """Whether ``exc`` is a PostgreSQL error with one of ``pg_codes``, or a SQLite one saying so."""
    driver_error = exc.orig if isinstance(exc, DBAPIError) else exc
    cause = getattr(driver_error, "__cause__", None)
    code = getattr(driver_error, "sqlstate", None) or getattr(cause, "sqlstate", None)
    if code is not None:
        return str(code) in pg_codes
    if isinstance(exc, DBAPIError) or isinstance(driver_error, sqlite3.OperationalError):
        message = str(driver_error).lower()
        return any(text in message for text in sqlite_messages)
    return False
