"""The server's own tables for signing in: sessions, refresh tokens, the signing key, throttling.

Contract section 1 leaves their design to the server; ``server.auth`` reads
and writes them with Core statements only, so they are plain tables.
Everything another process must see lives here, never in one process's
memory: a session ended on one process is ended on all of them.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table

from fast_query import Base, UTCDateTime

#: A sign-in: every token pair it hands out, generation after generation,
#: belongs to it. ``ended_at`` set: logged out, or a used refresh token came back.
auth_sessions = Table(
    "auth_sessions",
    Base.metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "user_id",
        Integer,
        ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,  # ending every session of a user
    ),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("ended_at", UTCDateTime(), nullable=True),
)

#: Opaque refresh tokens, single use. Only the SHA-256 of a token is kept:
#: the database never holds one that could be presented.
auth_refresh_tokens = Table(
    "auth_refresh_tokens",
    Base.metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "session_id",
        Integer,
        ForeignKey("auth_sessions.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("token_hash", String(64), nullable=False, unique=True),  # hex SHA-256
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("used_at", UTCDateTime(), nullable=True),
)

#: The HS256 key made when ``AUTH_JWT_SECRET`` is unset: one row (``id`` 1),
#: inserted by whichever process comes first, then read by all.
auth_keys = Table(
    "auth_keys",
    Base.metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("secret", String(128), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    info={"keep_on_reset": True},  # server.seed: the key outlives a reset of the data
)

#: Failed logins, by the SHA-256 of the email as typed (trimmed, lower-cased):
#: people type passwords into the email field, and no such slip is kept in clear.
auth_login_failures = Table(
    "auth_login_failures",
    Base.metadata,
    Column("id", Integer, primary_key=True),
    Column("email_hash", String(64), nullable=False),
    Column("failed_at", UTCDateTime(), nullable=False),
    Index(None, "email_hash", "failed_at"),
)
