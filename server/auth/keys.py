"""The key that signs access tokens: ``AUTH_JWT_SECRET``, or one kept in the database.

With ``AUTH_JWT_SECRET`` unset the README's commands still work: the first
process that needs a key makes one and inserts it (``INSERT ... ON CONFLICT
DO NOTHING``), and every process, that one included, reads back the row
that won. So all the processes of one database sign with the same key and
accept each other's tokens, however many start at once. The key lives in
the ``auth_keys`` table in clear, as any HMAC key must live somewhere its
verifiers can read it; whoever can read that table can write every other
one too.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from fast_query import dialect_name, insert_for, utcnow
from models import auth_keys
from server.auth.tokens import AccessTokens
from server.settings import Settings

#: The one row of ``auth_keys``.
GENERATED_KEY_ID = 1
#: 48 random bytes, kept as 64 URL-safe characters: a 64-byte HS256 key.
GENERATED_KEY_BYTES = 48


async def stored_secret(
    db: AsyncConnection | AsyncSession, *, now: datetime | None = None
) -> bytes:
    """The database's HS256 key, made by whichever process asks first.

    Two statements on ``db``, in the caller's transaction: the insert that
    does nothing when the row exists (on PostgreSQL it waits for a
    concurrent insert to commit, then does nothing), and the select that
    reads the row, a fresh snapshot under READ COMMITTED. The caller commits.
    """
    values = {
        "id": GENERATED_KEY_ID,
        "secret": secrets.token_urlsafe(GENERATED_KEY_BYTES),
        "created_at": now or utcnow(),
    }
    insert = insert_for(dialect_name(db))(auth_keys)
    await db.execute(insert.values(values).on_conflict_do_nothing())
    secret = (
        await db.execute(select(auth_keys.c.secret).where(auth_keys.c.id == GENERATED_KEY_ID))
    ).scalar_one()
    return str(secret).encode("ascii")


async def signing_secret(settings: Settings, engine: AsyncEngine) -> bytes:
    """``AUTH_JWT_SECRET`` when set, else the database's key (made and committed if needed)."""
    if settings.auth_jwt_secret:
        return settings.auth_jwt_secret.encode("utf-8", "surrogatepass")
    async with engine.begin() as connection:
        return await stored_secret(connection)


async def load_access_tokens(settings: Settings, engine: AsyncEngine) -> AccessTokens:
    """The process's ``AccessTokens``: the settings' issuer, audience and lifetime, and its key.

    Reads the database (once) only when ``AUTH_JWT_SECRET`` is unset.
    """
    return AccessTokens(
        await signing_secret(settings, engine),
        issuer=settings.auth_jwt_issuer,
        audience=settings.auth_jwt_audience or None,
        ttl=settings.auth_access_token_ttl,
    )
