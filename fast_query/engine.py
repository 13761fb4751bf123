"""Engine creation with the settings a server needs on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection
from sqlalchemy.util import await_only

from fast_query.writers import queue_writers

#: Execution option that makes SQLite start the transaction with BEGIN IMMEDIATE,
#: taking the write lock up front so a read-then-write transaction cannot fail
#: to upgrade its lock. Set it on the connection of a write transaction.
SQLITE_BEGIN_IMMEDIATE = "fast_query_sqlite_begin_immediate"

#: Execution option that makes SQLite run the connection's next statements without a
#: BEGIN: each commits on its own (``write_statement`` sets it around one statement).
SQLITE_NO_BEGIN = "fast_query_sqlite_no_begin"

_FRESH = "fast_query_fresh"
_RETURNED = "fast_query_returned"


@asynccontextmanager
async def autocommit_connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A pooled connection whose statements commit on their own on PostgreSQL (no
    BEGIN/ROLLBACK round trips); on SQLite its first statement begins a transaction, as
    ever, and a write wants ``connection_transaction``."""
    async with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execution_options(isolation_level="AUTOCOMMIT")
        yield connection


def create_engine(
    url: str | URL,
    *,
    echo: bool = False,
    pool_size: int = 5,
    max_overflow: int = 10,
    pool_timeout: float = 30.0,
    pool_recycle: int = 1800,
    pool_pre_ping: bool = True,
    pre_ping_idle: float = 0.5,
    statement_timeout: float | None = None,
    connect_timeout: float = 10.0,
    sqlite_busy_timeout: float = 5.0,
    **options: Any,
) -> AsyncEngine:
    """Create an async engine for ``sqlite+aiosqlite`` or ``postgresql+asyncpg`` URLs.

    Args:
        pool_size, max_overflow, pool_timeout: the connection pool, on
            PostgreSQL and on a SQLite file (an in-memory database has none).
        statement_timeout: seconds a PostgreSQL statement may run before the
            server cancels it; ``None`` for no limit. SQLite has no equivalent.
        pool_pre_ping: check a pooled connection before handing it out, and
            replace it (and every older one) when it turns out to be closed.
            On PostgreSQL (asyncpg) a connection the server closed is seen
            without a round trip; the round trip (which also finds a server
            that stopped answering) is made for connections idle longer than
            ``pre_ping_idle`` seconds, as HikariCP and pgxpool do: one that
            was in use a moment ago is alive, and pinging it would cost every
            request a second round trip. ``0`` pings on every checkout. A
            SQLite file has no connection to lose and is never pinged.
        connect_timeout: seconds to wait for a new PostgreSQL connection, and
            with asyncpg for a pooled one to answer its pre-ping.
        sqlite_busy_timeout: seconds SQLite waits on a locked database.
        options: passed to SQLAlchemy's ``create_async_engine``.
    """
    url = make_url(url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        # No pre-ping: a file cannot drop a connection, and with aiosqlite each
        # ping is a round trip to the connection's thread.
        if not is_memory_sqlite(url) and "poolclass" not in options:
            # A file database gets SQLAlchemy's QueuePool, memory a pool without these knobs.
            pool = {"pool_size": pool_size, "max_overflow": max_overflow}
            options = {**pool, "pool_timeout": pool_timeout, **options}
        return _create_sqlite_engine(url, echo, sqlite_busy_timeout, options)
    connect_args: dict[str, Any] = dict(options.pop("connect_args", {}))
    asyncpg = url.get_driver_name() == "asyncpg"
    if asyncpg:
        connect_args.setdefault("timeout", connect_timeout)
        if statement_timeout is not None:
            settings = dict(connect_args.get("server_settings", {}))
            settings["statement_timeout"] = str(int(statement_timeout * 1000))
            connect_args["server_settings"] = settings
            # The client gives up a little later than the server, so the
            # server's clear error usually wins over a client-side cancel.
            connect_args.setdefault("command_timeout", statement_timeout + 5)
    engine = create_async_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout,
        pool_recycle=pool_recycle,
        pool_pre_ping=pool_pre_ping and not asyncpg,
        connect_args=connect_args,
        **options,
    )
    if pool_pre_ping and asyncpg:
        _pre_ping_asyncpg(engine, connect_timeout, pre_ping_idle)
    return engine


def _pre_ping_asyncpg(engine: AsyncEngine, timeout: float, idle: float) -> None:
    """SQLAlchemy's pre-ping, but waiting at most ``timeout`` seconds for the answer.

    SQLAlchemy's own pre-ping waits as long as any statement (asyncpg's
    ``command_timeout``), so a database that stops answering without closing
    its sockets (a host gone, a network cut, a frozen server) would hold every
    checkout that long. Like SQLAlchemy's, it skips a connection just made;
    it also skips the round trip for one returned less than ``idle`` seconds
    ago (see ``create_engine``).
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _made(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[_FRESH] = True

    @event.listens_for(engine.sync_engine, "checkin")
    def _returned(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[_RETURNED] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _ping(
        _dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
    ) -> None:
        if record.info.pop(_FRESH, False):
            return
        driver: Any = record.driver_connection  # the asyncpg connection
        if driver.is_closed():
            # The server closed it (a restart, a terminated backend): asyncpg saw
            # the socket close. Drop it and every older one, and reconnect once.
            raise InvalidatePoolError("pre-ping: the connection was closed")
        returned = record.info.get(_RETURNED)
        if returned is not None and time.monotonic() - returned < idle:
            return
        try:
            await_only(driver.fetchrow(";", timeout=timeout))
        except TimeoutError:
            # Drop the socket now: closing it politely would wait on the silent server.
            driver.terminate()
            raise
        except Exception as exc:
            if not driver.is_closed():
                raise
            # Closed under us (the server restarted or went away): as SQLAlchemy's
            # pre-ping does, drop every older pooled connection and reconnect once.
            raise InvalidatePoolError("pre-ping: the connection was closed") from exc


def is_memory_sqlite(url: URL) -> bool:
    database = url.database or ""
    # make_url moves "?mode=memory" of a "file:name?mode=memory&uri=true" URL into the query.
    return (
        database in ("", ":memory:")
        or "mode=memory" in database
        or url.query.get("mode") == "memory"
    )


def _create_sqlite_engine(
    url: URL, echo: bool, busy_timeout: float, options: dict[str, Any]
) -> AsyncEngine:
    memory = is_memory_sqlite(url)
    custom_reset = "pool_reset_on_return" not in options
    if custom_reset:
        options = {**options, "pool_reset_on_return": None}  # see _reset below
    engine = create_async_engine(url, echo=echo, **options)
    busy_ms = int(busy_timeout * 1000)

    if custom_reset:

        @event.listens_for(engine.sync_engine, "reset")
        def _reset(dbapi_connection: Any, _record: ConnectionPoolEntry, state: Any) -> None:
            # SQLAlchemy's reset rolls back every returned connection: with
            # aiosqlite, a trip to the connection's thread even when no
            # transaction is open (a read outside one, or one already ended).
            # Only a connection still in a transaction needs it.
            if state.terminate_only or not state.asyncio_safe:
                return
            if dbapi_connection.driver_connection.in_transaction:
                dbapi_connection.rollback()

    @event.listens_for(engine.sync_engine, "connect")
    def _configure(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # sqlite3's own transaction handling skips BEGIN before SELECT and
        # SAVEPOINT; take it over (SQLAlchemy's documented recipe) so that
        # transactions, savepoints and rollbacks behave as on PostgreSQL.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
        # LIKE is case-sensitive on PostgreSQL; make SQLite agree, and make
        # lower() fold all of Unicode (ILIKE compiles to lower() LIKE lower()).
        cursor.execute("PRAGMA case_sensitive_like = ON")
        if not memory:
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()
        dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)

    queue_writers(engine.sync_engine, busy_timeout)

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Connection) -> None:
        options = connection.get_execution_options()
        if options.get("isolation_level") == "AUTOCOMMIT" or options.get(SQLITE_NO_BEGIN):
            return  # asked for autocommit: sqlite3 commits each statement itself
        immediate = options.get(SQLITE_BEGIN_IMMEDIATE, False)
        sqlite_control(connection, "BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def sqlite_control(connection: Connection, sql: str) -> None:
    """Run a transaction-control statement (``BEGIN``) on an aiosqlite connection in one
    trip to its thread (SQLAlchemy's cursor takes three: open, execute, close); the
    engine's statement listeners see it as any other statement."""
    announce(connection, "before_cursor_execute", sql, ())
    driver: Any = connection.connection.driver_connection
    await_only(driver.execute_fetchall(sql))
    announce(connection, "after_cursor_execute", sql, ())


def announce(connection: Connection | None, event_name: str, sql: str, values: Any) -> None:
    """Tell the engine's statement listeners (counters, loggers, tracers) of a statement
    run on the driver directly: no cursor, no execution context."""
    if connection is None:
        return
    for listener in getattr(connection.dispatch, event_name):
        listener(connection, None, sql, values, None, False)


def _unicode_lower(value: object) -> object:
    """Lower-case one character at a time, with the simple mapping, as PostgreSQL does.

    ``str.lower()`` alone applies two rules PostgreSQL does not: a word-final
    capital sigma becomes "ς" (so "ΑΣ" would not contain a lowered "Σ", and
    ``iContains`` would find less than ``contains``), and "İ" becomes two code
    points. These are the only characters where the two mappings differ.
    """
    if not isinstance(value, str):
        return value
    return value.replace("Σ", "σ").replace("İ", "i").lower()
