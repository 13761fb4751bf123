"""The API under test: the real application over the test database, driven through httpx."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from server.app import create_app
from server.settings import Settings
from tests.api import Dataset, GraphQL, StatementCounter, at, insert_dataset


@pytest.fixture(scope="session")
async def app(database_url: str) -> AsyncIterator[Starlette]:
    application = create_app(Settings(database_url=database_url))
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="session")
async def app_engine(app: Starlette) -> AsyncEngine:
    engine: AsyncEngine = await app.state.container.get(AsyncEngine)
    return engine


@pytest.fixture
async def client(app: Starlette, committed_engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the app; every table is emptied after the test."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
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
