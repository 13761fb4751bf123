"""Who is asking: a request's ``Authorization`` header to its viewer, in one statement.

The token is checked first (signature, algorithm, issuer, audience, times:
``server.auth.tokens``, or the identity provider's keys: ``server.auth.jwks``),
then one statement reads the viewer's roles on the condition that the user is
live and the token's session not ended. Nothing is cached between requests,
so a logout, a soft delete or a role change holds for the next request on
every process.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncEngine

from models import Role, User, user_roles
from schema.viewer import ANONYMOUS, Viewer
from server.auth.jwks import ProviderTokens, verify_access_token
from server.auth.keys import load_access_tokens
from server.auth.sessions import live_user_with_email, live_viewer
from server.auth.tokens import AccessClaims, AccessTokens, InvalidToken, bearer_token
from server.settings import Settings

_users = cast(Table, User.__table__)
_roles = cast(Table, Role.__table__)


class Authenticator:
    """Turns ``Authorization`` headers into viewers (a singleton: its keys load once)."""

    def __init__(self, tokens: AccessTokens, provider: ProviderTokens | None = None) -> None:
        self.tokens = tokens
        self.provider = provider

    async def viewer(self, engine: AsyncEngine, authorization: str | None) -> Viewer:
        """The viewer the header names; ``ANONYMOUS`` without one.

        Raises:
            InvalidToken: another scheme, a token that does not verify, or
                one whose user is gone or soft-deleted or whose session ended.
        """
        token = bearer_token(authorization)
        if token is None:
            return ANONYMOUS
        claims = await verify_access_token(token, self.tokens, self.provider)
        if isinstance(claims, AccessClaims):
            condition = live_viewer(claims.user_id, claims.session_id)
            session_id = claims.session_id
        else:
            condition = live_user_with_email(claims.email)
            session_id = None
        statement = (
            select(_users.c.id, _roles.c.name)
            .select_from(
                _users.outerjoin(user_roles, user_roles.c.user_id == _users.c.id).outerjoin(
                    _roles, _roles.c.id == user_roles.c.role_id
                )
            )
            .where(condition)
        )
        async with engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                await connection.execution_options(isolation_level="AUTOCOMMIT")
            found = (await connection.execute(statement)).all()
        if not found:
            raise InvalidToken("the token's user or session is gone")
        roles = frozenset(name for _id, name in found if name is not None)
        return Viewer(found[0][0], session_id, roles)


async def provide_authenticator(settings: Settings, engine: AsyncEngine) -> Authenticator:
    return Authenticator(
        await load_access_tokens(settings, engine), ProviderTokens.from_settings(settings)
    )
