"""One write transaction: commit when the block succeeds, roll back when it fails."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import CursorResult, Engine, Executable, Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from fast_query._integrity import integrity_errors
from fast_query.engine import SQLITE_BEGIN_IMMEDIATE, SQLITE_NO_BEGIN, sqlite_control
from fast_query.writers import is_queued, one_writer


@asynccontextmanager
async def transaction(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    """Run the block in a transaction of its own.

    A transaction the session already had (reads earlier in a request) is
    committed first, so the block's writes commit or roll back alone. On
    SQLite the transaction starts with ``BEGIN IMMEDIATE``: it takes the write
    lock up front and waits for it (busy timeout) instead of failing to
    upgrade a read lock halfway, queued behind the process's other writers
    (``fast_query.writers``). Constraint violations, at flush or at commit,
    surface as ``IntegrityViolation``.
    """
    if session.in_transaction():
        await session.commit()
    bind = session.get_bind()
    engine = bind.engine
    # Queued (SQLite, a session of the engine's own): the connection first, its BEGIN
    # IMMEDIATE once at the head of the queue. A session bound to a connection (a test's
    # outer transaction) or another database: the connection's own BEGIN will do.
    queued = isinstance(bind, Engine) and is_queued(engine)
    options = {SQLITE_NO_BEGIN: True} if queued else {SQLITE_BEGIN_IMMEDIATE: True}
    try:
        connection = await session.connection(execution_options=options)
        async with one_writer(engine):
            if queued:
                await connection.run_sync(sqlite_control, "BEGIN IMMEDIATE")
            with integrity_errors():
                yield session
                await session.commit()
    except BaseException:  # the block's error, or cancelled on the way in
        await session.rollback()
        raise


@asynccontextmanager
async def connection_transaction(connection: AsyncConnection) -> AsyncIterator[AsyncConnection]:
    """``transaction`` for a Core connection: the block's writes commit or roll back together.

    On SQLite it begins with ``BEGIN IMMEDIATE``, as ``transaction`` does. A
    connection in autocommit has no transaction to open: each statement
    commits on its own, so the block should be one statement. Constraint
    violations surface as ``IntegrityViolation``.
    """
    with integrity_errors():
        if connection.sync_connection is not None and (
            connection.sync_connection.get_execution_options().get("isolation_level")
            == "AUTOCOMMIT"
        ):
            yield connection
            return
        await connection.execution_options(**{SQLITE_BEGIN_IMMEDIATE: True})
        async with one_writer(connection.sync_engine), connection.begin():
            yield connection


async def write_statement(
    connection: AsyncConnection, statement: Executable, params: Mapping[str, Any]
) -> list[Row[Any]]:
    """Run one write statement, atomic on its own, and return its rows.

    A single statement needs no transaction around it. On SQLite it runs
    without ``BEGIN`` and ``COMMIT`` around it, each a trip to the database's
    thread (SQLite commits the statement on its own, and it takes the write
    lock before it reads, as ``BEGIN IMMEDIATE`` would), queued behind the
    process's other writers. Elsewhere it
    runs as ``connection_transaction`` runs a block; inside a transaction the
    connection is in already, as part of it (not queued, and committed when that
    transaction is). Constraint violations surface as ``IntegrityViolation``.
    """
    if connection.in_transaction():
        with integrity_errors():
            return _rows(await connection.execute(statement, params))
    if connection.dialect.name != "sqlite":
        async with connection_transaction(connection):
            return _rows(await connection.execute(statement, params))
    with integrity_errors():
        try:
            async with one_writer(connection.sync_engine):
                await connection.execution_options(**{SQLITE_NO_BEGIN: True})
                try:
                    rows = _rows(await connection.execute(statement, params))
                finally:
                    await connection.execution_options(**{SQLITE_NO_BEGIN: False})
        except BaseException:
            await connection.rollback()  # SQLAlchemy's bookkeeping: SQLite undid the statement
            raise
        await connection.commit()  # likewise: SQLite committed it
        return rows


def _rows(result: CursorResult[Any]) -> list[Row[Any]]:
    return list(result.all()) if result.returns_rows else []
