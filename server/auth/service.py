"""The auth mutations' machinery: ``schema.accounts.Accounts`` over passwords, sessions, throttle.

Each method that can fail writes in steps, so that a failure keeps what
must outlast it: a login attempt is filed as failed, committed, before its
password is checked (``throttle.reserve_attempt``; success forgets it), and
``Sessions.refresh`` commits the end of
a session whose refresh token came back. Everything else a call does is
one transaction, committed only when it succeeds. Password hashing (some
30 ms of CPU, in a worker thread) happens before that transaction, so no
lock waits on it.

Nothing here logs, and no error quotes a password, a hash or a token: the
messages are fixed sentences.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fast_query import transaction
from models import User, normalize_email
from schema.accounts import SignedIn
from schema.errors import RateLimited, Unauthenticated, UserInputError
from schema.validation import MAX_EMAIL_LENGTH
from schema.viewer import Viewer
from server.auth.passwords import Passwords, password_problem
from server.auth.sessions import (
    LIVE_USER,
    Sessions,
    TokenPair,
    end_session,
    end_sessions,
    live_viewer,
    read_viewer,
)
from server.auth.throttle import clear_failed_logins, reserve_attempt
from server.auth.tokens import InvalidToken

#: One answer for an unknown email, a wrong password, a soft-deleted user and a
#: user without a password: a client cannot tell which it was.
LOGIN_FAILED = "Wrong email or password."
REFRESH_REFUSED = "The refresh token is not valid (unknown, expired, used or signed out)."
WRONG_PASSWORD = "The current password is wrong."

_users = cast(Table, User.__table__)


class AuthService:
    """``Accounts`` for the server: a singleton, its state the database's.

    Args:
        passwords: hashes and verifies (``default_passwords()``).
        sessions: starts and rotates sessions with the process's access tokens.
    """

    def __init__(self, passwords: Passwords, sessions: Sessions) -> None:
        self.passwords = passwords
        self.sessions = sessions

    def password_problem(self, password: str) -> str | None:
        return password_problem(password)

    async def hash_password(self, password: str) -> str:
        return await self.passwords.hash(password)

    async def start(self, session: AsyncSession, user_id: int) -> SignedIn:
        pair = await self.sessions.start(session, user_id)
        return await _signed_in(session, pair)

    async def login(self, session: AsyncSession, email: str, password: str) -> SignedIn:
        """Sign in with email and password, unless the email's failed logins say wait.

        The throttle is checked before the password, so a client that is
        waiting learns nothing about it. Every failure takes one Argon2id
        verification: against the user's hash, or a dummy one when there is
        no live user with a password, so the four failures take alike long.
        """
        await _reserve_attempt(session, email)
        found = None
        stored = normalize_email(email)
        # Longer, or with a NUL (which PostgreSQL refuses in text), it is no one's.
        if len(stored) <= MAX_EMAIL_LENGTH and "\x00" not in stored:
            statement = select(_users.c.id, _users.c.password_hash).where(
                _users.c.email == stored, LIVE_USER
            )
            found = (await session.execute(statement)).one_or_none()
        password_hash: str | None = None if found is None else found.password_hash
        matched = await self.passwords.verify(password, password_hash)  # None: a dummy hash
        if found is None or password_hash is None or not matched:
            raise Unauthenticated(LOGIN_FAILED)  # filed as failed already
        user_id: int = found.id
        rehashed = None
        if self.passwords.needs_rehash(password_hash):  # made with older parameters
            rehashed = await self.passwords.hash(password)
        async with transaction(session):
            await clear_failed_logins(session, email)
            if rehashed is not None:
                await session.execute(
                    update(_users)
                    .where(_users.c.id == user_id)
                    # Not a change anyone made: updatedAt stays.
                    .values(password_hash=rehashed, updated_at=_users.c.updated_at)
                )
            pair = await self.sessions.start(session, user_id)
            return await _signed_in(session, pair)

    async def refresh(self, session: AsyncSession, refresh_token: str) -> SignedIn:
        try:
            async with transaction(session):
                pair = await self.sessions.refresh(session, refresh_token)
                return await _signed_in(session, pair)
        except InvalidToken:  # a reuse ended its session, committed by Sessions.refresh
            raise Unauthenticated(REFRESH_REFUSED) from None

    async def logout(self, session: AsyncSession, viewer: Viewer, *, everywhere: bool) -> None:
        """End the token's session, or (``everywhere``) every session of the viewer.

        A token without a session (minted by another service that holds the
        secret) has nothing to end: without ``everywhere`` this does
        nothing, and the token stays valid until it expires; the client
        drops it. ``everywhere`` ends the viewer's sessions, not such tokens.
        """
        assert viewer.user_id is not None
        if not everywhere and viewer.session_id is None:
            return
        async with transaction(session):
            if everywhere:
                await end_sessions(session, viewer.user_id)
            else:
                assert viewer.session_id is not None
                await end_session(session, viewer.session_id, user_id=viewer.user_id)

    async def change_password(
        self, session: AsyncSession, viewer: Viewer, current_password: str, new_password: str
    ) -> SignedIn:
        """A new password, every other session ended, and a fresh pair.

        The new password is checked first (``BAD_USER_INPUT`` on
        ``newPassword`` costs no verification). A wrong current password
        counts as a failed login for the user's email, and the login
        throttle holds here too: a stolen access token must not be a way to
        guess the password without limit. The fresh pair is in the token's
        session, whose unused refresh token counts as used from now on
        (``Sessions.renew``); a token without a session gets a new one.
        """
        assert viewer.user_id is not None
        user_id = viewer.user_id
        problem = password_problem(new_password)
        if problem is not None:
            raise UserInputError({"newPassword": problem})
        statement = select(_users.c.email, _users.c.password_hash).where(
            _users.c.id == user_id, LIVE_USER
        )
        found = (await session.execute(statement)).one_or_none()
        email: str | None = None if found is None else found.email
        if email is not None:
            await _reserve_attempt(session, email)
        current_hash = None if found is None else found.password_hash
        if not await self.passwords.verify(current_password, current_hash):
            raise Unauthenticated(WRONG_PASSWORD)  # filed as failed already
        assert email is not None
        new_hash = await self.passwords.hash(new_password)
        async with transaction(session):
            await session.execute(
                update(_users).where(_users.c.id == user_id).values(password_hash=new_hash)
            )
            await clear_failed_logins(session, email)
            await end_sessions(session, user_id, keep=viewer.session_id)
            if viewer.session_id is None:
                pair = await self.sessions.start(session, user_id)
            else:
                pair = await self.sessions.renew(session, user_id, viewer.session_id)
        signed_in = Viewer(user_id, pair.session_id, viewer.roles)
        return SignedIn(pair.access_token, pair.expires_at, pair.refresh_token, signed_in)


async def _reserve_attempt(session: AsyncSession, email: str) -> None:
    """File an attempt for ``email`` as failed until it succeeds (committed), or refuse it:
    ``RateLimited`` while the email must wait."""
    async with transaction(session):
        wait = await reserve_attempt(session, email)
    if wait is not None:
        raise RateLimited(wait)


async def _signed_in(session: AsyncSession, pair: TokenPair) -> SignedIn:
    """The payload of a sign-in: the pair, and its viewer read as every request reads it."""
    viewer = await read_viewer(session, live_viewer(pair.user_id, pair.session_id), pair.session_id)
    assert viewer is not None  # the caller has just checked the user and started the session
    return SignedIn(pair.access_token, pair.expires_at, pair.refresh_token, viewer)
