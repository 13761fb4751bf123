"""Sessions: a sign-in, its refresh-token rotation, its end, and the per-request liveness check.

A session is a row of ``auth_sessions``; every token pair it hands out
belongs to it, generation after generation. Refresh tokens are single use:
``Sessions.refresh`` marks the token used in the same ``UPDATE ... WHERE
used_at IS NULL ... RETURNING`` that checks it, so of two concurrent
refreshes of one token exactly one succeeds, on SQLite and PostgreSQL. A
token that was already used and comes back (stolen, or replayed) ends its
whole session: the access tokens of every generation carry its ``sid``, and
``is_live`` refuses them from then on, on every process.

Everything runs on the caller's ``AsyncConnection`` or ``AsyncSession``, in
the caller's transaction, which the caller commits, with one exception:
when ``refresh`` finds a reused token it ends the session and commits
before raising, because the error must not roll the ending back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import ColumnElement, Table, and_, delete, exists, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from fast_query import Trashed, soft_delete_criteria, utcnow
from models import Role, User, auth_refresh_tokens, auth_sessions, normalize_email, user_roles
from schema.viewer import Viewer
from server.auth.tokens import (
    MAX_REFRESH_TOKEN_LENGTH,
    AccessTokens,
    InvalidToken,
    new_refresh_token,
    refresh_token_hash,
)
from server.settings import Settings

Database = AsyncConnection | AsyncSession

DEFAULT_REFRESH_TOKEN_TTL = 30 * 24 * 60 * 60

_users = cast(Table, User.__table__)
_roles = cast(Table, Role.__table__)
#: Who may be signed in at all: the soft-delete rule of users, as every read applies it
#: (``fast_query.soft_delete_criteria``).
LIVE_USER = cast(ColumnElement[bool], soft_delete_criteria(User, Trashed.WITHOUT))
_sessions = auth_sessions
_tokens = auth_refresh_tokens


class RefreshTokenReused(InvalidToken):
    """A refresh token that was already used came back; its session is now ended."""


@dataclass(frozen=True, slots=True)
class TokenPair:
    """What a sign-in or a refresh hands out (the fields of an ``AuthPayload``, but the viewer)."""

    access_token: str = field(repr=False)
    expires_at: datetime  # of the access token
    refresh_token: str = field(repr=False)
    user_id: int
    session_id: int


class Sessions:
    """Starts sessions and rotates their refresh tokens.

    Args:
        tokens: issues the access tokens.
        refresh_ttl: seconds a refresh token lives (``AUTH_REFRESH_TOKEN_TTL``).
    """

    def __init__(self, tokens: AccessTokens, *, refresh_ttl: int = DEFAULT_REFRESH_TOKEN_TTL):
        if refresh_ttl <= 0:
            raise ValueError("the lifetime of a refresh token must be positive")
        self.tokens = tokens
        self.refresh_ttl = timedelta(seconds=refresh_ttl)

    @classmethod
    def from_settings(cls, settings: Settings, tokens: AccessTokens) -> Sessions:
        return cls(tokens, refresh_ttl=settings.auth_refresh_token_ttl)

    async def start(self, db: Database, user_id: int, *, now: datetime | None = None) -> TokenPair:
        """A new session for ``user_id`` (whose password the caller checked), and its first pair."""
        now = now or utcnow()
        result = await db.execute(
            insert(_sessions).values(user_id=user_id, created_at=now).returning(_sessions.c.id)
        )
        session_id: int = result.scalar_one()
        return await self._pair(db, user_id, session_id, now)

    async def refresh(
        self, db: Database, refresh_token: str, *, now: datetime | None = None
    ) -> TokenPair:
        """Use ``refresh_token`` once: a new pair in the same session.

        Raises:
            RefreshTokenReused: the token was used before; its session is
                ended, and that is committed on ``db``.
            InvalidToken: no such token, it expired, or its session ended
                or its user is soft-deleted.
        """
        now = now or utcnow()
        if not isinstance(refresh_token, str) or len(refresh_token) > MAX_REFRESH_TOKEN_LENGTH:
            raise InvalidToken("refresh token not recognised")
        token_hash = refresh_token_hash(refresh_token)
        live_session = (
            select(_sessions.c.id)
            .join(_users, _users.c.id == _sessions.c.user_id)
            .where(
                _sessions.c.id == _tokens.c.session_id,
                _sessions.c.ended_at.is_(None),
                LIVE_USER,
            )
            .correlate(_tokens)
            .exists()
        )
        # Checked and marked used in one statement: a concurrent refresh of the
        # same token waits for this one's row lock (PostgreSQL) or write lock
        # (SQLite), then finds used_at set and matches nothing.
        used = await db.execute(
            update(_tokens)
            .where(
                _tokens.c.token_hash == token_hash,
                _tokens.c.used_at.is_(None),
                _tokens.c.expires_at > now,
                live_session,
            )
            .values(used_at=now)
            .returning(_tokens.c.session_id)
        )
        session_id: int | None = used.scalar_one_or_none()
        if session_id is None:
            raise await self._refusal(db, token_hash, now)
        # (Not a subquery in RETURNING: SQLite writes its columns unqualified.)
        owner = select(_sessions.c.user_id).where(_sessions.c.id == session_id)
        user_id: int = (await db.execute(owner)).scalar_one()
        return await self._pair(db, user_id, session_id, now)

    async def renew(
        self, db: Database, user_id: int, session_id: int, *, now: datetime | None = None
    ) -> TokenPair:
        """A new pair in ``session_id`` without a refresh token (``changePassword``).

        It counts as a rotation: the session's unused refresh token is used
        from now on, so one session still has one chain, and that token
        coming back is a reuse like any other.
        """
        now = now or utcnow()
        await db.execute(
            update(_tokens)
            .where(_tokens.c.session_id == session_id, _tokens.c.used_at.is_(None))
            .values(used_at=now)
        )
        return await self._pair(db, user_id, session_id, now)

    async def _refusal(self, db: Database, token_hash: str, now: datetime) -> InvalidToken:
        """Why a refresh token matched nothing; a reused one ends its session first."""
        found = (
            await db.execute(
                select(_tokens.c.session_id, _tokens.c.used_at, _tokens.c.expires_at).where(
                    _tokens.c.token_hash == token_hash
                )
            )
        ).one_or_none()
        if found is None:
            return InvalidToken("refresh token not recognised")
        session_id, used_at, expires_at = found
        if used_at is not None:
            await end_session(db, session_id, now=now)
            await db.commit()  # the error the caller turns this into must not undo it
            return RefreshTokenReused("refresh token already used: its session is ended")
        if expires_at <= now:
            return InvalidToken("refresh token expired")
        return InvalidToken("session ended")

    async def _pair(self, db: Database, user_id: int, session_id: int, now: datetime) -> TokenPair:
        refresh_token = new_refresh_token()
        await db.execute(
            insert(_tokens).values(
                session_id=session_id,
                token_hash=refresh_token_hash(refresh_token),
                created_at=now,
                expires_at=now + self.refresh_ttl,
            )
        )
        access = self.tokens.issue(user_id, session_id=session_id, now=now)
        return TokenPair(access.token, access.expires_at, refresh_token, user_id, session_id)


async def end_session(
    db: Database, session_id: int, *, user_id: int | None = None, now: datetime | None = None
) -> bool:
    """End one session (``logout``); whether it was live (and ``user_id``'s, when given)."""
    statement = update(_sessions).where(
        _sessions.c.id == session_id, _sessions.c.ended_at.is_(None)
    )
    if user_id is not None:
        statement = statement.where(_sessions.c.user_id == user_id)
    result = await db.execute(statement.values(ended_at=now or utcnow()).returning(_sessions.c.id))
    return len(result.all()) == 1


async def end_sessions(
    db: Database, user_id: int, *, keep: int | None = None, now: datetime | None = None
) -> int:
    """End every live session of ``user_id`` but ``keep``; how many ended.

    ``logout(everywhere: true)`` keeps none; ``changePassword`` keeps the
    session it was called in.
    """
    statement = update(_sessions).where(
        _sessions.c.user_id == user_id, _sessions.c.ended_at.is_(None)
    )
    if keep is not None:
        statement = statement.where(_sessions.c.id != keep)
    result = await db.execute(statement.values(ended_at=now or utcnow()).returning(_sessions.c.id))
    return len(result.all())


async def prune_sessions(db: Database, *, now: datetime | None = None) -> int:
    """Delete sessions that can sign no one in again; how many. For a periodic job.

    That is ended sessions, and sessions whose every refresh token has
    expired (their access tokens, shorter-lived, are long gone). Their
    refresh tokens go with them by cascade; one of those presented later is
    "not recognised", where before it would have been "expired" or a reuse.
    """
    now = now or utcnow()
    renewable = exists().where(
        _tokens.c.session_id == _sessions.c.id,
        _tokens.c.used_at.is_(None),
        _tokens.c.expires_at > now,
    )
    result = await db.execute(
        delete(_sessions)
        .where(or_(_sessions.c.ended_at.is_not(None), ~renewable))
        .returning(_sessions.c.id)
    )
    return len(result.all())


def live_viewer(user_id: int, session_id: int | None) -> ColumnElement[bool]:
    """A condition on ``users`` rows: this user, not soft-deleted, and its session not ended.

    A token without a session (minted elsewhere) needs only the user. Put it
    in the ``WHERE`` of a statement that reads the viewer anyway (its roles,
    say), and the check costs no statement of its own.
    """
    condition = and_(_users.c.id == user_id, LIVE_USER)
    if session_id is None:
        return condition
    session = exists().where(
        _sessions.c.id == session_id,
        _sessions.c.user_id == _users.c.id,
        _sessions.c.ended_at.is_(None),
    )
    return and_(condition, session)


#: The tables a viewer is read from (``read_viewer``, ``live_viewer``): writing one may
#: change someone's viewer (``server.auth.viewer`` forgets its cache then).
VIEWER_TABLES = frozenset(table.name for table in (_users, user_roles, _roles, _sessions))


async def read_viewer(
    db: Database, condition: ColumnElement[bool], session_id: int | None = None
) -> Viewer | None:
    """The user ``condition`` picks (``live_viewer``, ``live_user_with_email``) with its roles,
    as the viewer of ``session_id``; ``None`` when no user passes: one statement."""
    statement = (
        select(_users.c.id, _roles.c.name)
        .select_from(
            _users.outerjoin(user_roles, user_roles.c.user_id == _users.c.id).outerjoin(
                _roles, _roles.c.id == user_roles.c.role_id
            )
        )
        .where(condition)
    )
    found = (await db.execute(statement)).all()
    if not found:
        return None
    roles = frozenset(name for _id, name in found if name is not None)
    return Viewer(found[0][0], session_id, roles)


async def is_live(db: Database, user_id: int, session_id: int | None) -> bool:
    """Whether a token of ``user_id`` in ``session_id`` still signs someone in: one statement."""
    return await read_viewer(db, live_viewer(user_id, session_id), session_id) is not None


def live_user_with_email(email: str) -> ColumnElement[bool]:
    """A condition on ``users`` rows: the live user whose (lower-cased) email is ``email``.

    The viewer of an identity provider's token (``server.auth.jwks``).
    """
    return and_(_users.c.email == normalize_email(email), LIVE_USER)


async def viewer_by_email(db: Database, email: str) -> int | None:
    """The id of the live user whose email is ``email``, or ``None``: one statement."""
    viewer = await read_viewer(db, live_user_with_email(email))
    return None if viewer is None else viewer.user_id
