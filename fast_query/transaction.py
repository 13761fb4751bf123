"""One write transaction: commit when the block succeeds, roll back when it fails."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession

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
