"""HTTP fixtures for the transport tests: the API app over the test database, and special apps.

``app``, ``client`` and ``gql`` are the schema tests' fixtures (the real app
over the test database, on SQLite and PostgreSQL); ``serve`` builds an app
with settings of its own for the tests that need them. ``pg_cluster`` is a
private PostgreSQL cluster that the fault tests stop, freeze and start.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from opentelemetry.sdk.trace import TracerProvider
from starlette.applications import Starlette

from migrations import alembic_config
from server.app import create_app
from server.settings import Settings
from tests.conftest import REQUIRE_POSTGRES, in_thread
from tests.pg_cluster import ClusterUnavailable, PgCluster
from tests.schema.conftest import app, blog, client, gql
from tests.server.processes import ftf_serve
from tests.verify import AS_TEST_ADMIN, AdminTokenGraphQLHTTP

__all__ = ["app", "blog", "client", "ftf_serve", "gql", "serve"]

Serve = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@asynccontextmanager
async def running(
    settings: Settings, *, tracer_provider: TracerProvider | None = None
) -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    """An app with ``settings``, started (lifespan), and a client of it as the tests' admin."""
    application = create_app(
        settings, endpoint=AdminTokenGraphQLHTTP, tracer_provider=tracer_provider
    )
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test", headers=AS_TEST_ADMIN
        ) as http:
            yield application, http


@pytest.fixture
def serve(tmp_path: Path) -> Serve:
    """``async with serve(graphiql=False) as http:`` a client of an app with those settings.

    The database defaults to an empty SQLite file: enough for documents that
    read no table (``{ __typename }``) and for the transport itself.
    """

    @asynccontextmanager
    async def run(**settings: Any) -> AsyncIterator[httpx.AsyncClient]:
        settings.setdefault("database_url", f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
        async with running(Settings(**settings)) as (_, http):
            yield http

    return run


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """A PostgreSQL cluster of the test run's own, on a free port of 127.0.0.1.

    Skipped without PostgreSQL's binaries, unless ``FTF_REQUIRE_POSTGRES=1``.
    """
    try:
        cluster = PgCluster.create()
    except ClusterUnavailable as exc:
        if REQUIRE_POSTGRES:
            pytest.fail(f"no private PostgreSQL cluster: {exc}", pytrace=False)
        pytest.skip(f"no private PostgreSQL cluster: {exc}")
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def cluster_database_url(pg_cluster: PgCluster) -> Iterator[str]:
    """A migrated database of this test's own in ``pg_cluster``, dropped afterwards.

    The test may stop the cluster: it is started again here whatever happened.
    """
    if not pg_cluster.is_running():
        pg_cluster.start()
    name = f"faults_{uuid.uuid4().hex[:12]}"
    pg_cluster.sql(f'CREATE DATABASE "{name}"')
    url = pg_cluster.url(name)
    try:
        in_thread(command.upgrade, alembic_config(url), "head")
        yield url
    finally:
        if not pg_cluster.is_running():
            pg_cluster.start()
        pg_cluster.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
