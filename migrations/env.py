"""Alembic environment: runs migrations over an async engine (aiosqlite or asyncpg)."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection

import models  # noqa: F401  (registers every table on Base.metadata)
from fast_query import Base, UTCDateTime, create_engine

config = context.config
target_metadata = Base.metadata


def _render_item(kind: str, item: Any, autogen: AutogenContext) -> str | Literal[False]:
    """Render fast_query's UTC type as the plain column type it stores as."""
    if kind == "type" and isinstance(item, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(connection: Connection | None = None, url: str | None = None) -> None:
    context.configure(
        connection=connection,
        url=url,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
        compare_server_default=True,
        literal_binds=connection is None,
        render_item=_render_item,
    )


def _run_sync(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def _run_online(url: str) -> None:
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_sync)
            await connection.commit()
    finally:
        await engine.dispose()


def run() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url, "alembic_config() sets sqlalchemy.url"
    shared = config.attributes.get("connection")
    if shared is not None:
        _run_sync(shared)
    elif context.is_offline_mode():
        _configure(url=url)
        with context.begin_transaction():
            context.run_migrations()
    else:
        asyncio.run(_run_online(url))


run()
