"""Who is asking: a request's ``Authorization`` header to its viewer, in one statement.

The token is checked first (signature, algorithm, issuer, audience, times:
``server.auth.tokens``, or the identity provider's keys: ``server.auth.jwks``),
then one statement reads the viewer's roles on the condition that the user is
live and the token's session not ended.

What that check and that statement found serves the same token for half a
second (``VIEWER_TTL``), within the token's lifetime: under load a signed-in
request then costs a dictionary lookup. The contract gives a logout, a password
change, a soft delete or a role change one second to hold on every process;
on the process that made the change it holds at once: a mutation that wrote
a table viewers are read from (``sessions.VIEWER_TABLES``) empties the cache
when it ends (``watch``, ``mutation``). Other mutations (a comment, a post)
leave it: under a mix of writes, signed-in requests stay a lookup.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from fast_query import autocommit_connection
from schema.viewer import ANONYMOUS, Viewer
from server.auth.jwks import ProviderTokens, verify_access_token
from server.auth.keys import load_access_tokens
from server.auth.sessions import VIEWER_TABLES, live_user_with_email, live_viewer, read_viewer
from server.auth.tokens import (
    LEEWAY_SECONDS,
    AccessClaims,
    AccessTokens,
    InvalidToken,
    bearer_token,
)
from server.settings import DEFAULT_VIEWER_CACHE_TTL, Settings

#: Seconds a viewer read from the database serves the same user and session again.
VIEWER_TTL = DEFAULT_VIEWER_CACHE_TTL
#: Viewers kept at most; past it the cache starts over (a flood of tokens cannot grow it).
MAX_CACHED_VIEWERS = 10_000

#: The table an INSERT, UPDATE or DELETE writes (either dialect; quoted, schema-qualified).
_WRITTEN_TABLE = re.compile(
    r"\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM)\s+"
    r'(?:"?\w+"?\.)?"?(\w+)"?',
    re.IGNORECASE,
)
_VIEWER_TABLE_NAMED = re.compile(rf"\b(?:{'|'.join(sorted(VIEWER_TABLES))})\b", re.IGNORECASE)
#: The statements of viewer tables the running mutation wrote (``None``: no mutation).
_VIEWER_WRITES: ContextVar[list[str] | None] = ContextVar("viewer_writes", default=None)


def writes_viewer_tables(statement: str) -> bool:
    """Whether ``statement`` may change a viewer: it writes one of ``VIEWER_TABLES``.

    A write whose target is not plain (``WITH ... UPDATE``) counts when it names
    one of them anywhere.
    """
    head = statement.lstrip()[:6].upper()
    if head not in ("INSERT", "UPDATE", "DELETE") and not head.startswith("WITH"):
        return False
    target = _WRITTEN_TABLE.match(statement)
    if target is None:
        return _VIEWER_TABLE_NAMED.search(statement) is not None
    return target.group(1).lower() in VIEWER_TABLES


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
        """Drop every cached viewer: this process just changed who someone is.

        A lookup that started before is not stored when it ends (``_generation``).
        """
        self._generation += 1
        self._recent.clear()

    def watch(self, engine: AsyncEngine) -> None:
        """Note ``engine``'s writes to the viewer tables: the running mutation's, for
        ``mutation`` to act on once it has committed. Any other (no such write runs in
        the server today) forgets as the statement runs: before it commits, so a lookup
        in between may keep the old viewer for the TTL, as another process would."""

        @event.listens_for(engine.sync_engine, "before_cursor_execute")
        def _written(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if writes_viewer_tables(statement):
                written = _VIEWER_WRITES.get()
                if written is None:
                    self.forget()
                else:
                    written.append(statement)

    @contextmanager
    def mutation(self) -> Iterator[None]:
        """Run a mutation: if it wrote a viewer table (it may have ended a session or
        changed a role), the cached viewers are forgotten when it ends, committed."""
        written: list[str] = []
        reset = _VIEWER_WRITES.set(written)
        try:
            yield
        finally:
            _VIEWER_WRITES.reset(reset)
            if written:
                self.forget()

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
        async with autocommit_connection(engine) as connection:
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
    authenticator = Authenticator(
        await load_access_tokens(settings, engine),
        ProviderTokens.from_settings(settings),
        ttl=settings.auth_viewer_cache_ttl,
    )
    authenticator.watch(engine)
    return authenticator
