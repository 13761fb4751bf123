"""Who is asking: a request's ``Authorization`` header to its viewer, in one statement.

The token is checked first (signature, algorithm, issuer, audience, times:
``server.auth.tokens``, or the identity provider's keys: ``server.auth.jwks``),
then one statement reads the viewer's roles on the condition that the user is
live and the token's session not ended.

What that check and that statement found serves the same token for half a
second (``VIEWER_TTL``), within the token's lifetime: under load a signed-in
request then costs a dictionary lookup. The contract gives a logout, a password
change, a soft delete or a role change one second to hold on every process;
on the process that made the change it holds at once, because every
mutation this process runs empties the cache (``forget``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from schema.viewer import ANONYMOUS, Viewer
from server.auth.jwks import ProviderTokens, verify_access_token
from server.auth.keys import load_access_tokens
from server.auth.sessions import live_user_with_email, live_viewer, read_viewer
from server.auth.tokens import (
    LEEWAY_SECONDS,
    AccessClaims,
    AccessTokens,
    InvalidToken,
    bearer_token,
)
from server.settings import Settings

#: Seconds a viewer read from the database serves the same user and session again.
VIEWER_TTL = 0.5
#: Viewers kept at most; past it the cache starts over (a flood of tokens cannot grow it).
MAX_CACHED_VIEWERS = 10_000


class Authenticator:
    """Turns ``Authorization`` headers into viewers (a singleton: its keys load once)."""

    def __init__(
        self,
        tokens: AccessTokens,
        provider: ProviderTokens | None = None,
        *,
        ttl: float = VIEWER_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.tokens = tokens
        self.provider = provider
        self.ttl = ttl
        self._clock = clock
        #: By token: when its viewer was read (``clock``), when the token stops being
        #: accepted (epoch seconds: its ``exp`` and the leeway), and the viewer.
        self._recent: dict[str, tuple[float, float, Viewer]] = {}
        self._generation = 0

    def forget(self) -> None:
        """Drop every cached viewer: this process just changed something (a mutation ran).

        A lookup that started before is not stored when it ends (``_generation``).
        """
        self._generation += 1
        self._recent.clear()

    async def viewer(self, engine: AsyncEngine, authorization: str | None) -> Viewer:
        """The viewer the header names; ``ANONYMOUS`` without one.

        Raises:
            InvalidToken: another scheme, a token that does not verify, or
                one whose user is gone or soft-deleted or whose session ended.
        """
        token = bearer_token(authorization)
        if token is None:
            return ANONYMOUS
        now, generation = self._clock(), self._generation
        cached = self._recent.get(token)
        if cached is not None:
            read_at, refused_from, known = cached
            # The same bytes verify the same way; only the time can refuse them now.
            if now - read_at < self.ttl and time.time() < refused_from:
                return known
        claims = await verify_access_token(token, self.tokens, self.provider)
        if isinstance(claims, AccessClaims):
            condition = live_viewer(claims.user_id, claims.session_id)
            session_id = claims.session_id
        else:
            condition = live_user_with_email(claims.email)
            session_id = None
        async with engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                await connection.execution_options(isolation_level="AUTOCOMMIT")
            viewer = await read_viewer(connection, condition, session_id)
        if viewer is None:
            self._recent.pop(token, None)
            raise InvalidToken("the token's user or session is gone")
        if generation != self._generation:
            return viewer  # read across a change of this process: good for this request only
        if len(self._recent) >= MAX_CACHED_VIEWERS:
            self._recent.clear()
        refused_from = claims.expires_at.timestamp() + LEEWAY_SECONDS
        self._recent[token] = (now, refused_from, viewer)
        return viewer


async def provide_authenticator(settings: Settings, engine: AsyncEngine) -> Authenticator:
    return Authenticator(
        await load_access_tokens(settings, engine),
        ProviderTokens.from_settings(settings),
        ttl=settings.auth_viewer_cache_ttl,
    )
