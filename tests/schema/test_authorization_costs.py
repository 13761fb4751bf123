"""What authorization costs in SQL statements (contract section 8).

"An authenticated request costs at most one SQL statement more than the same
request made anonymously, and never one per row." The app here runs without
verification (``tests.verify``'s endpoint would run each query twice), so
``sql`` counts what production runs: reading the viewer from its token
included.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from tests.api import GraphQL, StatementCounter
from tests.schema.conftest import empty_tables
from tests.schema.support import deployed_app
from tests.schema.test_authorization_reads import insert_fresh


@pytest.fixture(scope="module")
async def app(database_url: str) -> AsyncIterator[Starlette]:
    """The application as deployed; every signed-in request reads its viewer (+1 statement)."""
    async with deployed_app(database_url=database_url, auth_viewer_cache_ttl=0) as application:
        yield application


@pytest.fixture(scope="module")
async def app_engine(app: Starlette) -> AsyncEngine:
    engine: AsyncEngine = await app.state.container.get(AsyncEngine)
    return engine


AUTHORS = ("ada", "bob", "cyd", "dee", "eve")


async def insert_blog(engine: AsyncEngine, posts: int) -> dict[str, int]:
    """Five writers (Ada an editor, Bob a moderator, Cyd an admin) and ``posts`` posts,
    most published, each with two comments; the users' ids by key."""
    keys = await insert_fresh(
        engine,
        users=[{"key": key, "name": key.title(), "email": f"{key}@example.com"} for key in AUTHORS],
        roles=[{"key": name, "name": name} for name in ("editor", "moderator", "admin")],
        memberships=[("ada", "editor"), ("bob", "moderator"), ("cyd", "admin")],
        posts=[
            {
                "key": f"p{n}",
                "author": AUTHORS[n % len(AUTHORS)],
                "title": f"Post {n}",
                "published": n % 4 != 3,
            }
            for n in range(posts)
        ],
        comments=[
            {"key": f"c{n}-{m}", "post": f"p{n}", "author": AUTHORS[(n + m + 1) % len(AUTHORS)]}
            for n in range(posts)
            for m in range(2)
        ],
    )
    return keys.users


async def statements(gql: GraphQL, sql: StatementCounter, query: str) -> tuple[int, Any]:
    """How many statements ``query`` runs (it must succeed), and its data."""
    with sql:
        before = sql.count
        data = await gql.data(query)
        return sql.count - before, data


PLAIN = """
{ posts(first: 100, where: {published: {eq: true}}) { totalCount nodes {
    id title author { id name email }
    comments(first: 10) { totalCount nodes { id body author { name email } } } } } }
"""
WITH_PERMISSIONS = """
{ posts(first: 100, where: {published: {eq: true}}) { totalCount nodes {
    id title viewerCanUpdate viewerCanDelete author { id name email viewerCanUpdate }
    comments(first: 10) { totalCount nodes {
      id body viewerCanUpdate viewerCanDelete author { name email } } } } } }
"""
USERS = """
{ users(first: 100, orderBy: [{field: NAME}]) { totalCount
    nodes { id email viewerCanUpdate viewerCanDelete
      posts(first: 10, where: {published: {eq: true}}) {
        totalCount nodes { id viewerCanDelete } } } } }
"""
#: Ordered by a masked column: the order differs between viewers, not the statements.
USERS_BY_EMAIL = USERS.replace("NAME", "EMAIL")


#: What differs between viewers who see the same rows.
PER_VIEWER = {"email", "viewerCanUpdate", "viewerCanDelete"}


def rows_of(data: Any) -> Any:
    """A response without the fields that depend on who asks: the rows it holds."""
    if isinstance(data, dict):
        return {key: rows_of(value) for key, value in data.items() if key not in PER_VIEWER}
    if isinstance(data, list):
        return [rows_of(item) for item in data]
    return data


QUERIES = [
    pytest.param(PLAIN, id="posts-authors-comments"),
    pytest.param(WITH_PERMISSIONS, id="with-viewer-can"),
    pytest.param(USERS, id="users-by-email"),
]


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("viewer", ["ada", "bob", "cyd", "eve"])
async def test_a_signed_in_request_costs_at_most_one_statement_more_than_an_anonymous_one(
    as_viewer: Callable[[int | None], GraphQL],
    committed_engine: AsyncEngine,
    sql: StatementCounter,
    query: str,
    viewer: str,
) -> None:
    users = await insert_blog(committed_engine, 12)

    anonymous, anonymous_data = await statements(as_viewer(None), sql, query)
    signed_in, signed_in_data = await statements(as_viewer(users[viewer]), sql, query)

    # The same rows (published posts, every comment of them, every user) for both.
    assert rows_of(signed_in_data) == rows_of(anonymous_data)
    assert signed_in <= anonymous + 1, (anonymous, signed_in)


@pytest.mark.parametrize(
    "query", [*QUERIES, pytest.param(USERS_BY_EMAIL, id="users-ordered-by-email")]
)
@pytest.mark.parametrize("viewer", ["ada", "cyd", None], ids=["editor", "admin", "anonymous"])
async def test_statements_do_not_grow_with_the_rows(
    as_viewer: Callable[[int | None], GraphQL],
    committed_engine: AsyncEngine,
    sql: StatementCounter,
    query: str,
    viewer: str | None,
) -> None:
    counts = []
    for posts in (10, 50):
        await empty_tables(committed_engine)
        users = await insert_blog(committed_engine, posts)
        gql = as_viewer(None if viewer is None else users[viewer])
        count, data = await statements(gql, sql, query)
        root = data["posts"] if "posts" in data else data["users"]
        assert root["totalCount"] > 0
        counts.append(count)

    assert counts[0] == counts[1], counts
