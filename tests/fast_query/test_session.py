"""Sessions: SerializedAsyncSession queues the operations coroutines start at once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, inspect, literal, select, text
from sqlalchemy.exc import InvalidRequestError, StatementError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from fast_query import SerializedAsyncSession, create_session_factory
from models import Role, User
from tests.fast_query.support import RoleRepository, UserRepository


class Overlap:
    """The most statements an engine had in flight at once."""

    def __init__(self) -> None:
        self.running = 0
        self.most = 0

    def start(self, *args: Any) -> None:
        self.running += 1
        self.most = max(self.most, self.running)

    def end(self, *args: Any) -> None:
        self.running -= 1


@pytest.fixture
def overlap(engine: AsyncEngine) -> Iterator[Overlap]:
    watch = Overlap()
    event.listen(engine.sync_engine, "before_cursor_execute", watch.start)
    event.listen(engine.sync_engine, "after_cursor_execute", watch.end)
    try:
        yield watch
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", watch.start)
        event.remove(engine.sync_engine, "after_cursor_execute", watch.end)


def session_on(connection: AsyncConnection, *, serialized: bool) -> AsyncSession:
    factory = create_session_factory(
        connection, serialized=serialized, join_transaction_mode="create_savepoint"
    )
    return factory()


async def one_each(session: AsyncSession, count: int) -> list[Any]:
    """``count`` single-value SELECTs on ``session``, started together."""
    results: list[Any] = await asyncio.gather(
        *(session.scalar(select(literal(index))) for index in range(count)),
        return_exceptions=True,
    )
    return results


# -- a plain AsyncSession ---------------------------------------------------------


async def test_plain_session_refuses_concurrent_first_use(connection: AsyncConnection) -> None:
    async with session_on(connection, serialized=False) as session:
        assert type(session) is AsyncSession
        results = await one_each(session, 10)
    errors = [result for result in results if isinstance(result, BaseException)]
    assert len(errors) == 9
    assert {type(error) for error in errors} == {InvalidRequestError}
    assert {str(error).split(" (Background")[0] for error in errors} == {
        "This session is provisioning a new connection; concurrent operations are not permitted"
    }


async def test_plain_session_interleaves_statements(
    connection: AsyncConnection, overlap: Overlap
) -> None:
    async with session_on(connection, serialized=False) as session:
        await session.execute(text("SELECT 1"))
        overlap.most = 0
        results = await one_each(session, 10)
    assert results == list(range(10))
    # Ten statements were in flight on one connection at once.
    assert overlap.most == 10


async def test_plain_session_breaks_under_concurrent_writes(connection: AsyncConnection) -> None:
    async with session_on(connection, serialized=False) as session:
        await session.execute(text("SELECT 1"))
        users = UserRepository(session)
        results = await asyncio.gather(
            *(users.create(name=f"U{i}", email=f"u{i}@example.com") for i in range(5)),
            return_exceptions=True,
        )
        failures = [result for result in results if isinstance(result, BaseException)]
        assert len(failures) == 4
        assert all("Session.add()" in str(failure) for failure in failures)
        await session.rollback()


# -- SerializedAsyncSession -------------------------------------------------------


async def test_serialized_session_allows_concurrent_first_use(
    connection: AsyncConnection, overlap: Overlap
) -> None:
    async with session_on(connection, serialized=True) as session:
        assert isinstance(session, SerializedAsyncSession)
        results = await one_each(session, 20)
    assert results == list(range(20))
    assert overlap.most == 1


async def test_serialized_session_on_an_engine(engine: AsyncEngine, overlap: Overlap) -> None:
    async with create_session_factory(engine)() as session:
        results = await one_each(session, 20)
        assert results == list(range(20))
    assert overlap.most == 1


async def test_serialized_session_runs_mixed_work_concurrently(session: AsyncSession) -> None:
    users = UserRepository(session)
    roles = RoleRepository(session)
    await roles.create(name="admin")

    async def make_user(index: int) -> User:
        user = await users.create(name=f"U{index}", email=f"u{index}@example.com")
        await users.update(user, name=f"User {index}")
        return user

    async def read() -> tuple[int, int, bool]:
        return (
            await users.count(),
            len(await users.query().with_("posts", "roles").get()),
            await roles.exists(name="admin"),
        )

    made, reads, (names, missing, _) = await asyncio.gather(
        asyncio.gather(*(make_user(index) for index in range(15))),
        asyncio.gather(*(read() for _ in range(5))),
        asyncio.gather(
            session.scalars(select(Role.name)), session.get(Role, 10_000), session.flush()
        ),
    )
    assert len({user.id for user in made}) == 15
    assert sorted(user.name for user in made) == sorted(f"User {i}" for i in range(15))
    assert [exists for _, _, exists in reads] == [True] * 5
    assert (names.all(), missing) == (["admin"], None)
    assert await users.count() == 15
    assert sorted(await users.query().pluck("name")) == sorted(f"User {i}" for i in range(15))


async def test_serialized_session_commits_while_others_wait(session: AsyncSession) -> None:
    roles = RoleRepository(session)
    results = await asyncio.gather(
        roles.create(name="admin"),
        session.commit(),
        roles.create(name="editor"),
        session.commit(),
        roles.count(),
    )
    assert results[-1] == 2
    assert sorted(await roles.query().pluck("name")) == ["admin", "editor"]


async def test_serialized_session_releases_the_lock_after_an_error(session: AsyncSession) -> None:
    async def broken() -> Any:
        return await session.execute(text("SELECT :missing"))

    results = await asyncio.wait_for(
        asyncio.gather(
            broken(),
            *(session.scalar(select(literal(i))) for i in range(3)),
            return_exceptions=True,
        ),
        timeout=5,
    )
    assert isinstance(results[0], StatementError)
    assert results[1:] == [0, 1, 2]
    assert await asyncio.wait_for(session.scalar(select(literal("still works"))), 5) == (
        "still works"
    )


async def test_serialized_session_is_reentrant_within_a_task(session: AsyncSession) -> None:
    # scalars() calls execute(), and run_sync() may call back into the session.
    def sync_work(sync_session: Any) -> int:
        return int(sync_session.scalar(select(literal(7))))

    value = await asyncio.wait_for(session.run_sync(sync_work), 5)
    scalars = await asyncio.wait_for(session.scalars(select(literal(8))), 5)
    assert (value, scalars.all()) == (7, [8])


# -- create_session_factory -------------------------------------------------------


def test_session_factory_defaults(engine: AsyncEngine) -> None:
    factory = create_session_factory(engine)
    assert factory.class_ is SerializedAsyncSession
    assert factory.kw["expire_on_commit"] is False
    assert factory.kw["bind"] is engine
    plain = create_session_factory(engine, serialized=False, autoflush=False)
    assert plain.class_ is AsyncSession
    assert (plain.kw["autoflush"], plain.kw["expire_on_commit"]) == (False, False)
    assert create_session_factory(engine, expire_on_commit=True).kw["expire_on_commit"] is True


@pytest.mark.parametrize(
    ("options", "expired"),
    [
        pytest.param({}, set(), id="default"),
        pytest.param(
            {"expire_on_commit": True},
            {"id", "name", "created_at", "updated_at", "users"},
            id="expire-on-commit",
        ),
    ],
)
async def test_objects_stay_loaded_after_commit(
    connection: AsyncConnection, options: dict[str, Any], expired: set[str]
) -> None:
    factory = create_session_factory(
        connection, join_transaction_mode="create_savepoint", **options
    )
    async with factory() as session:
        role = await RoleRepository(session).create(name="admin")
        await session.commit()
        # An expired attribute would need IO on access, which async code cannot do implicitly.
        assert inspect(role).expired_attributes == expired


async def test_serialized_session_concurrent_repository_writes_all_land(
    session: AsyncSession,
) -> None:
    users = UserRepository(session)
    made = [await users.create(name=f"U{i}", email=f"u{i}@example.com") for i in range(6)]
    await asyncio.gather(
        *(users.update(user, name=f"Renamed {index}") for index, user in enumerate(made[:3])),
        *(users.delete(user) for user in made[3:5]),
        users.create(name="New", email="new@example.com"),
        users.create(name="Newer", email="newer@example.com"),
    )
    session.expunge_all()
    assert await users.query().with_trashed().order_by("id").pluck("name") == [
        "Renamed 0",
        "Renamed 1",
        "Renamed 2",
        "U3",
        "U4",
        "U5",
        "New",
        "Newer",
    ]
    assert await users.query().only_trashed().order_by("id").pluck("name") == ["U3", "U4"]
