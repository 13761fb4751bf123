"""Recognise the errors that mean "the database did not answer in time".

They come from several layers, none of which fast_query wraps (they can be
raised by any statement or checkout, not at one boundary), so callers that
want to tell them apart ask ``is_timeout``:

- PostgreSQL cancelled the statement: ``statement_timeout`` (SQLSTATE 57014)
  or ``lock_timeout`` (55P03);
- SQLite gave up waiting for a lock after its busy timeout;
- the pool had no connection to give within ``pool_timeout``;
- asyncpg gave up on the server: ``command_timeout`` or the connect timeout
  (a plain ``TimeoutError``).
"""

from __future__ import annotations

import sqlite3

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

_PG_TIMEOUT_CODES = frozenset({"57014", "55P03"})


def is_timeout(exc: BaseException) -> bool:
    """Whether ``exc`` says the database (or its pool) did not answer in time.

    ``exc`` may come through SQLAlchemy (a ``DBAPIError``) or straight from the
    driver (statements that ``RawSelect`` runs on the driver connection).
    """
    if isinstance(exc, TimeoutError | PoolTimeout):
        return True
    driver_error = exc.orig if isinstance(exc, DBAPIError) else exc
    cause = getattr(driver_error, "__cause__", None)
    code = getattr(driver_error, "sqlstate", None) or getattr(cause, "sqlstate", None)
    if code is not None:
        return str(code) in _PG_TIMEOUT_CODES
    sqlite = isinstance(exc, DBAPIError) or isinstance(driver_error, sqlite3.OperationalError)
    return sqlite and "database is locked" in str(driver_error)
