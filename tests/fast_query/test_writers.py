"""fast_query.writers: a file SQLite engine's write transactions queue in the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from fast_query import Base, create_engine, create_session_factory, transaction, write_statement
from fast_query.writers import is_queued, one_writer
from migrations import alembic_config
from models import Role


@pytest.fixture
async def sqlite_file(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A migrated file database whose writers wait at most 0.2 s in the queue."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'writers.db'}"
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
    engine = create_engine(url, sqlite_busy_timeout=0.2)
    yield engine
    await engine.dispose()


async def test_a_second_writer_waits_for_the_first(sqlite_file: AsyncEngine) -> None:
    engine = sqlite_file.sync_engine
    release, inside = asyncio.Event(), []

    async def first() -> None:
        async with one_writer(engine):
            inside.append("first")
            await release.wait()
            inside.append("first done")

    async def second() -> None:
        async with one_writer(engine):
            inside.append("second")

    tasks = [asyncio.create_task(first()), asyncio.create_task(second())]
    for _ in range(10):
        await asyncio.sleep(0)
    assert inside == ["first"]
    release.set()
    await asyncio.gather(*tasks)
    assert inside == ["first", "first done", "second"]


async def test_a_writer_that_waits_past_the_busy_timeout_goes_on_to_sqlite(
    sqlite_file: AsyncEngine,
) -> None:
    # One task's second write transaction (a mistake) is not a deadlock: past the busy
    # timeout it goes on, and SQLite answers as it would without the queue.
    engine = sqlite_file.sync_engine
    async with one_writer(engine):
        entered = False
        async with one_writer(engine):
            entered = True
    assert entered


async def test_every_sqlite_engine_is_queued_and_postgresql_is_not(
    engine: AsyncEngine, backend: str
) -> None:
    memory = create_engine("sqlite+aiosqlite://")
    try:
        assert is_queued(engine.sync_engine) is (backend == "sqlite")
        assert is_queued(memory.sync_engine)  # its one shared connection needs it most
    finally:
        await memory.dispose()
    if backend == "postgresql":  # row locks of its own: were it a lock, this would hang
        async with (
            one_writer(engine.sync_engine),
            asyncio.timeout(0.05),
            one_writer(engine.sync_engine),
        ):
            pass


async def test_concurrent_transactions_on_an_in_memory_database() -> None:
    engine = create_engine("sqlite+aiosqlite://")
    try:
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        sessions = create_session_factory(engine)

        async def write(number: int) -> None:
            async with sessions() as session, transaction(session):
                await session.execute(insert(Role).values(name=f"role {number}"))
                await asyncio.sleep(0)

        await asyncio.gather(*(write(number) for number in range(5)))
        async with engine.connect() as connection:
            assert await connection.scalar(select(func.count()).select_from(Role)) == 5
    finally:
        await engine.dispose()


async def test_a_session_bound_to_a_connection_writes_inside_its_transaction(
    sqlite_file: AsyncEngine,
) -> None:
    # As tests that roll back bind their sessions: no queue, no BEGIN of its own.
    async with sqlite_file.connect() as connection:
        await connection.begin()
        async with create_session_factory(connection)() as session, transaction(session):
            await session.execute(insert(Role).values(name="inside"))
        assert await connection.scalar(select(func.count()).select_from(Role)) == 1
        await connection.rollback()
    async with sqlite_file.connect() as connection:
        assert await connection.scalar(select(func.count()).select_from(Role)) == 0


async def test_a_writer_cancelled_in_the_queue_leaves_its_session_clean(
    sqlite_file: AsyncEngine,
) -> None:
    sessions = create_session_factory(sqlite_file)
    queued = asyncio.Event()
    async with sessions() as session:

        async def write() -> None:
            async with transaction(session):
                await session.execute(insert(Role).values(name="never"))

        async with one_writer(sqlite_file.sync_engine):
            task = asyncio.create_task(write())
            while not session.in_transaction():  # it holds its connection, then queues
                await asyncio.sleep(0)
            for _ in range(10):
                await asyncio.sleep(0)
            queued.set()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        assert queued.is_set()
        assert session.in_transaction() is False
        async with transaction(session):  # usable, and queued as any other
            await session.execute(insert(Role).values(name="after"))
    async with sqlite_file.connect() as connection:
        assert list(await connection.scalars(select(Role.name))) == ["after"]


async def test_concurrent_write_transactions_all_commit(sqlite_file: AsyncEngine) -> None:
    sessions = create_session_factory(sqlite_file)

    async def write(number: int) -> None:
        async with sessions() as session, transaction(session):
            await session.execute(insert(Role).values(name=f"role {number}"))
            await asyncio.sleep(0)  # let the others try meanwhile

    await asyncio.gather(*(write(number) for number in range(30)))

    async with sqlite_file.connect() as connection:
        assert await connection.scalar(select(func.count()).select_from(Role)) == 30


async def test_the_writer_at_the_head_of_the_queue_never_waits_for_the_pool(
    tmp_path: Path,
) -> None:
    """Two connections, and writers of both kinds waiting for them and for the queue: those
    that hold a connection queue, those that need one get it before they queue."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'pool.db'}"
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
    engine = create_engine(url, pool_size=2, max_overflow=0, pool_timeout=3)
    sessions = create_session_factory(engine)

    async def in_a_session(number: int) -> None:
        async with sessions() as session, transaction(session):
            await session.execute(insert(Role).values(name=f"session {number}"))

    async def one_statement(number: int) -> None:
        async with engine.connect() as connection:
            await write_statement(connection, insert(Role).values(name=f"statement {number}"), {})

    try:
        await asyncio.gather(
            *(write(number) for number in range(20) for write in (one_statement, in_a_session))
        )
        async with engine.connect() as connection:
            assert await connection.scalar(select(func.count()).select_from(Role)) == 40
    finally:
        await engine.dispose()
