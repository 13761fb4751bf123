"""Database fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL tests create a database of their own on the server named by
``FTF_TEST_POSTGRES_URL`` (default: local, user postgres) and drop it at the
end. Without a reachable server they are skipped, unless
``FTF_REQUIRE_POSTGRES=1`` (set by CI), which makes them fail instead.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest
from alembic import command
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

import models
from fast_query import Base, create_engine, create_session_factory
from migrations import alembic_config

ADMIN_URL = os.environ.get(
    "FTF_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_POSTGRES = os.environ.get("FTF_REQUIRE_POSTGRES", "") not in ("", "0", "false")
BACKENDS = ("sqlite", "postgresql")
FTF = Path(sys.executable).with_name("ftf")  # the installed console script
T = TypeVar("T")


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def in_thread(function: Callable[..., T], *args: Any) -> T:
    """Run blocking code (``asyncio.run`` inside) away from the test event loop."""
    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(function, *args).result()


async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(_asyncpg_dsn(ADMIN_URL), timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def create_postgres_database() -> str:
    """Create an empty database with a unique name on the PostgreSQL server; its URL.

    Skips the test when no server answers (fails it under ``FTF_REQUIRE_POSTGRES``).
    """
    name = f"ftf_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        in_thread(asyncio.run, _admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        message = f"PostgreSQL is unreachable at {ADMIN_URL}: {exc!r}"
        if REQUIRE_POSTGRES:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    name = make_url(url).database
    in_thread(asyncio.run, _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A fresh, empty database on the PostgreSQL server, dropped after the run."""
    url = create_postgres_database()
    yield url
    drop_postgres_database(url)


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("sqlite") / "test.db"
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def database_url(backend: str, request: pytest.FixtureRequest) -> str:
    """The URL of a migrated test database of ``backend``."""
    if backend == "postgresql":
        url: str = request.getfixturevalue("postgres_server_url")
    else:
        url = request.getfixturevalue("sqlite_url")
    in_thread(command.upgrade, alembic_config(url), "head")
    return url


@pytest.fixture
def new_database(tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """Makes empty databases for this test alone: ``new_database("sqlite")`` is a URL.

    SQLite databases are files in ``tmp_path``; PostgreSQL ones are dropped after the test.
    """
    made: list[str] = []

    def new(backend: str) -> str:
        if backend == "postgresql":
            url = create_postgres_database()
            made.append(url)
            return url
        return f"sqlite+aiosqlite:///{tmp_path / f'{uuid.uuid4().hex[:8]}.db'}"

    yield new
    for url in made:
        drop_postgres_database(url)


@pytest.fixture
def fresh_database_url(backend: str, new_database: Callable[[str], str]) -> str:
    """An empty, unmigrated database of ``backend`` for this test alone."""
    return new_database(backend)


@pytest.fixture
def migrated_database_url(fresh_database_url: str) -> str:
    """A database of ``backend`` for this test alone, migrated to head (free to commit to)."""
    in_thread(command.upgrade, alembic_config(fresh_database_url), "head")
    return fresh_database_url


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection inside a transaction that is rolled back after the test."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        try:
            yield connection
        finally:
            if transaction.is_active:
                await transaction.rollback()


@pytest.fixture
async def session(connection: AsyncConnection) -> AsyncIterator[AsyncSession]:
    """A session whose commits are savepoints inside the test's transaction."""
    factory = create_session_factory(connection, join_transaction_mode="create_savepoint")
    async with factory() as session:
        yield session


@pytest.fixture
async def committed_engine(engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """The engine for tests that must really commit (concurrency); tables are emptied after."""
    yield engine
    await truncate_all(engine)


async def truncate_all(engine: AsyncEngine) -> None:
    tables = [table.name for table in reversed(Base.metadata.sorted_tables)]
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                await connection.execute(text(f"DELETE FROM {table}"))


Ftf = Callable[..., "subprocess.CompletedProcess[str]"]


@pytest.fixture
def ftf(tmp_path: Path) -> Ftf:
    """Runs the installed ``ftf`` script in ``tmp_path`` (outside the repository).

    ``ftf("seed", "--users", "5", database_url=url)``; without ``database_url``
    the variable is unset. ``module=True`` runs ``python -m server`` instead;
    ``input`` is its standard input (else it has none).
    """

    def run(
        *args: str, database_url: str | None = None, module: bool = False, input: str = ""
    ) -> subprocess.CompletedProcess[str]:
        env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
        if database_url is not None:
            env["DATABASE_URL"] = database_url
        command = [sys.executable, "-m", "server"] if module else [str(FTF)]
        return subprocess.run(
            [*command, *args],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,
            env=env,
            input=input,
        )

    return run


@pytest.fixture(scope="session")
def live_schema() -> dict[str, str]:
    """The live schema as ``ftf export-schema`` prints it: ``{"sdl": ..., "json": ...}``."""
    from schema import build_schema, introspection_json, schema_sdl

    schema = build_schema()
    return {
        "sdl": schema_sdl(schema),
        "json": json.dumps(introspection_json(schema), indent=2) + "\n",
    }


class StatementCounter:
    """Counts the SQL statements an engine runs (transaction control excluded)."""

    COUNTED = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith(self.COUNTED):
            self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)

    def reset(self) -> None:
        self.statements.clear()


@pytest.fixture
def statements(engine: AsyncEngine) -> Iterator[StatementCounter]:
    counter = StatementCounter()
    event.listen(engine.sync_engine, "before_cursor_execute", counter)
    try:
        yield counter
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", counter)


assert models.__all__  # every table is registered before Base.metadata is used
