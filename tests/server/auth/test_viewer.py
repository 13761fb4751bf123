"""``Authenticator``: a bearer token to its viewer, and the half-second cache of viewers."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncEngine

from models import Post
from schema.viewer import ANONYMOUS, Viewer
from server.auth.sessions import Sessions, end_session
from server.auth.tokens import LEEWAY_SECONDS, AccessTokens, InvalidToken
from server.auth.viewer import VIEWER_TTL, Authenticator, writes_viewer_tables
from tests.api import StatementCounter
from tests.server.auth.support import Clock, add_user, soft_delete_user, users


@pytest.fixture
def authenticator(tokens: AccessTokens, clock: Clock) -> Authenticator:
    return Authenticator(tokens, clock=clock)


async def test_no_header_is_anonymous_and_reads_nothing(
    authenticator: Authenticator, committed_engine: AsyncEngine
) -> None:
    with StatementCounter(committed_engine) as sql:
        assert await authenticator.viewer(committed_engine, None) is ANONYMOUS
    assert sql.count == 0


async def test_a_viewer_is_read_once_then_served_for_half_a_second(
    authenticator: Authenticator,
    committed_engine: AsyncEngine,
    sessions: Sessions,
    clock: Clock,
) -> None:
    async with committed_engine.begin() as connection:
        user_id = await add_user(connection)
        pair = await sessions.start(connection, user_id)
    header = f"Bearer {pair.access_token}"

    with StatementCounter(committed_engine) as sql:
        first = await authenticator.viewer(committed_engine, header)
        clock.now += VIEWER_TTL / 2
        again = await authenticator.viewer(committed_engine, header)
    assert (first.user_id, first.session_id, first.roles) == (user_id, pair.session_id, frozenset())
    assert again == first
    assert sql.count == 1

    # Another process ends the session: this one notices once the viewer is stale.
    async with committed_engine.begin() as connection:
        await end_session(connection, pair.session_id)
    assert await authenticator.viewer(committed_engine, header) == first
    clock.now += VIEWER_TTL
    with pytest.raises(InvalidToken):
        await authenticator.viewer(committed_engine, header)


async def test_forget_makes_the_next_request_read_its_viewer_again(
    authenticator: Authenticator, committed_engine: AsyncEngine, tokens: AccessTokens
) -> None:
    async with committed_engine.begin() as connection:
        user_id = await add_user(connection)
    header = f"Bearer {tokens.issue(user_id).token}"
    await authenticator.viewer(committed_engine, header)

    async with committed_engine.begin() as connection:
        await connection.execute(
            update(users).where(users.c.id == user_id).values(deleted_at=users.c.created_at)
        )
    authenticator.forget()  # what a mutation of this process does
    with pytest.raises(InvalidToken):
        await authenticator.viewer(committed_engine, header)


async def test_a_bad_token_is_refused_before_any_statement(
    authenticator: Authenticator, committed_engine: AsyncEngine
) -> None:
    with StatementCounter(committed_engine) as sql:
        for header in ("Bearer not-a-token", "Basic dXNlcjpwYXNz", "Bearer"):
            with pytest.raises(InvalidToken):
                await authenticator.viewer(committed_engine, header)
    assert sql.count == 0


async def test_a_cached_token_is_still_refused_once_it_expires(
    authenticator: Authenticator, committed_engine: AsyncEngine, tokens: AccessTokens
) -> None:
    async with committed_engine.begin() as connection:
        user_id = await add_user(connection)
    # Accepted for one or two more seconds: its lifetime and the 30 s of leeway nearly
    # spent (token times are whole seconds).
    refused_from = int(time.time()) + 2
    issued = datetime.fromtimestamp(refused_from - LEEWAY_SECONDS - tokens.ttl, UTC)
    header = f"Bearer {tokens.issue(user_id, now=issued).token}"
    assert (await authenticator.viewer(committed_engine, header)).user_id == user_id

    # The cache's own clock stands still: only the token expires.
    await asyncio.sleep(refused_from - time.time() + 0.1)
    with pytest.raises(InvalidToken):
        await authenticator.viewer(committed_engine, header)


@pytest.mark.parametrize(
    ("statement", "changes_viewers"),
    [
        ("INSERT INTO comments (post_id, body) VALUES (?, ?)", False),
        ("UPDATE posts SET title=$1 WHERE posts.id = $2", False),
        ("DELETE FROM auth_refresh_tokens WHERE session_id = $1", False),
        ("SELECT users.id FROM users JOIN user_roles ON 1 = 1", False),
        ("UPDATE users SET deleted_at=$1 WHERE users.id = $2", True),
        ("INSERT INTO user_roles (user_id, role_id) SELECT 1, 2 ON CONFLICT DO NOTHING", True),
        ('DELETE FROM "roles" WHERE roles.id = ?', True),
        ("INSERT INTO auth_sessions (user_id) VALUES ($1) RETURNING auth_sessions.id", True),
        ("INSERT OR IGNORE INTO user_roles (user_id, role_id) VALUES (?, ?)", True),
        ("WITH gone AS (SELECT 1) UPDATE auth_sessions SET ended_at = now()", True),
        ('UPDATE "public"."users" SET name = $1', True),
        ("UPDATE OR IGNORE user_roles SET role_id = ?", True),
        ("DELETE FROM public.posts WHERE id = $1", False),
    ],
)
def test_which_writes_may_change_a_viewer(statement: str, changes_viewers: bool) -> None:
    assert writes_viewer_tables(statement) is changes_viewers


@pytest.fixture
async def watched(
    authenticator: Authenticator, committed_engine: AsyncEngine, tokens: AccessTokens
) -> tuple[int, str, Viewer]:
    """A user whose viewer the authenticator, watching the engine's writes, has cached:
    its id, its ``Authorization`` header and the viewer."""
    authenticator.watch(committed_engine)
    async with committed_engine.begin() as connection:
        user_id = await add_user(connection)
    header = f"Bearer {tokens.issue(user_id).token}"
    return user_id, header, await authenticator.viewer(committed_engine, header)


async def test_a_mutation_forgets_the_viewers_only_when_it_wrote_a_viewer_table(
    authenticator: Authenticator, committed_engine: AsyncEngine, watched: tuple[int, str, Viewer]
) -> None:
    user_id, header, viewer = watched

    with authenticator.mutation():  # one that writes no viewer table
        async with committed_engine.begin() as connection:
            await connection.execute(
                insert(Post).values(user_id=user_id, title="Hi", body="", published=True)
            )
    with StatementCounter(committed_engine) as sql:
        assert await authenticator.viewer(committed_engine, header) == viewer
    assert sql.count == 0

    with authenticator.mutation():
        async with committed_engine.begin() as connection:
            await soft_delete_user(connection, user_id)
        # Until the mutation ends, committed, the viewers stand.
        assert await authenticator.viewer(committed_engine, header) == viewer
    with pytest.raises(InvalidToken):
        await authenticator.viewer(committed_engine, header)


async def test_a_viewer_table_written_outside_a_mutation_is_forgotten_at_once(
    authenticator: Authenticator, committed_engine: AsyncEngine, watched: tuple[int, str, Viewer]
) -> None:
    user_id, header, _viewer = watched

    async with committed_engine.begin() as connection:
        await soft_delete_user(connection, user_id)
    with pytest.raises(InvalidToken):
        await authenticator.viewer(committed_engine, header)
