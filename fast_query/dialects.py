"""What differs between the two databases in statements the layer builds by hand."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession


def dialect_name(db: AsyncConnection | AsyncSession) -> str:
    """``"postgresql"`` or ``"sqlite"``: the database a connection or session talks to."""
    return db.dialect.name if isinstance(db, AsyncConnection) else db.get_bind().dialect.name


def insert_for(dialect: str) -> Callable[..., Any]:
    """The dialect's ``insert`` (the one with ``on_conflict_do_nothing``)."""
    if dialect == "postgresql":
        return postgresql.insert
    if dialect == "sqlite":
        return sqlite.insert
    raise NotImplementedError(f"no INSERT ... ON CONFLICT on {dialect}")
