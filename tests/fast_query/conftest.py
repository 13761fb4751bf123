"""Fixtures for the fast_query tests: the blog of ``support.py``, per test or per module.

``blog`` inserts it into the test's own session (rolled back after the test).
Modules that only query it (test_query_*) set ``SEEDED_ONCE = True``: their
``session`` and ``blog`` then come from ``module_blog``, a connection whose
transaction holds the blog for the whole module and is rolled back at its end.
Each test still gets a new session in a savepoint of its own, so what a test
writes is gone after it, and every test starts with an empty identity map. No
test in such a module may use another connection to write: SQLite would wait
on the module's write lock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from fast_query import create_engine, create_session_factory
from tests.fast_query.support import Blog, SeededConnection, seed_blog


def module_seeded(request: pytest.FixtureRequest) -> SeededConnection | None:
    """The module's blog when the test's module sets ``SEEDED_ONCE = True``, else ``None``."""
    if not getattr(request.module, "SEEDED_ONCE", False):
        return None
    seeded: SeededConnection = request.getfixturevalue("module_blog")
    return seeded


@asynccontextmanager
async def savepoint_session(connection: AsyncConnection) -> AsyncIterator[AsyncSession]:
    """A session whose commits are savepoints inside ``connection``'s transaction."""
    factory = create_session_factory(connection, join_transaction_mode="create_savepoint")
    async with factory() as session:
        yield session


# These two take ``backend`` for its parameters: the fixtures they pick are
# only known at setup, so only it makes each test run on every database.


@pytest.fixture
def session_connection(request: pytest.FixtureRequest, backend: str) -> AsyncConnection:
    """The connection of the test's session: its own, or the module's blog's."""
    seeded = module_seeded(request)
    return request.getfixturevalue("connection") if seeded is None else seeded.connection


@pytest.fixture
def blog(request: pytest.FixtureRequest, backend: str) -> Blog:
    """The blog: seeded into this test's session, or the module's."""
    seeded = module_seeded(request)
    return request.getfixturevalue("own_blog") if seeded is None else seeded.blog


@pytest.fixture
async def session(session_connection: AsyncConnection) -> AsyncIterator[AsyncSession]:
    """A new session in a savepoint, rolled back after the test (with what it wrote)."""
    async with savepoint_session(session_connection) as session:
        yield session


@pytest.fixture
async def own_blog(session: AsyncSession) -> Blog:
    """The blog, seeded into this test's session."""
    return await seed_blog(session)


@pytest.fixture(scope="module")
async def module_blog(engine: AsyncEngine) -> AsyncIterator[SeededConnection]:
    """A connection whose open transaction holds the blog for one module."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        try:
            async with savepoint_session(connection) as session:
                blog = await seed_blog(session)
                await session.commit()  # releases its savepoint; the transaction stays open
            yield SeededConnection(connection, blog)
        finally:
            await transaction.rollback()


@pytest.fixture
def dialect(session: AsyncSession) -> str:
    """The name of the database the test runs on: ``"sqlite"`` or ``"postgresql"``."""
    return session.get_bind().dialect.name


EngineMaker = Callable[..., AsyncEngine]


@pytest.fixture
async def make_engine() -> AsyncIterator[EngineMaker]:
    """``create_engine`` whose engines are disposed after the test."""
    made: list[AsyncEngine] = []

    def make(url: str, **options: Any) -> AsyncEngine:
        engine = create_engine(url, **options)
        made.append(engine)
        return engine

    yield make
    for engine in made:
        await engine.dispose()
