"""Fixtures for the fast_query tests: the blog of ``support.py``, per test or per module.

``blog`` inserts it into the test's own session (rolled back after the test).
Modules that only query it (test_query_*) seed it once instead: their
``session`` and ``blog`` fixtures come from ``module_blog_session`` and
``module_blog``, a connection whose transaction holds the blog for the whole
module and is rolled back at its end. Each test still gets a new session in a
savepoint of its own, so what a test writes is gone after it, and every test
starts with an empty identity map. No test in such a module may use another
connection to write: SQLite would wait on the module's write lock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from fast_query import create_session_factory
from tests.fast_query.support import Blog, SeededConnection, seed_blog


@pytest.fixture
async def blog(session: AsyncSession) -> Blog:
    """The blog, seeded into this test's session."""
    return await seed_blog(session)


@pytest.fixture(scope="module")
async def module_blog(engine: AsyncEngine) -> AsyncIterator[SeededConnection]:
    """A connection whose open transaction holds the blog for one module."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        try:
            factory = create_session_factory(connection, join_transaction_mode="create_savepoint")
            async with factory() as session:
                blog = await seed_blog(session)
                await session.commit()  # releases its savepoint; the transaction stays open
            yield SeededConnection(connection, blog)
        finally:
            await transaction.rollback()


@pytest.fixture
async def module_blog_session(module_blog: SeededConnection) -> AsyncIterator[AsyncSession]:
    """A session in a savepoint on the module's blog connection, rolled back after the test."""
    factory = create_session_factory(
        module_blog.connection, join_transaction_mode="create_savepoint"
    )
    async with factory() as session:
        yield session


@pytest.fixture
def dialect(session: AsyncSession) -> str:
    """The name of the database the test runs on: ``"sqlite"`` or ``"postgresql"``."""
    return session.get_bind().dialect.name
