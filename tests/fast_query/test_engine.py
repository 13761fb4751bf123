"""create_engine: the connection settings it applies on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine

from fast_query import SQLITE_BEGIN_IMMEDIATE
from fast_query.engine import is_memory_sqlite
from tests.fast_query.conftest import EngineMaker


@pytest.fixture
def sqlite_file(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'engine.db'}"


async def scalar(engine: AsyncEngine, sql: str) -> Any:
    async with engine.connect() as connection:
        return await connection.scalar(text(sql))


# -- SQLite -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pragma", "expected"),
    [
        pytest.param("PRAGMA foreign_keys", 1, id="foreign-keys"),
        pytest.param("PRAGMA journal_mode", "wal", id="wal"),
        pytest.param("PRAGMA synchronous", 1, id="synchronous-normal"),
        pytest.param("PRAGMA busy_timeout", 5000, id="busy-timeout"),
    ],
)
async def test_sqlite_file_pragmas(
    make_engine: EngineMaker, sqlite_file: str, pragma: str, expected: object
) -> None:
    assert await scalar(make_engine(sqlite_file), pragma) == expected


@pytest.mark.parametrize(
    ("pragma", "expected"),
    [
        pytest.param("PRAGMA foreign_keys", 1, id="foreign-keys"),
        pytest.param("PRAGMA journal_mode", "memory", id="no-wal"),
        pytest.param("PRAGMA busy_timeout", 5000, id="busy-timeout"),
    ],
)
async def test_sqlite_memory_pragmas(
    make_engine: EngineMaker, pragma: str, expected: object
) -> None:
    assert await scalar(make_engine("sqlite+aiosqlite:///:memory:"), pragma) == expected


async def test_sqlite_busy_timeout_is_configurable(
    make_engine: EngineMaker, sqlite_file: str
) -> None:
    engine = make_engine(sqlite_file, sqlite_busy_timeout=1.25)
    assert await scalar(engine, "PRAGMA busy_timeout") == 1250


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        pytest.param("SELECT 'abc' LIKE 'ABC'", 0, id="like-is-case-sensitive"),
        pytest.param("SELECT 'abc' LIKE 'a_c'", 1, id="like-still-matches"),
        pytest.param("SELECT 'É' LIKE 'é'", 0, id="like-accents"),
        pytest.param("SELECT lower('ÉLODIE SØREN')", "élodie søren", id="unicode-lower"),
        pytest.param("SELECT lower(NULL)", None, id="lower-null"),
        pytest.param("SELECT lower(42)", 42, id="lower-number"),
        pytest.param("SELECT lower('É') LIKE lower('é')", 1, id="ilike-folds-accents"),
    ],
)
async def test_sqlite_text_rules_match_postgresql(
    make_engine: EngineMaker, sql: str, expected: object
) -> None:
    assert await scalar(make_engine("sqlite+aiosqlite:///:memory:"), sql) == expected


async def test_sqlite_enforces_foreign_keys(make_engine: EngineMaker, sqlite_file: str) -> None:
    engine = make_engine(sqlite_file)
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE parent (id INTEGER PRIMARY KEY)"))
        await connection.execute(
            text("CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id REFERENCES parent(id))")
        )
    with pytest.raises(DBAPIError, match="FOREIGN KEY constraint failed"):
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO child (parent_id) VALUES (1)"))
    assert await scalar(engine, "SELECT count(*) FROM child") == 0


async def begins(engine: AsyncEngine, **options: Any) -> list[str]:
    """The BEGIN statements a transaction on ``engine`` sends, with ``options`` set."""
    sent: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("BEGIN"):
            sent.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        async with engine.connect() as connection:
            await connection.execution_options(**options)
            async with connection.begin():
                await connection.execute(text("SELECT 1"))
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    return sent


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        pytest.param({}, ["BEGIN"], id="deferred"),
        pytest.param({SQLITE_BEGIN_IMMEDIATE: True}, ["BEGIN IMMEDIATE"], id="immediate"),
        pytest.param({SQLITE_BEGIN_IMMEDIATE: False}, ["BEGIN"], id="off"),
    ],
)
async def test_sqlite_begin(
    make_engine: EngineMaker, sqlite_file: str, options: dict[str, Any], expected: list[str]
) -> None:
    assert await begins(make_engine(sqlite_file), **options) == expected


async def test_sqlite_begin_immediate_takes_the_write_lock_up_front(
    make_engine: EngineMaker, sqlite_file: str
) -> None:
    engine = make_engine(sqlite_file, sqlite_busy_timeout=0.05)
    async with engine.begin() as setup:
        await setup.execute(text("CREATE TABLE t (x INTEGER)"))
    async with engine.connect() as holder:
        await holder.execution_options(**{SQLITE_BEGIN_IMMEDIATE: True})
        async with holder.begin():
            await holder.execute(text("SELECT 1"))  # reads only, yet holds the lock
            with pytest.raises(OperationalError, match="database is locked"):
                async with engine.begin() as writer:
                    await writer.execute(text("INSERT INTO t VALUES (1)"))
    async with engine.begin() as writer:
        await writer.execute(text("INSERT INTO t VALUES (1)"))
    assert await scalar(engine, "SELECT count(*) FROM t") == 1


async def test_sqlite_transactions_roll_back_reads_and_savepoints(
    make_engine: EngineMaker, sqlite_file: str
) -> None:
    engine = make_engine(sqlite_file)
    async with engine.begin() as setup:
        await setup.execute(text("CREATE TABLE t (x INTEGER)"))
    async with engine.connect() as connection, connection.begin() as outer:
        await connection.execute(text("INSERT INTO t VALUES (1)"))
        savepoint = await connection.begin_nested()
        await connection.execute(text("INSERT INTO t VALUES (2)"))
        await savepoint.rollback()
        assert await connection.scalar(text("SELECT count(*) FROM t")) == 1
        await outer.rollback()
    assert await scalar(engine, "SELECT count(*) FROM t") == 0


@pytest.mark.parametrize(
    ("url", "memory"),
    [
        pytest.param("sqlite+aiosqlite://", True, id="no-database"),
        pytest.param("sqlite+aiosqlite:///:memory:", True, id="memory"),
        pytest.param(
            "sqlite+aiosqlite:///file:db?mode=memory&cache=shared&uri=true", True, id="uri"
        ),
        pytest.param("sqlite+aiosqlite:///./app.db", False, id="file"),
    ],
)
def test_is_memory_sqlite(url: str, memory: bool) -> None:
    assert is_memory_sqlite(make_url(url)) is memory


# -- PostgreSQL -------------------------------------------------------------------


async def test_postgresql_statement_timeout(
    make_engine: EngineMaker, postgres_server_url: str
) -> None:
    engine = make_engine(postgres_server_url, statement_timeout=0.2)
    assert await scalar(engine, "SHOW statement_timeout") == "200ms"
    with pytest.raises(DBAPIError, match="canceling statement due to statement timeout"):
        await scalar(engine, "SELECT pg_sleep(2)")
    # The connection survives the cancelled statement.
    assert await scalar(engine, "SELECT 1") == 1


async def test_postgresql_no_statement_timeout_by_default(
    make_engine: EngineMaker, postgres_server_url: str
) -> None:
    assert await scalar(make_engine(postgres_server_url), "SHOW statement_timeout") == "0"


async def test_postgresql_keeps_other_server_settings(
    make_engine: EngineMaker, postgres_server_url: str
) -> None:
    engine = make_engine(
        postgres_server_url,
        statement_timeout=1.5,
        connect_args={"server_settings": {"application_name": "fast-query-test"}},
    )
    assert await scalar(engine, "SHOW statement_timeout") == "1500ms"
    assert await scalar(engine, "SHOW application_name") == "fast-query-test"


async def test_postgresql_pool_options(make_engine: EngineMaker, postgres_server_url: str) -> None:
    engine = make_engine(postgres_server_url, pool_size=3, max_overflow=0, pool_timeout=0.1)
    assert engine.pool.size() == 3  # type: ignore[attr-defined]
    connections = [await engine.connect() for _ in range(3)]
    try:
        with pytest.raises(PoolTimeout):
            await engine.connect()
    finally:
        for connection in connections:
            await connection.close()


# -- PostgreSQL: the pool's pre-ping ------------------------------------------------


async def last_statement(observer: asyncpg.Connection, pid: int) -> str:
    """What the backend ``pid`` ran last, as PostgreSQL reports it."""
    return str(await observer.fetchval("SELECT query FROM pg_stat_activity WHERE pid = $1", pid))


@pytest.fixture
async def observer(postgres_server_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A plain asyncpg connection that watches the engine's backends."""
    url = make_url(postgres_server_url).set(drivername="postgresql")
    connection = await asyncpg.connect(url.render_as_string(hide_password=False), timeout=5)
    yield connection
    await connection.close()


async def backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(text("SELECT pg_backend_pid()")))


@pytest.mark.parametrize(("idle", "pinged"), [(0.0, True), (60.0, False)])
async def test_postgresql_pre_ping_skips_a_connection_returned_a_moment_ago(
    make_engine: EngineMaker,
    postgres_server_url: str,
    observer: asyncpg.Connection,
    idle: float,
    pinged: bool,
) -> None:
    engine = make_engine(postgres_server_url, pool_size=1, max_overflow=0, pre_ping_idle=idle)
    pid = await backend_pid(engine)
    assert await last_statement(observer, pid) == "ROLLBACK;"  # the pool's reset on return
    async with engine.connect():  # the same pooled connection, checked out again
        assert (await last_statement(observer, pid) == ";") is pinged


async def test_postgresql_pre_ping_replaces_a_connection_the_server_closed(
    make_engine: EngineMaker, postgres_server_url: str, observer: asyncpg.Connection
) -> None:
    # Within the idle window no round trip is made, yet a connection whose
    # backend is gone is still never handed out.
    engine = make_engine(postgres_server_url, pool_size=1, max_overflow=0, pre_ping_idle=60)
    pid = await backend_pid(engine)
    assert await observer.fetchval("SELECT pg_terminate_backend($1)", pid)
    for _ in range(250):  # until the backend is gone (asyncpg reads its goodbye meanwhile)
        if not await observer.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid):
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.1)
    assert await backend_pid(engine) != pid  # a new connection, not an error


async def test_sqlite_a_connection_returned_in_a_transaction_is_rolled_back(
    make_engine: EngineMaker, sqlite_file: str
) -> None:
    # The pool rolls back only connections still in a transaction (a rollback is a
    # trip to aiosqlite's thread); one SQLAlchemy did not see begin is one of them.
    engine = make_engine(sqlite_file, pool_size=1, max_overflow=0)
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (x INTEGER)"))
    async with engine.connect() as connection:
        driver: Any = (await connection.get_raw_connection()).driver_connection
        await driver.execute("BEGIN")
        await driver.execute("INSERT INTO t VALUES (1)")
        assert driver.in_transaction
    async with engine.connect() as connection:  # the same pooled connection
        driver = (await connection.get_raw_connection()).driver_connection
        assert not driver.in_transaction
        assert await connection.scalar(text("SELECT count(*) FROM t")) == 0
