"""is_timeout and is_too_complex: which real database errors mean "refused, not a bug"."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from fast_query import is_timeout, is_too_complex
from tests.fast_query.conftest import EngineMaker


async def failure(engine: AsyncEngine, *statements: str) -> BaseException:
    """What running ``statements`` on one connection of ``engine`` raises."""
    with pytest.raises(Exception) as raised:
        async with engine.connect() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    return raised.value


async def test_sqlite_busy_timeout(make_engine: EngineMaker, tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    engine = make_engine(f"sqlite+aiosqlite:///{path}", sqlite_busy_timeout=0.1)
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        assert is_timeout(await failure(engine, "CREATE TABLE t (x INTEGER)"))
    finally:
        holder.close()


async def test_sqlite_file_pool_timeout(make_engine: EngineMaker, tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'pool.db'}"
    engine = make_engine(url, pool_size=1, max_overflow=0, pool_timeout=0.1)
    async with engine.connect() as held:
        await held.execute(text("SELECT 1"))
        assert is_timeout(await failure(engine, "SELECT 1"))


async def test_sqlite_errors_that_are_not_timeouts(make_engine: EngineMaker) -> None:
    engine = make_engine("sqlite+aiosqlite://")
    assert not is_timeout(await failure(engine, "SELECT * FROM missing"))


@pytest.mark.parametrize(
    ("statements", "timeout"),
    [
        pytest.param(("SET statement_timeout = 100", "SELECT pg_sleep(2)"), True, id="statement"),
        pytest.param(
            ("SET lock_timeout = 100", "SELECT pg_advisory_lock(424242)"), True, id="lock"
        ),
        pytest.param(("SELECT 1 / 0",), False, id="division-by-zero"),
    ],
)
async def test_postgresql_timeouts(
    make_engine: EngineMaker, postgres_server_url: str, statements: tuple[str, ...], timeout: bool
) -> None:
    engine = make_engine(postgres_server_url)
    async with engine.connect() as holder:  # holds the advisory lock the "lock" case waits for
        await holder.execute(text("SELECT pg_advisory_lock(424242)"))
        assert is_timeout(await failure(engine, *statements)) is timeout
        await holder.execute(text("SELECT pg_advisory_unlock(424242)"))


async def raw_failure(engine: AsyncEngine, statement: str) -> BaseException:
    """What running ``statement`` on the driver connection itself raises (as ``RawSelect`` does)."""
    with pytest.raises(Exception) as raised:
        async with engine.connect() as connection:
            driver: Any = (await connection.get_raw_connection()).driver_connection
            if engine.dialect.driver == "asyncpg":
                await driver.fetch(statement)
            else:
                await driver.execute(statement)
    return raised.value


async def test_driver_errors_straight_from_the_driver(
    make_engine: EngineMaker, postgres_server_url: str, tmp_path: Path
) -> None:
    engine = make_engine(postgres_server_url, statement_timeout=0.1)
    assert is_timeout(await raw_failure(engine, "SELECT pg_sleep(2)"))
    assert not is_timeout(await raw_failure(engine, "SELECT 1 / 0"))

    path = tmp_path / "raw.db"
    lite = make_engine(f"sqlite+aiosqlite:///{path}", sqlite_busy_timeout=0.1)
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        assert is_timeout(await raw_failure(lite, "CREATE TABLE t (x INTEGER)"))
    finally:
        holder.close()
    assert not is_timeout(await raw_failure(lite, "SELECT * FROM missing"))


async def test_refused_connections_are_not_timeouts(make_engine: EngineMaker) -> None:
    engine = make_engine("postgresql+asyncpg://nobody@127.0.0.1:1/nowhere", connect_timeout=1)
    assert not is_timeout(await failure(engine, "SELECT 1"))


def nested(levels: int) -> str:
    """A valid statement whose expression nests ``levels`` parentheses deep."""
    return "SELECT " + "(" * levels + "1" + ")" * levels


async def test_sqlite_statements_nested_too_deep(make_engine: EngineMaker) -> None:
    engine = make_engine("sqlite+aiosqlite://")
    refused = await failure(engine, nested(2000))
    assert is_too_complex(refused)
    assert not is_timeout(refused)
    assert not is_too_complex(await failure(engine, "SELECT * FROM missing"))
    assert not is_too_complex(await raw_failure(engine, "SELECT * FROM missing"))
    assert is_too_complex(await raw_failure(engine, nested(2000)))


async def test_postgresql_statements_nested_too_deep(
    make_engine: EngineMaker, postgres_server_url: str
) -> None:
    engine = make_engine(postgres_server_url)
    subqueries = "SELECT " + "(SELECT " * 1000 + "1" + ")" * 1000
    refused = await failure(engine, "SET max_stack_depth = '100kB'", subqueries)
    assert is_too_complex(refused)
    assert not is_timeout(refused)
    assert not is_too_complex(await failure(engine, "SELECT 1 / 0"))


def test_recursion_is_too_complex() -> None:
    assert is_too_complex(RecursionError())
    assert not is_too_complex(ValueError())
