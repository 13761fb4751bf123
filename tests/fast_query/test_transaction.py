"""fast_query.transaction: all of the block or none of it, and typed constraint errors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import event, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from fast_query import (
    ForeignKeyViolation,
    IntegrityViolation,
    UniqueViolation,
    connection_transaction,
    create_session_factory,
    transaction,
    write_statement,
)
from models import Post, Role, User
from tests.fast_query.support import RoleRepository, UserRepository

SessionMaker = Callable[[], AsyncSession]


@pytest.fixture
def new_session(committed_engine: AsyncEngine) -> SessionMaker:
    """Sessions on the engine itself: their commits are real (tables emptied after the test)."""
    factory = create_session_factory(committed_engine)
    return lambda: factory()


async def committed(new_session: SessionMaker, model: type[Any] = User) -> list[str]:
    """What another session sees: the names (or titles) of every row of ``model``."""
    async with new_session() as session:
        column = Post.title if model is Post else model.name
        return list((await session.scalars(select(column).order_by(column))).all())


async def test_commits_when_the_block_succeeds(new_session: SessionMaker) -> None:
    async with new_session() as session:
        async with transaction(session) as inside:
            assert inside is session
            users = UserRepository(session)
            await users.create(name="Ada", email="ada@example.com")
            await users.create(name="Bob", email="bob@example.com")
        assert session.in_transaction() is False
        assert await committed(new_session) == ["Ada", "Bob"]


async def test_rolls_back_everything_when_the_block_raises(new_session: SessionMaker) -> None:
    async with new_session() as session:
        with pytest.raises(ValueError, match="changed my mind"):
            async with transaction(session):
                users = UserRepository(session)
                ada = await users.create(name="Ada", email="ada@example.com")
                await users.update(ada, name="Ada L.")
                await RoleRepository(session).create(name="admin")
                raise ValueError("changed my mind")
        assert session.in_transaction() is False
        # The session stays usable.
        assert await UserRepository(session).count() == 0
    assert await committed(new_session) == []
    assert await committed(new_session, Role) == []


async def test_unique_violation_at_commit(new_session: SessionMaker) -> None:
    async with new_session() as session:
        await UserRepository(session, commit=True).create(name="Ada", email="ada@example.com")
        with pytest.raises(UniqueViolation) as caught:
            async with transaction(session):
                session.add(Role(name="admin"))
                # Not flushed: the duplicate reaches the database at commit.
                session.add(User(name="Ada II", email="ada@example.com"))
        assert (caught.value.table, caught.value.columns) == ("users", ("email",))
    assert await committed(new_session) == ["Ada"]
    assert await committed(new_session, Role) == []


async def test_unique_violation_at_flush(new_session: SessionMaker) -> None:
    async with new_session() as session:
        with pytest.raises(UniqueViolation) as caught:
            async with transaction(session):
                session.add(Role(name="admin"))
                await session.flush()
                session.add(Role(name="admin"))
                await session.flush()
        assert (caught.value.table, caught.value.columns) == ("roles", ("name",))
    assert await committed(new_session, Role) == []


async def test_foreign_key_violation(new_session: SessionMaker) -> None:
    async with new_session() as session:
        with pytest.raises(ForeignKeyViolation):
            async with transaction(session):
                session.add(Role(name="admin"))
                session.add(Post(user_id=10_000, title="Orphan", body=""))
    assert await committed(new_session, Role) == []
    assert await committed(new_session, Post) == []


async def test_earlier_work_of_the_session_is_committed_first(new_session: SessionMaker) -> None:
    async with new_session() as session:
        await UserRepository(session).create(name="Before", email="before@example.com")
        assert session.in_transaction() is True
        with pytest.raises(IntegrityViolation):
            async with transaction(session):
                await UserRepository(session).create(name="Dup", email="before@example.com")
    # The block failed alone; what came before it was committed on entry.
    assert await committed(new_session) == ["Before"]


async def test_two_blocks_in_one_session(new_session: SessionMaker) -> None:
    async with new_session() as session:
        async with transaction(session):
            await RoleRepository(session).create(name="admin")
        with pytest.raises(RuntimeError):
            async with transaction(session):
                await RoleRepository(session).create(name="editor")
                raise RuntimeError
        async with transaction(session):
            await RoleRepository(session).create(name="reader")
    assert await committed(new_session, Role) == ["admin", "reader"]


@pytest.fixture
async def begins(committed_engine: AsyncEngine) -> AsyncIterator[list[str]]:
    """The BEGIN statements the engine's connections send."""
    sent: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("BEGIN"):
            sent.append(statement)

    event.listen(committed_engine.sync_engine, "before_cursor_execute", record)
    yield sent
    event.remove(committed_engine.sync_engine, "before_cursor_execute", record)


async def test_sqlite_writes_begin_immediate(
    new_session: SessionMaker, begins: list[str], backend: str
) -> None:
    async with new_session() as session:
        await session.scalar(select(func.count()).select_from(User))
        async with transaction(session):
            await RoleRepository(session).create(name="admin")
        await session.scalar(select(func.count()).select_from(Role))
    # asyncpg opens its transactions through its own API, not with a statement.
    expected = {"sqlite": ["BEGIN", "BEGIN IMMEDIATE", "BEGIN"], "postgresql": []}
    assert begins == expected[backend]


async def test_connection_transaction_commits_or_rolls_back_the_block(
    committed_engine: AsyncEngine, new_session: SessionMaker, begins: list[str], backend: str
) -> None:
    async with committed_engine.connect() as connection:
        async with connection_transaction(connection):
            await connection.execute(insert(Role).values(name="admin"))
        with pytest.raises(RuntimeError):
            async with connection_transaction(connection):
                await connection.execute(insert(Role).values(name="editor"))
                raise RuntimeError("the block failed")
        with pytest.raises(UniqueViolation):
            async with connection_transaction(connection):
                await connection.execute(insert(Role).values(name="admin"))
    expected = {"sqlite": ["BEGIN IMMEDIATE"] * 3, "postgresql": []}
    assert begins == expected[backend]
    assert await committed(new_session, Role) == ["admin"]


async def test_connection_transaction_in_autocommit_commits_each_statement(
    committed_engine: AsyncEngine, new_session: SessionMaker
) -> None:
    async with committed_engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        async with connection_transaction(connection):
            await connection.execute(insert(Role).values(name="admin"))
        # Committed already, with the connection still open.
        assert await committed(new_session, Role) == ["admin"]


async def test_write_statement_is_one_statement_that_commits_on_its_own(
    committed_engine: AsyncEngine, new_session: SessionMaker, begins: list[str]
) -> None:
    admin = insert(Role).values(name="admin").returning(Role.name)
    async with committed_engine.connect() as connection:
        assert await write_statement(connection, admin, {}) == [("admin",)]
        assert await committed(new_session, Role) == ["admin"]  # seen with the connection open
        with pytest.raises(UniqueViolation):
            await write_statement(connection, admin, {})
        editor = insert(Role).values(name="editor").returning(Role.name)
        assert await write_statement(connection, editor, {}) == [("editor",)]
        assert connection.in_transaction() is False
        # The connection's next reads begin transactions again (SQLite: a plain BEGIN).
        await connection.scalar(select(func.count()).select_from(Role))
    # No BEGIN around the writes on SQLite: the two are the other session's read and this
    # connection's. asyncpg opens its transactions without a statement.
    assert begins == (["BEGIN", "BEGIN"] if committed_engine.dialect.name == "sqlite" else [])
    assert await committed(new_session, Role) == ["admin", "editor"]


async def test_write_statement_inside_a_transaction_is_part_of_it(
    committed_engine: AsyncEngine, new_session: SessionMaker
) -> None:
    async with committed_engine.connect() as connection:
        await connection.begin()
        await write_statement(connection, insert(Role).values(name="admin"), {})
        await connection.rollback()
    assert await committed(new_session, Role) == []
