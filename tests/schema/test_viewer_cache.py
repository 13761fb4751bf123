"""The viewer cache across this process's mutations, over HTTP (``server.auth.viewer``).

A mutation that writes a table viewers are read from (a role revoked) makes
the next signed-in request read its viewer again, at once; any other (a post
written) leaves the cached viewers be, so signed-in requests stay a lookup.
The app's clock stands still here: a viewer, once read, stays cached however
slow the machine, so only a mutation can make it be read again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from server.auth.viewer import Authenticator
from tests.api import GraphQL, StatementCounter, gid
from tests.schema.support import deployed_app
from tests.schema.test_authorization_reads import insert_fresh
from tests.verify import AS_TEST_ADMIN

POSTS = "{ posts { totalCount } }"
CREATE_POST = (
    'mutation { createPost(input: {title: "Hello", body: "Hi.", published: true}) { id } }'
)
REVOKE = "mutation($u: ID!, $r: ID!) { revokeRole(userId: $u, roleId: $r) { id } }"


@pytest.fixture
async def app(database_url: str) -> AsyncIterator[Starlette]:
    """The app as deployed, its authenticator's clock stopped."""
    async with deployed_app(database_url=database_url) as application:
        container = application.state.container
        real = await container.get(Authenticator)
        stopped = Authenticator(real.tokens, real.provider, clock=lambda: 0.0)
        stopped.watch(await container.get(AsyncEngine))
        with container.override(Authenticator, stopped):
            yield application


@pytest.fixture
async def as_user(app: Starlette) -> AsyncIterator[Callable[[int | None], Awaitable[GraphQL]]]:
    """A client of the app as a user, with a token the app issued (``None``: the tests' admin)."""
    transport = httpx.ASGITransport(app=app)
    opened: list[httpx.AsyncClient] = []

    async def client(user_id: int | None) -> GraphQL:
        headers = AS_TEST_ADMIN
        if user_id is not None:
            authenticator: Authenticator = await app.state.container.get(Authenticator)
            headers = {"Authorization": f"Bearer {authenticator.tokens.issue(user_id).token}"}
        opened.append(httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers))
        return GraphQL(opened[-1])

    yield client
    for http in opened:
        await http.aclose()


async def test_a_mutation_that_changes_no_viewer_keeps_the_viewer_cached(
    app: Starlette,
    as_user: Callable[[int | None], Awaitable[GraphQL]],
    committed_engine: AsyncEngine,
) -> None:
    keys = await insert_fresh(
        committed_engine, users=[{"key": "ada", "name": "Ada", "email": "ada@example.com"}]
    )
    gql = await as_user(keys.users["ada"])
    engine: AsyncEngine = await app.state.container.get(AsyncEngine)

    counts = []
    with StatementCounter(engine) as sql:
        for document in (POSTS, POSTS, CREATE_POST, POSTS):
            before = sql.count
            await gql.data(document)
            counts.append(sql.count - before)

    read, cached, _written, after = counts
    assert read == cached + 1  # the first reads the viewer
    assert after == cached


async def test_a_role_revoked_on_this_process_holds_at_once(
    as_user: Callable[[int | None], Awaitable[GraphQL]], committed_engine: AsyncEngine
) -> None:
    keys = await insert_fresh(
        committed_engine,
        users=[
            {"key": "ada", "name": "Ada", "email": "ada@example.com"},
            {"key": "bob", "name": "Bob", "email": "bob@example.com"},
        ],
        roles=[{"key": "editor", "name": "editor"}],
        memberships=[("ada", "editor")],
        posts=[{"key": "draft", "author": "bob", "title": "Draft", "published": False}],
    )
    ada, admin = await as_user(keys.users["ada"]), await as_user(None)

    assert await ada.data(POSTS) == {"posts": {"totalCount": 1}}  # an editor sees drafts
    revoked = {"u": gid("User", keys.users["ada"]), "r": gid("Role", keys.roles["editor"])}
    await admin.data(REVOKE, revoked)

    assert await ada.data(POSTS) == {"posts": {"totalCount": 0}}
