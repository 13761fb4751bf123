"""HTTP fixtures for the transport tests: the API app over the test database, and special apps.

``app``, ``client`` and ``gql`` are the schema tests' fixtures (the real app
over the test database, on SQLite and PostgreSQL); ``serve`` builds an app
with settings of its own for the tests that need them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.app import create_app
from server.settings import Settings
from tests.schema.conftest import app, blog, client, gql

__all__ = ["app", "blog", "client", "gql", "serve"]

Serve = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def serve(tmp_path: Path) -> Serve:
    """``async with serve(graphiql=False) as http:`` a client of an app with those settings.

    The database defaults to an empty SQLite file: enough for documents that
    read no table (``{ __typename }``) and for the transport itself.
    """

    @asynccontextmanager
    async def run(**settings: Any) -> AsyncIterator[httpx.AsyncClient]:
        settings.setdefault("database_url", f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
        application = create_app(Settings(**settings))
        async with application.router.lifespan_context(application):
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
                yield http

    return run
