"""Migration 0003: the auth tables come and go, and the users stay (both databases)."""

from __future__ import annotations

from typing import Any

from alembic import command
from sqlalchemy import Connection, inspect, text

from fast_query import create_engine
from migrations import alembic_config
from tests.conftest import in_thread

AUTH_TABLES = ["auth_keys", "auth_login_failures", "auth_refresh_tokens", "auth_sessions"]
NOW = "'2026-01-01 00:00:00+00:00'"


def _describe(connection: Connection) -> dict[str, Any]:
    inspector = inspect(connection)
    names = set(inspector.get_table_names())
    return {
        "tables": sorted(names & set(AUTH_TABLES)),
        "unique": {
            name: [tuple(u["column_names"]) for u in inspector.get_unique_constraints(name)]
            for name in sorted(names & set(AUTH_TABLES))
        },
        "foreign_keys": {
            (
                name,
                tuple(fk["constrained_columns"]),
                fk["referred_table"],
                fk["options"].get("ondelete"),
            )
            for name in sorted(names & set(AUTH_TABLES))
            for fk in inspector.get_foreign_keys(name)
        },
    }


async def _run(url: str, *statements: str) -> Any:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            for statement in statements:
                await connection.execute(text(statement))
            return await connection.run_sync(_describe)
    finally:
        await engine.dispose()


async def test_0003_adds_the_auth_tables_and_takes_them_away_again(
    fresh_database_url: str,
) -> None:
    config = alembic_config(fresh_database_url)
    in_thread(command.upgrade, config, "0002")
    await _run(
        fresh_database_url,
        "INSERT INTO users (id, name, email, created_at, updated_at) "
        f"VALUES (1, 'Ada', 'ada@example.com', {NOW}, {NOW})",
    )

    in_thread(command.upgrade, config, "0003")
    described = await _run(
        fresh_database_url,
        f"INSERT INTO auth_sessions (id, user_id, created_at) VALUES (1, 1, {NOW})",
        "INSERT INTO auth_refresh_tokens (session_id, token_hash, created_at, expires_at) "
        f"VALUES (1, '{'0' * 64}', {NOW}, {NOW})",
        f"INSERT INTO auth_keys (id, secret, created_at) VALUES (1, 'k', {NOW})",
        f"INSERT INTO auth_login_failures (email_hash, failed_at) VALUES ('{'0' * 64}', {NOW})",
    )
    assert described == {
        "tables": AUTH_TABLES,
        "unique": {
            "auth_keys": [],
            "auth_login_failures": [],
            "auth_refresh_tokens": [("token_hash",)],
            "auth_sessions": [],
        },
        "foreign_keys": {
            ("auth_sessions", ("user_id",), "users", "CASCADE"),
            ("auth_refresh_tokens", ("session_id",), "auth_sessions", "CASCADE"),
        },
    }

    in_thread(command.downgrade, config, "0002")
    after = await _run(fresh_database_url)
    assert after["tables"] == []
    engine = create_engine(fresh_database_url)
    try:
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT email FROM users"))).all() == [
                ("ada@example.com",)
            ]
    finally:
        await engine.dispose()
