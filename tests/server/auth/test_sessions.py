"""Sessions: start, refresh-token rotation, reuse detection, ending, liveness (both databases)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from fast_query import connection_transaction, create_session_factory, transaction
from models import auth_refresh_tokens, auth_sessions
from server.auth.sessions import (
    RefreshTokenReused,
    Sessions,
    TokenPair,
    end_session,
    end_sessions,
    is_live,
    prune_sessions,
)
from server.auth.tokens import InvalidToken, new_refresh_token, refresh_token_hash
from tests.conftest import StatementCounter
from tests.server.auth.support import NOW, add_user, auth_rows, soft_delete_user, users

MINUTE = timedelta(minutes=1)
THIRTY_DAYS = timedelta(days=30)


async def refused(
    call: Awaitable[object], reason: str, kind: type[InvalidToken] = InvalidToken
) -> InvalidToken:
    with pytest.raises(kind) as excinfo:
        await call
    assert str(excinfo.value) == reason
    return excinfo.value


def assert_nowhere(rows: list[dict[str, Any]], *secrets: str) -> None:
    for row in rows:
        for value in row.values():
            for secret in secrets:
                assert secret not in str(value)


async def test_a_session_starts_with_a_pair_whose_access_token_names_it(
    session: AsyncSession, sessions: Sessions
) -> None:
    user_id = await add_user(session)

    pair = await sessions.start(session, user_id, now=NOW)

    claims = sessions.tokens.verify(pair.access_token, now=NOW)
    assert (claims.user_id, claims.session_id) == (user_id, pair.session_id)
    assert (pair.user_id, pair.expires_at) == (user_id, NOW + timedelta(seconds=900))
    assert await is_live(session, user_id, pair.session_id)
    stored = (await session.execute(select(auth_sessions))).mappings().one()
    assert dict(stored) == {
        "id": pair.session_id,
        "user_id": user_id,
        "created_at": NOW,
        "ended_at": None,
    }
    token = (await session.execute(select(auth_refresh_tokens))).mappings().one()
    assert (token["session_id"], token["created_at"], token["expires_at"], token["used_at"]) == (
        pair.session_id,
        NOW,
        NOW + THIRTY_DAYS,
        None,
    )
    assert token["token_hash"] == refresh_token_hash(pair.refresh_token)
    # Neither token is kept in clear, nor shown
    assert_nowhere(await auth_rows(session), pair.refresh_token, pair.access_token)
    assert pair.refresh_token not in repr(pair) and pair.access_token not in repr(pair)


async def test_refresh_rotates_the_pair_within_the_session(
    session: AsyncSession, sessions: Sessions
) -> None:
    user_id = await add_user(session)
    first = await sessions.start(session, user_id, now=NOW)

    second = await sessions.refresh(session, first.refresh_token, now=NOW + MINUTE)
    third = await sessions.refresh(session, second.refresh_token, now=NOW + 2 * MINUTE)

    assert {first.session_id, second.session_id, third.session_id} == {first.session_id}
    assert len({first.refresh_token, second.refresh_token, third.refresh_token}) == 3
    assert len({first.access_token, second.access_token, third.access_token}) == 3
    claims = sessions.tokens.verify(third.access_token, now=NOW + 2 * MINUTE)
    assert (claims.user_id, claims.session_id) == (user_id, first.session_id)
    assert third.expires_at == NOW + 2 * MINUTE + timedelta(seconds=900)
    used = await session.execute(
        select(auth_refresh_tokens.c.used_at, auth_refresh_tokens.c.expires_at).order_by(
            auth_refresh_tokens.c.id
        )
    )
    assert [tuple(row) for row in used] == [
        (NOW + MINUTE, NOW + THIRTY_DAYS),
        (NOW + 2 * MINUTE, NOW + MINUTE + THIRTY_DAYS),
        (None, NOW + 2 * MINUTE + THIRTY_DAYS),
    ]
    assert_nowhere(
        await auth_rows(session),
        *(pair.refresh_token for pair in (first, second, third)),
        *(pair.access_token for pair in (first, second, third)),
    )


async def test_a_reused_refresh_token_ends_the_whole_session(
    session: AsyncSession, sessions: Sessions
) -> None:
    user_id = await add_user(session)
    first = await sessions.start(session, user_id, now=NOW)
    other = await sessions.start(session, user_id, now=NOW)
    second = await sessions.refresh(session, first.refresh_token, now=NOW + MINUTE)

    error = await refused(
        sessions.refresh(session, first.refresh_token, now=NOW + 2 * MINUTE),
        "refresh token already used: its session is ended",
        RefreshTokenReused,
    )

    assert first.refresh_token not in repr(error)
    assert not await is_live(session, user_id, first.session_id)
    # every generation: the newer refresh token, and both access tokens (same sid)
    await refused(sessions.refresh(session, second.refresh_token), "session ended")
    for pair in (first, second):
        claims = sessions.tokens.verify(pair.access_token, now=NOW + 2 * MINUTE)
        assert claims.session_id == first.session_id
    # the user's other session goes on
    assert await is_live(session, user_id, other.session_id)
    assert await sessions.refresh(session, other.refresh_token, now=NOW + 2 * MINUTE)


@pytest.mark.parametrize("kind", ["connection", "session"])
async def test_the_end_by_reuse_outlasts_the_error_that_rolls_the_caller_back(
    committed_engine: AsyncEngine, sessions: Sessions, kind: str
) -> None:
    async with committed_engine.begin() as connection:
        user_id = await add_user(connection)
        first = await sessions.start(connection, user_id, now=NOW)
        await sessions.refresh(connection, first.refresh_token, now=NOW)

    with pytest.raises(RefreshTokenReused):
        async with write_transaction(committed_engine, kind) as db:
            await sessions.refresh(db, first.refresh_token, now=NOW)

    async with committed_engine.connect() as connection:
        assert not await is_live(connection, user_id, first.session_id)


def write_transaction(
    engine: AsyncEngine, kind: str
) -> AbstractAsyncContextManager[AsyncConnection | AsyncSession]:
    """A write transaction as the server opens one: on a Core connection, or an ORM session."""

    @asynccontextmanager
    async def opened() -> AsyncIterator[AsyncConnection | AsyncSession]:
        if kind == "connection":
            async with engine.connect() as connection, connection_transaction(connection):
                yield connection
        else:
            async with create_session_factory(engine)() as session, transaction(session):
                yield session

    return opened()


async def test_a_refresh_the_caller_rolls_back_leaves_the_token_unused(
    committed_engine: AsyncEngine, sessions: Sessions
) -> None:
    async with committed_engine.begin() as connection:
        user_id = await add_user(connection)
        first = await sessions.start(connection, user_id, now=NOW)

    with pytest.raises(RuntimeError):
        async with write_transaction(committed_engine, "connection") as db:
            await sessions.refresh(db, first.refresh_token, now=NOW)
            raise RuntimeError("the mutation failed after the refresh")

    async with write_transaction(committed_engine, "session") as db:
        again = await sessions.refresh(db, first.refresh_token, now=NOW)
    assert again.session_id == first.session_id


async def test_of_two_concurrent_refreshes_of_one_token_exactly_one_succeeds(
    committed_engine: AsyncEngine, sessions: Sessions
) -> None:
    """The first holds its transaction open after its UPDATE; the second must wait for it.

    On PostgreSQL the second ``UPDATE`` waits for the row lock (seen in
    ``pg_stat_activity``), then re-reads the row, finds ``used_at`` set and
    matches nothing: a reuse. On SQLite the second waits for the write lock.
    """
    async with committed_engine.begin() as connection:
        user_id = await add_user(connection)
        pair = await sessions.start(connection, user_id, now=NOW)
    updated = asyncio.Event()

    async def first() -> TokenPair:
        async with write_transaction(committed_engine, "connection") as db:
            result = await sessions.refresh(db, pair.refresh_token, now=NOW)
            updated.set()
            await others_wait(committed_engine)
        return result

    async def second() -> TokenPair:
        await updated.wait()
        async with write_transaction(committed_engine, "connection") as db:
            return await sessions.refresh(db, pair.refresh_token, now=NOW)

    results = await asyncio.gather(first(), second(), return_exceptions=True)

    assert isinstance(results[0], TokenPair), results
    assert isinstance(results[1], RefreshTokenReused), results
    async with committed_engine.connect() as connection:
        used = await connection.scalar(
            select(auth_refresh_tokens.c.used_at).where(
                auth_refresh_tokens.c.token_hash == refresh_token_hash(pair.refresh_token)
            )
        )
        assert used == NOW
        # the second one was a reuse: the session is over for both
        assert not await is_live(connection, user_id, pair.session_id)


async def others_wait(engine: AsyncEngine) -> None:
    """Hold on until another transaction waits on a lock (PostgreSQL), or a while (SQLite)."""
    if engine.dialect.name != "postgresql":
        await asyncio.sleep(0.3)
        return
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    async with engine.connect() as connection:
        for _ in range(100):
            if await connection.scalar(waiting):
                return
            await connection.rollback()
            await asyncio.sleep(0.05)
    raise AssertionError("the second refresh never waited for the first one's row lock")


async def test_of_many_simultaneous_refreshes_of_one_token_one_succeeds(
    committed_engine: AsyncEngine, sessions: Sessions
) -> None:
    async with committed_engine.begin() as connection:
        user_id = await add_user(connection)
        pair = await sessions.start(connection, user_id, now=NOW)

    async def refresh() -> TokenPair:
        async with write_transaction(committed_engine, "connection") as db:
            return await sessions.refresh(db, pair.refresh_token, now=NOW)

    results = await asyncio.gather(*(refresh() for _ in range(6)), return_exceptions=True)

    assert [type(result) for result in results].count(TokenPair) == 1, results
    assert all(isinstance(result, TokenPair | RefreshTokenReused) for result in results), results
    async with committed_engine.connect() as connection:
        unused = await connection.scalar(
            select(func.count()).where(auth_refresh_tokens.c.used_at.is_(None))
        )
        assert unused == 1  # the winner's new token, of a session now ended
        assert not await is_live(connection, user_id, pair.session_id)


async def test_an_expired_refresh_token_is_refused_without_ending_the_session(
    session: AsyncSession, sessions: Sessions
) -> None:
    user_id = await add_user(session)
    pair = await sessions.start(session, user_id, now=NOW)
    spare = await sessions.start(session, user_id, now=NOW)

    await refused(
        sessions.refresh(session, pair.refresh_token, now=NOW + THIRTY_DAYS),
        ("refresh token expired"),
    )

    assert await is_live(session, user_id, pair.session_id)
    last_moment = NOW + THIRTY_DAYS - timedelta(microseconds=1)
    assert await sessions.refresh(session, spare.refresh_token, now=last_moment)


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("", id="empty"),
        pytest.param("not-a-token", id="unknown"),
        pytest.param("x" * 100_000, id="huge"),
        pytest.param("\ud800", id="lone-surrogate"),
    ],
)
async def test_an_unknown_refresh_token_is_refused(
    session: AsyncSession, sessions: Sessions, token: str
) -> None:
    user_id = await add_user(session)
    await sessions.start(session, user_id, now=NOW)

    error = await refused(sessions.refresh(session, token, now=NOW), "refresh token not recognised")
    assert token not in repr(error) or token == ""


async def test_a_fresh_random_token_is_unknown(session: AsyncSession, sessions: Sessions) -> None:
    await refused(sessions.refresh(session, new_refresh_token()), "refresh token not recognised")


async def test_an_ended_session_refreshes_no_more(
    session: AsyncSession, sessions: Sessions
) -> None:
    user_id = await add_user(session)
    pair = await sessions.start(session, user_id, now=NOW)

    assert await end_session(session, pair.session_id, user_id=user_id, now=NOW)

    assert not await is_live(session, user_id, pair.session_id)
    await refused(sessions.refresh(session, pair.refresh_token, now=NOW), "session ended")
    # an ended session stays ended, and ending it again says so
    assert not await end_session(session, pair.session_id, now=NOW)


async def test_a_session_is_ended_only_for_its_own_user(
    session: AsyncSession, sessions: Sessions
) -> None:
    ada = await add_user(session, "ada@example.com")
    bob = await add_user(session, "bob@example.com")
    pair = await sessions.start(session, ada, now=NOW)

    assert not await end_session(session, pair.session_id, user_id=bob)
    assert await is_live(session, ada, pair.session_id)


async def test_ending_every_session_of_a_user_can_keep_one(
    session: AsyncSession, sessions: Sessions
) -> None:
    ada = await add_user(session, "ada@example.com")
    bob = await add_user(session, "bob@example.com")
    first, kept, third = [await sessions.start(session, ada, now=NOW) for _ in range(3)]
    bobs = await sessions.start(session, bob, now=NOW)

    assert await end_sessions(session, ada, keep=kept.session_id, now=NOW) == 2

    live = {
        pair.session_id: await is_live(session, pair.user_id, pair.session_id)
        for pair in (first, kept, third, bobs)
    }
    assert live == {
        first.session_id: False,
        kept.session_id: True,
        third.session_id: False,
        bobs.session_id: True,
    }
    assert await end_sessions(session, ada) == 1
    assert not await is_live(session, ada, kept.session_id)
    assert await end_sessions(session, ada) == 0
    await refused(sessions.refresh(session, third.refresh_token), "session ended")


async def test_liveness_of_a_token(session: AsyncSession, sessions: Sessions) -> None:
    ada = await add_user(session, "ada@example.com")
    bob = await add_user(session, "bob@example.com")
    pair = await sessions.start(session, ada, now=NOW)
    bobs = await sessions.start(session, bob, now=NOW)

    assert await is_live(session, ada, pair.session_id)
    assert await is_live(session, ada, None)  # minted elsewhere: no session to end
    assert not await is_live(session, ada, bobs.session_id)  # another user's session
    assert not await is_live(session, ada, bobs.session_id + 1000)  # no such session
    assert not await is_live(session, 10_000, None)  # no such user


async def test_a_soft_deleted_user_signs_in_no_more(
    session: AsyncSession, sessions: Sessions
) -> None:
    user_id = await add_user(session)
    pair = await sessions.start(session, user_id, now=NOW)

    await soft_delete_user(session, user_id)

    assert not await is_live(session, user_id, pair.session_id)
    assert not await is_live(session, user_id, None)
    await refused(sessions.refresh(session, pair.refresh_token, now=NOW), "session ended")


async def test_deleting_a_user_deletes_its_sessions_and_tokens(
    session: AsyncSession, sessions: Sessions
) -> None:
    user_id = await add_user(session)
    pair = await sessions.start(session, user_id, now=NOW)
    await sessions.refresh(session, pair.refresh_token, now=NOW)

    await session.execute(delete(users).where(users.c.id == user_id))

    assert not await is_live(session, user_id, pair.session_id)
    assert await auth_rows(session) == []


async def test_liveness_is_one_statement(
    session: AsyncSession, sessions: Sessions, statements: StatementCounter
) -> None:
    user_id = await add_user(session)
    pair = await sessions.start(session, user_id, now=NOW)

    checks: list[Callable[[], Awaitable[bool]]] = [
        lambda: is_live(session, user_id, pair.session_id),
        lambda: is_live(session, user_id, None),
    ]
    for check in checks:
        statements.reset()
        assert await check()
        assert statements.count == 1, statements.statements


async def test_pruning_deletes_only_sessions_that_can_sign_no_one_in(
    session: AsyncSession, sessions: Sessions
) -> None:
    user_id = await add_user(session)
    ended = await sessions.start(session, user_id, now=NOW)
    await end_session(session, ended.session_id)
    lapsed = await sessions.start(session, user_id, now=NOW - THIRTY_DAYS)
    rotated = await sessions.start(session, user_id, now=NOW - THIRTY_DAYS)
    await sessions.refresh(session, rotated.refresh_token, now=NOW - MINUTE)
    fresh = await sessions.start(session, user_id, now=NOW)

    assert await prune_sessions(session, now=NOW) == 2

    remaining = await session.scalars(select(auth_sessions.c.id).order_by(auth_sessions.c.id))
    assert list(remaining) == [rotated.session_id, fresh.session_id]
    assert lapsed.session_id != rotated.session_id
