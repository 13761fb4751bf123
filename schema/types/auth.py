"""Signing in and out: ``viewer``, ``AuthPayload`` and the auth mutations (contract section 8).

The work is the server's (``schema.accounts.Accounts``); what is here is
the GraphQL side: arguments, who may call what, and what a sign-in changes
for the rest of the request. A mutation that signs someone in
(``signUp``, ``login``, ``refreshToken``, ``changePassword``) makes that
user the request's viewer from then on (``RowParams.sign_in``): its
payload's ``viewer`` is seen as that user (its own email included), and so
is every field the document runs after it. ``logout`` makes the rest of the
document anonymous.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, cast

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

import models
from fast_query import Trashed
from repositories import UserRepository
from schema import roots
from schema.accounts import PASSWORD, TOKEN_TYPE, SignedIn, accounts
from schema.authorization import signed_in
from schema.context import Info
from schema.kinds.create import derived_values
from schema.kinds.viewer import ViewerLookup
from schema.transaction import write
from schema.types.user import USER, USER_INPUT, User
from schema.viewer import ANONYMOUS


@strawberry.input(description="A new account: the rules of `createUser`, and a password.")
class SignUpInput:
    name: str = strawberry.field(description="1 to 100 characters, trimmed.")
    email: str = strawberry.field(description="A valid address, unique; stored lower-cased.")
    password: str = strawberry.field(description="8 to 128 characters, not blank.")


@strawberry.type(description="A sign-in: the tokens to send, and who they sign in.")
class AuthPayload:
    access_token: str = strawberry.field(
        description="A JWT: send it as `Authorization: Bearer <accessToken>`."
    )
    token_type: str = strawberry.field(description='How to send the access token: "Bearer".')
    expires_at: datetime = strawberry.field(
        description="When the access token stops being accepted."
    )
    refresh_token: str = strawberry.field(
        description="Opaque and single use: trade it for a new pair with `refreshToken`."
    )
    user_id: strawberry.Private[int]

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="The user signed in, as that user sees itself (its email included)."
    )
    async def viewer(self, info: Info) -> User:
        row = await info.context.loaders.by_key(models.User, Trashed.WITHOUT).load(self.user_id)
        return cast(User, row)


def _sign_in(info: Info, signed: SignedIn) -> AuthPayload:
    """The rest of the request runs as the user just signed in; its payload.

    The row rules read ``RowParams.values``, which ``sign_in`` changes in
    place, and the dataloaders are dropped, so nothing read as the former
    viewer is served to the new one.
    """
    info.context.params.sign_in(signed.viewer)
    info.context.loaders.clear()
    assert signed.viewer.user_id is not None
    return AuthPayload(
        access_token=signed.access_token,
        token_type=TOKEN_TYPE,
        expires_at=signed.expires_at,
        refresh_token=signed.refresh_token,
        user_id=signed.viewer.user_id,
    )


def _mutation(resolver: Any, description: str) -> Any:
    return roots.mutation(strawberry.field(resolver=resolver, description=description))


def _argument(description: str) -> Any:
    return strawberry.argument(description=description)


async def _sign_up(
    info: Info, input: Annotated[SignUpInput, _argument("The new account.")]
) -> AuthPayload | None:
    """Anyone may sign up. Every input problem is reported at once, before the hash is made."""
    service = await accounts(info)
    users = await info.context.service(UserRepository)
    derived = await derived_values(info, USER_INPUT, [PASSWORD], input)
    async with write(info, users.session, USER_INPUT):
        values = await USER_INPUT.values(input, info.context.loaders.rows)
        user = await users.create(**values, **derived)
        signed = await service.start(users.session, user.id)
    return _sign_in(info, signed)


async def _login(
    info: Info,
    email: Annotated[str, _argument("The account's email (any case).")],
    password: Annotated[str, _argument("The account's password.")],
) -> AuthPayload | None:
    service = await accounts(info)
    session = await info.context.service(AsyncSession)
    return _sign_in(info, await service.login(session, email, password))


async def _refresh_token(
    info: Info,
    refresh_token: Annotated[str, _argument("The refresh token of the latest pair.")],
) -> AuthPayload | None:
    service = await accounts(info)
    session = await info.context.service(AsyncSession)
    return _sign_in(info, await service.refresh(session, refresh_token))


async def _logout(
    info: Info,
    everywhere: Annotated[
        bool | None, _argument("End every session of the viewer, not only this token's.")
    ] = False,
) -> bool | None:
    signed_in(info.context.params.values)
    service = await accounts(info)
    session = await info.context.service(AsyncSession)
    await service.logout(session, info.context.viewer, everywhere=bool(everywhere))
    info.context.params.sign_in(ANONYMOUS)
    info.context.loaders.clear()
    return True


async def _change_password(
    info: Info,
    current_password: Annotated[str, _argument("The password the viewer has now.")],
    new_password: Annotated[str, _argument("8 to 128 characters, not blank.")],
) -> AuthPayload | None:
    signed_in(info.context.params.values)
    service = await accounts(info)
    session = await info.context.service(AsyncSession)
    viewer = info.context.viewer
    return _sign_in(
        info, await service.change_password(session, viewer, current_password, new_password)
    )


viewer = roots.query(
    ViewerLookup(USER).field(
        User, "The signed-in user, as it sees itself (email included); null when anonymous."
    )
)
sign_up = _mutation(_sign_up, "Create an account and sign it in (anyone).")
login = _mutation(
    _login,
    "Sign in with email and password. After 10 failures for one email in 15 "
    "minutes: RATE_LIMITED until `retryAfter` seconds have passed.",
)
refresh_token = _mutation(
    _refresh_token,
    "Trade a refresh token for a new pair; a token used before ends its session.",
)
logout = _mutation(
    _logout,
    "End the session of the token used (every session of the viewer with "
    "`everywhere`); the rest of the document runs anonymously.",
)
change_password = _mutation(
    _change_password,
    "Change the viewer's password; ends every other session of the viewer.",
)
