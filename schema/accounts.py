"""What the auth mutations ask of the server: sign-ins, sessions and password hashes.

``schema`` never imports ``server`` (``tests/test_layering.py``), yet hashing,
tokens, sessions and the login throttle are the server's
(``server.auth``). The mutations reach them through ``Accounts``, which
``server.services`` registers in the container under this class as key
(``server.auth.service.AuthService``); ``accounts(info)`` resolves it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from schema.context import Info
from schema.viewer import Viewer

TOKEN_TYPE = "Bearer"


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A sign-in's tokens and its viewer (what an ``AuthPayload`` shows); no token in its repr."""

    access_token: str = field(repr=False)
    expires_at: datetime  # of the access token
    refresh_token: str = field(repr=False)
    viewer: Viewer


class Accounts(Protocol):
    """The server's account machinery, as the auth mutations use it.

    ``start`` writes in the caller's transaction. The other methods that
    write run transactions of their own on ``session`` and commit them,
    because some of what they write must outlast the error they raise (a
    failed login's record, the end of a session whose refresh token came
    back). Their errors are the schema's: ``Unauthenticated``,
    ``RateLimited``, ``UserInputError``; none quotes a password or a token.
    """

    def password_problem(self, password: str) -> str | None:
        """What breaks the contract's password rules, or ``None``."""
        ...

    async def hash_password(self, password: str) -> str:
        """The Argon2id hash to store (made off the event loop)."""
        ...

    async def start(self, session: AsyncSession, user_id: int) -> SignedIn:
        """A new session for ``user_id`` (signed up just now), in the caller's transaction."""
        ...

    async def login(self, session: AsyncSession, email: str, password: str) -> SignedIn:
        """A new session if ``password`` is that of the live user with ``email``."""
        ...

    async def refresh(self, session: AsyncSession, refresh_token: str) -> SignedIn:
        """A new pair for an unused refresh token, in its session."""
        ...

    async def logout(self, session: AsyncSession, viewer: Viewer, *, everywhere: bool) -> None:
        """End the viewer's session, or every session of the viewer."""
        ...

    async def change_password(
        self, session: AsyncSession, viewer: Viewer, current_password: str, new_password: str
    ) -> SignedIn:
        """Store a new password and end every other session of the viewer."""
        ...


async def accounts(info: Info) -> Accounts:
    """The request's ``Accounts`` (a protocol key: mypy wants concrete classes for ``type[T]``)."""
    found: Accounts = await info.context.service(Accounts)  # type: ignore[type-abstract]
    return found


@dataclass(frozen=True, slots=True)
class Password:
    """An input's password: checked by the contract's rules, stored only as its hash.

    A derived field of a create (``schema.kinds.create.Derived``): the hash
    needs the server's ``Accounts``, so a create given a password takes the
    resolvers' path, never the fast path's single ``INSERT``.
    """

    name: str = "password"
    column: str = "password_hash"
    description: str = "8 to 128 characters; left out, the user cannot log in."

    def given(self, data: Any) -> bool:
        """Left out or ``null``: no password (the user cannot log in)."""
        value = getattr(data, self.name, strawberry.UNSET)
        return value is not strawberry.UNSET and value is not None

    async def problems(self, info: Info, data: Any, prefix: str = "input") -> dict[str, str]:
        value = getattr(data, self.name)
        path = f"{prefix}.{self.name}" if prefix else self.name
        problem = (await accounts(info)).password_problem(str(value))
        return {} if problem is None else {path: problem}

    async def values(self, info: Info, data: Any) -> dict[str, Any]:
        service = await accounts(info)
        return {self.column: await service.hash_password(str(getattr(data, self.name)))}


PASSWORD = Password()
