"""The API under test: the real application over the test database, driven through httpx."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from fast_query import Base
from server.app import create_app
from server.auth.viewer import Authenticator
from server.settings import Settings
from tests.api import Dataset, GraphQL, StatementCounter, at, insert_dataset
from tests.schema.support import bulk_insert_dataset, crowd_rows
from tests.verify import AS_TEST_ADMIN, AdminTokenGraphQLHTTP, VerifyingGraphQLHTTP


def TEST_SETTINGS(database_url: str) -> Settings:
    """The shared apps' settings: every viewer read afresh (``AUTH_VIEWER_CACHE_TTL=0``).

    The tests empty the tables between them and keys start over, so a viewer
    cached for a user id a moment ago may be another test's user.
    """
    return Settings(database_url=database_url, auth_viewer_cache_ttl=0)


@pytest.fixture(scope="session")
async def app(database_url: str) -> AsyncIterator[Starlette]:
    # Every query the tests send runs on the fast path and again through the
    # resolvers; the response fails unless both give the same data.
    application = create_app(TEST_SETTINGS(database_url), endpoint=VerifyingGraphQLHTTP)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="session")
async def unverified_app(database_url: str) -> AsyncIterator[Starlette]:
    """The app as production runs it: the fast path answers alone, unverified.

    For reads that race writes: verifying runs a query again through the
    resolvers, and a write committed in between makes the two differ with
    nothing wrong. Use it with ``committed_engine``, which empties the tables.
    """
    application = create_app(TEST_SETTINGS(database_url), endpoint=AdminTokenGraphQLHTTP)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="session")
async def app_engine(app: Starlette) -> AsyncEngine:
    engine: AsyncEngine = await app.state.container.get(AsyncEngine)
    return engine


@pytest.fixture
async def committed_engine(engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """The shared fixture's engine, with every table emptied after the test.

    Same effect as ``tests.conftest.truncate_all`` (no rows, keys start at 1
    again), but with ``DELETE`` and ``setval``: ``TRUNCATE`` takes about 0.1 s
    on PostgreSQL, which every test of this package pays.
    """
    yield engine
    await empty_tables(engine)


async def empty_tables(engine: AsyncEngine) -> None:
    tables = list(reversed(Base.metadata.sorted_tables))
    async with engine.begin() as connection:
        for table in tables:
            await connection.execute(table.delete())
        keyed = [table.name for table in tables if "id" in table.c]
        if connection.dialect.name == "postgresql" and keyed:
            restarts = ", ".join(
                f"setval(pg_get_serial_sequence('{name}', 'id'), 1, false)" for name in keyed
            )
            await connection.execute(text(f"SELECT {restarts}"))


@pytest.fixture
async def client(app: Starlette, committed_engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the app, as the tests' admin; every table is emptied after the test."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://test", headers=AS_TEST_ADMIN
    ) as http:
        yield http


@pytest.fixture
def gql(client: httpx.AsyncClient) -> GraphQL:
    return GraphQL(client)


@pytest.fixture
def sql(app_engine: AsyncEngine) -> StatementCounter:
    """Counts the statements the app runs inside ``with sql:``."""
    return StatementCounter(app_engine)


@pytest.fixture
async def blog(committed_engine: AsyncEngine, client: httpx.AsyncClient) -> Dataset:
    """A small, known blog: four users (Cyd soft-deleted), posts, comments and roles."""
    return await insert_dataset(
        committed_engine,
        users=[
            {"key": "ada", "name": "Ada Lovelace", "email": "ada@example.com"},
            {"key": "bob", "name": "Bob Builder", "email": "bob@example.com"},
            {"key": "cyd", "name": "Cyd Gone", "email": "cyd@example.com", "deleted_at": at(100)},
            {"key": "dee", "name": "Dee Quiet", "email": "dee@example.com"},
        ],
        roles=[
            {"key": "admin", "name": "admin"},
            {"key": "editor", "name": "editor"},
            {"key": "reader", "name": "reader"},
        ],
        memberships=[("ada", "admin"), ("ada", "editor"), ("bob", "reader"), ("cyd", "reader")],
        posts=[
            {"key": "a1", "author": "ada", "title": "Analytical Engine"},
            {"key": "a2", "author": "ada", "title": "Notes on Bernoulli", "published": False},
            {"key": "a3", "author": "ada", "title": "Trashed idea", "deleted_at": at(200)},
            {"key": "b1", "author": "bob", "title": "Building things"},
            {"key": "b2", "author": "bob", "title": "Can we fix it"},
            {"key": "c1", "author": "cyd", "title": "Ghost post"},
        ],
        comments=[
            {"key": "c-a1-bob", "post": "a1", "author": "bob", "body": "Brilliant"},
            {"key": "c-a1-cyd", "post": "a1", "author": "cyd", "body": "From the other side"},
            {"key": "c-a1-dee", "post": "a1", "author": "dee", "body": "Quietly impressed"},
            {"key": "c-b1-ada", "post": "b1", "author": "ada", "body": "Nice work"},
            {"key": "c-a3-bob", "post": "a3", "author": "bob", "body": "On a trashed post"},
        ],
    )


@pytest.fixture
async def crowd(committed_engine: AsyncEngine, client: httpx.AsyncClient) -> Dataset:
    """25 users with 0 to 5 posts each and 0 to 3 comments per post (``support.crowd_rows``)."""
    return await bulk_insert_dataset(committed_engine, **crowd_rows())


@pytest.fixture
async def as_viewer(
    app: Starlette, committed_engine: AsyncEngine
) -> AsyncIterator[Callable[[int | None], GraphQL]]:
    """A client of the app as a user (by database id; ``None``: anonymous), with a real token."""
    auth: Authenticator = await app.state.container.get(Authenticator)
    transport = httpx.ASGITransport(app=app)
    opened: list[httpx.AsyncClient] = []

    def client(user_id: int | None) -> GraphQL:
        headers = {}
        if user_id is not None:
            headers["Authorization"] = f"Bearer {auth.tokens.issue(user_id).token}"
        http = httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers)
        opened.append(http)
        return GraphQL(http)

    yield client
    for http in opened:
        await http.aclose()
