"""Helpers of the token and session tests."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from models import User, auth_keys, auth_login_failures, auth_refresh_tokens, auth_sessions

#: A signing key for tests: 32 bytes exactly, the shortest the contract allows.
SECRET = b"k" * 32
ISSUER = "fast-track-graphql"
#: 2026-12-06 12:00:00 UTC, a round number to count from.
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)

users = cast(Table, User.__table__)
AUTH_TABLES = (auth_sessions, auth_refresh_tokens, auth_keys, auth_login_failures)

Database = AsyncConnection | AsyncSession


async def add_user(db: Database, email: str = "ada@example.com", *, deleted: bool = False) -> int:
    """Insert a user (on the caller's connection or session); its id."""
    now = datetime.now(UTC)
    result = await db.execute(
        insert(users)
        .values(
            name="Someone",
            email=email,
            created_at=now,
            updated_at=now,
            deleted_at=now if deleted else None,
        )
        .returning(users.c.id)
    )
    return int(result.scalar_one())


async def soft_delete_user(db: Database, user_id: int) -> None:
    now = datetime.now(UTC)
    await db.execute(
        update(users).where(users.c.id == user_id).values(deleted_at=now, updated_at=now)
    )


async def auth_rows(db: Database) -> list[dict[str, Any]]:
    """Every row of the auth tables, as dicts, to look for what must not be there."""
    rows: list[dict[str, Any]] = []
    for table in AUTH_TABLES:
        result = await db.execute(select(table))
        rows.extend(dict(row) for row in result.mappings())
    return rows


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unsigned_token(header: dict[str, Any], claims: Any, signature: str = "") -> str:
    """A JWT put together by hand: any header, any claims, any signature."""
    parts = (json.dumps(header).encode(), json.dumps(claims).encode())
    return ".".join([*(b64url(part) for part in parts), signature])


def segments(token: str) -> list[dict[str, Any]]:
    """The header and the claims of a JWT, unverified."""
    header, claims, _ = token.split(".")
    return [
        json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
        for part in (header, claims)
    ]


def hs256(header: dict[str, Any], claims: Any, key: bytes = SECRET) -> str:
    """A correctly HS256-signed token over exactly the JSON given, with any key (no PyJWT)."""
    signing_input = unsigned_token(header, claims)[:-1]  # "header.claims"
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now
