"""One write transaction: commit when the block succeeds, roll back when it fails."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from fast_query._integrity import integrity_errors
from fast_query.engine import SQLITE_BEGIN_IMMEDIATE


@asynccontextmanager
async def transaction(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    """Run the block in a transaction of its own.

    A transaction the session already had (reads earlier in a request) is
    committed first, so the block's writes commit or roll back alone. On
    SQLite the transaction starts with ``BEGIN IMMEDIATE``: it takes the write
    lock up front and waits for it (busy timeout) instead of failing to
    upgrade a read lock halfway. Constraint violations, at flush or at
    commit, surface as ``IntegrityViolation``.
    """
    if session.in_transaction():
        await session.commit()
    await session.connection(execution_options={SQLITE_BEGIN_IMMEDIATE: True})
    try:
        with integrity_errors():
            yield session
            await session.commit()
    except BaseException:
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
        async with connection.begin():
            yield connection
