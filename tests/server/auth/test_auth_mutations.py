"""Signing in and out over HTTP (contract section 8), against the real app, on both databases.

These tests send no stand-in admin token: a request is anonymous or carries
a token the app issued (or one forged to attack it). Users with a password
share one Argon2id hash, made once per module with the real parameters.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, cast

import httpx
import pytest
from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from models import Role, User, auth_login_failures, auth_sessions, user_roles
from schema.accounts import Accounts
from server.auth.passwords import Passwords
from server.auth.service import LOGIN_FAILED, AuthService
from server.auth.throttle import FAILED_LOGIN_WINDOW, MAX_FAILED_LOGINS
from server.auth.tokens import AccessTokens
from server.auth.viewer import Authenticator
from server.graphql_http import INVALID_TOKEN_MESSAGE
from tests.api import StatementCounter, gid, snapshot
from tests.server.auth.support import hs256, segments, unsigned_token
from tests.verify import AS_TEST_ADMIN

PASSWORD = "correct horse battery"
NEW_PASSWORD = "staple of the new era"

users = cast(Table, User.__table__)
roles_table = cast(Table, Role.__table__)

AUTH_FIELDS = "accessToken tokenType expiresAt refreshToken viewer { id name email }"
SIGN_UP = f"""
mutation ($input: SignUpInput!) {{ signUp(input: $input) {{ {AUTH_FIELDS} }} }}
"""
LOGIN = f"""
mutation ($email: String!, $password: String!) {{
  login(email: $email, password: $password) {{ {AUTH_FIELDS} }}
}}
"""
REFRESH = f"""
mutation ($token: String!) {{ refreshToken(refreshToken: $token) {{ {AUTH_FIELDS} }} }}
"""
LOGOUT = "mutation ($everywhere: Boolean) { logout(everywhere: $everywhere) }"
CHANGE_PASSWORD = f"""
mutation ($current: String!, $new: String!) {{
  changePassword(currentPassword: $current, newPassword: $new) {{ {AUTH_FIELDS} }}
}}
"""
VIEWER = "{ viewer { id name email } }"


@cache
def password_hash() -> str:
    """The Argon2id hash of ``PASSWORD`` (real parameters), made once."""
    hasher = Passwords()
    try:
        return hasher.hash_blocking(PASSWORD)
    finally:
        hasher.close()


class Api:
    """GraphQL over HTTP as a client without a stand-in token: anonymous, or with ``token``."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> httpx.Response:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        payload: dict[str, Any] = {"query": query}
        if variables is not None:
            payload["variables"] = variables
        return await self.http.post("/graphql", json=payload, headers=headers)

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        response = await self.post(query, variables, token)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> Any:
        body = await self(query, variables, token)
        assert "errors" not in body, body["errors"]
        return body["data"]

    async def login(self, email: str, password: str = PASSWORD) -> dict[str, Any]:
        data = await self.data(LOGIN, {"email": email, "password": password})
        payload: dict[str, Any] = data["login"]
        return payload


def failure(body: dict[str, Any], field: str) -> dict[str, Any]:
    """The one error of a response whose only field, ``field``, failed."""
    assert body["data"] == {field: None}, body
    [error] = body["errors"]
    assert error["path"] == [field]
    return cast(dict[str, Any], error)


def assert_refused(response: httpx.Response) -> None:
    """The contract's answer to a token it does not accept: 401, before anything runs."""
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert response.json() == {
        "errors": [{"message": INVALID_TOKEN_MESSAGE, "extensions": {"code": "UNAUTHENTICATED"}}]
    }


@pytest.fixture
async def http(app: Starlette, committed_engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app that sends no token of its own; every table is emptied after."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


@pytest.fixture
def api(http: httpx.AsyncClient) -> Api:
    return Api(http)


@pytest.fixture
async def tokens(app: Starlette) -> AccessTokens:
    """The app's own access tokens (its signing key)."""
    authenticator = await app.state.container.get(Authenticator)
    return cast(AccessTokens, authenticator.tokens)


@pytest.fixture
async def service(app: Starlette) -> AuthService:
    found = await app.state.container.get(Accounts)
    assert isinstance(found, AuthService)
    return found


@pytest.fixture
def verifications(service: AuthService, monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """What each Argon2id verification the app runs answers, in order."""
    answers: list[bool] = []
    verify = service.passwords.verify

    async def counted(password: str, hashed: str | None) -> bool:
        answer = await verify(password, hashed)
        answers.append(answer)
        return answer

    monkeypatch.setattr(service.passwords, "verify", counted)
    return answers


Seed = Callable[..., Awaitable[int]]


@pytest.fixture
def seed(committed_engine: AsyncEngine) -> Seed:
    """``await seed("ada@example.com", roles=["admin"])``: a user with ``PASSWORD``; its id."""

    async def add(
        email: str,
        *,
        name: str = "Someone",
        password: bool = True,
        deleted: bool = False,
        roles: tuple[str, ...] = (),
    ) -> int:
        now = datetime.now(UTC)
        async with committed_engine.begin() as connection:
            user_id = (
                await connection.execute(
                    insert(users)
                    .values(
                        name=name,
                        email=email,
                        password_hash=password_hash() if password else None,
                        created_at=now,
                        updated_at=now,
                        deleted_at=now if deleted else None,
                    )
                    .returning(users.c.id)
                )
            ).scalar_one()
            for role in roles:
                role_id = (
                    await connection.execute(select(Role.id).where(Role.name == role))
                ).scalar_one_or_none()
                if role_id is None:
                    role_id = (
                        await connection.execute(
                            insert(roles_table)
                            .values(name=role, created_at=now, updated_at=now)
                            .returning(Role.id)
                        )
                    ).scalar_one()
                await connection.execute(
                    insert(user_roles).values(user_id=user_id, role_id=role_id)
                )
        return int(user_id)

    return add


#: What ``stored_hash`` answers when there is no user with that email.
NO_USER = "(no such user)"


async def stored_hash(engine: AsyncEngine, email: str) -> str | None:
    """The password hash of the user with ``email`` (``None``: no password), or ``NO_USER``."""
    async with engine.connect() as connection:
        found = (
            await connection.execute(select(users.c.password_hash).where(users.c.email == email))
        ).one_or_none()
    return NO_USER if found is None else cast(str | None, found[0])


async def live_sessions(engine: AsyncEngine, user_id: int) -> int:
    async with engine.connect() as connection:
        count = (
            await connection.execute(
                select(func.count())
                .select_from(auth_sessions)
                .where(auth_sessions.c.user_id == user_id, auth_sessions.c.ended_at.is_(None))
            )
        ).scalar_one()
    return int(count)


# -- viewer ---------------------------------------------------------------------------


async def test_the_viewer_is_null_when_anonymous(api: Api, seed: Seed) -> None:
    await seed("ada@example.com")

    assert await api.data(VIEWER) == {"viewer": None}
    assert await api.data("{ viewer { id } users { totalCount } }") == {
        "viewer": None,
        "users": {"totalCount": 1},
    }


async def test_the_stand_in_admin_has_no_row_and_so_no_viewer(http: httpx.AsyncClient) -> None:
    response = await http.post("/graphql", json={"query": VIEWER}, headers=AS_TEST_ADMIN)

    assert response.json() == {"data": {"viewer": None}}


async def test_the_viewer_is_one_statement_and_none_when_anonymous(
    app: Starlette, api: Api, seed: Seed
) -> None:
    await seed("ada@example.com")
    token = (await api.login("ada@example.com"))["accessToken"]
    engine = await app.state.container.get(AsyncEngine)

    with StatementCounter(engine) as signed_in:
        assert (await api.data(VIEWER, token=token))["viewer"]["email"] == "ada@example.com"
    with StatementCounter(engine) as anonymous:
        assert await api.data(VIEWER) == {"viewer": None}

    assert signed_in.count == 2  # the token's check, then the row (on the fast path)
    assert anonymous.count == 0


# -- signUp ---------------------------------------------------------------------------


async def test_sign_up_creates_a_user_signs_it_in_and_its_token_works(
    api: Api, committed_engine: AsyncEngine
) -> None:
    before = datetime.now(UTC)
    data = await api.data(
        SIGN_UP,
        {"input": {"name": "  Ada Lovelace ", "email": " ADA@Example.com", "password": PASSWORD}},
    )

    payload = data["signUp"]
    assert payload["tokenType"] == "Bearer"
    assert payload["viewer"]["name"] == "Ada Lovelace"
    assert payload["viewer"]["email"] == "ada@example.com"  # seen as itself
    expires = datetime.fromisoformat(payload["expiresAt"])
    assert before + timedelta(seconds=899) <= expires <= datetime.now(UTC) + timedelta(seconds=900)
    claims = segments(payload["accessToken"])[1]
    assert claims["sub"] == payload["viewer"]["id"]
    assert len(payload["refreshToken"]) >= 43  # 256 random bits

    me = await api.data(VIEWER, token=payload["accessToken"])
    assert me == {"viewer": payload["viewer"]}
    stored = await stored_hash(committed_engine, "ada@example.com")
    assert stored is not None and stored.startswith("$argon2id$") and PASSWORD not in stored
    # The new account logs in with its password
    assert (await api.login("ada@example.com"))["viewer"] == payload["viewer"]


async def test_sign_up_reports_every_problem_at_once_and_writes_nothing(
    api: Api, seed: Seed, committed_engine: AsyncEngine, verifications: list[bool]
) -> None:
    await seed("taken@example.com")
    before = await snapshot(committed_engine)

    body = await api(
        SIGN_UP, {"input": {"name": "   ", "email": "TAKEN@example.com", "password": "short"}}
    )

    error = failure(body, "signUp")
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "fields": {
            "input.name": "must not be blank",
            "input.email": "already taken",
            "input.password": "must be 8 to 128 characters",
        },
    }
    body = await api(
        SIGN_UP, {"input": {"name": "Bo", "email": "not an email", "password": " " * 12}}
    )
    assert failure(body, "signUp")["extensions"]["fields"] == {
        "input.email": "must be a valid email address",
        "input.password": "must not be blank",
    }
    assert await snapshot(committed_engine) == before


async def test_of_two_sign_ups_with_one_email_at_once_one_wins(
    api: Api, committed_engine: AsyncEngine
) -> None:
    variables = {"input": {"name": "Ada", "email": "ada@example.com", "password": PASSWORD}}

    bodies = await asyncio.gather(api(SIGN_UP, variables), api(SIGN_UP, variables))

    won = [body for body in bodies if body["data"]["signUp"] is not None]
    lost = [failure(body, "signUp") for body in bodies if body["data"]["signUp"] is None]
    assert len(won) == 1
    assert [error["extensions"] for error in lost] == [
        {"code": "BAD_USER_INPUT", "fields": {"input.email": "already taken"}}
    ]
    async with committed_engine.connect() as connection:
        counts = [
            (await connection.execute(select(func.count()).select_from(table))).scalar_one()
            for table in (users, auth_sessions)
        ]
    assert counts == [1, 1]


async def test_sign_up_runs_the_rest_of_the_document_as_the_new_user(api: Api) -> None:
    body = await api(
        """
        mutation ($input: SignUpInput!) {
          signUp(input: $input) { viewer { email } }
          createPost(input: {title: "Mine", body: "As the new user"}) { author { email } }
        }
        """,
        {"input": {"name": "Ada", "email": "ada@example.com", "password": PASSWORD}},
    )

    assert "errors" not in body, body
    assert body["data"] == {
        "signUp": {"viewer": {"email": "ada@example.com"}},
        "createPost": {"author": {"email": "ada@example.com"}},
    }


# -- login ----------------------------------------------------------------------------


async def test_login_answers_a_pair_whose_access_token_signs_the_user_in(
    api: Api, seed: Seed
) -> None:
    ada = await seed("ada@example.com", name="Ada")
    bob = await seed("bob@example.com", name="Bob")

    payload = await api.login("  ADA@example.COM ")

    assert payload["viewer"] == {"id": gid("User", ada), "name": "Ada", "email": "ada@example.com"}
    token = payload["accessToken"]
    assert await api.data(VIEWER, token=token) == {"viewer": payload["viewer"]}
    # Ada sees her own email and no one else's
    query = "query ($id: ID!) { user(id: $id) { email } }"
    assert await api.data(query, {"id": gid("User", bob)}, token) == {"user": {"email": None}}


async def test_login_runs_the_rest_of_the_document_as_the_user_with_its_roles(
    api: Api, seed: Seed, committed_engine: AsyncEngine
) -> None:
    await seed("ada@example.com", roles=("admin",))
    await seed("bob@example.com")
    document = """
        mutation ($email: String!, $password: String!) {
          login(email: $email, password: $password) { viewer { email } }
          createRole(input: {name: "%s"}) { name }
        }
    """

    admin = await api(document % "auditor", {"email": "ada@example.com", "password": PASSWORD})
    other = await api(document % "spy", {"email": "bob@example.com", "password": PASSWORD})

    assert admin == {
        "data": {
            "login": {"viewer": {"email": "ada@example.com"}},
            "createRole": {"name": "auditor"},
        }
    }
    assert other["data"] == {"login": {"viewer": {"email": "bob@example.com"}}, "createRole": None}
    assert [error["extensions"]["code"] for error in other["errors"]] == ["FORBIDDEN"]


async def test_every_failed_login_answers_alike_after_one_password_verification(
    api: Api, seed: Seed, verifications: list[bool]
) -> None:
    await seed("ada@example.com")
    await seed("gone@example.com", deleted=True)
    await seed("nopassword@example.com", password=False)
    attempts = [
        ("nobody@example.com", PASSWORD),  # unknown email
        ("ada@example.com", "wrong password"),
        ("gone@example.com", PASSWORD),  # soft-deleted, right password
        ("nopassword@example.com", PASSWORD),  # no password at all
        ("ada@example.com", ""),
        ("nul\x00@example.com", PASSWORD),
        ("x" * 5000 + "@example.com", PASSWORD),
    ]

    errors = []
    for email, password in attempts:
        body = await api(LOGIN, {"email": email, "password": password})
        errors.append(failure(body, "login"))

    assert {error["message"] for error in errors} == {LOGIN_FAILED}
    assert {str(error["extensions"]) for error in errors} == {"{'code': 'UNAUTHENTICATED'}"}
    # Each took one Argon2id verification, none of which matched
    assert verifications == [False] * len(attempts)


async def test_ten_failed_logins_for_one_email_rate_limit_it_until_the_window_passes(
    api: Api, seed: Seed, committed_engine: AsyncEngine, verifications: list[bool]
) -> None:
    await seed("ada@example.com")
    await seed("bob@example.com")

    for attempt in range(MAX_FAILED_LOGINS):
        email = "ada@example.com" if attempt % 2 else " ADA@EXAMPLE.COM"  # one email
        body = await api(LOGIN, {"email": email, "password": f"guess {attempt}"})
        assert failure(body, "login")["extensions"] == {"code": "UNAUTHENTICATED"}
    verified = len(verifications)
    limited = await api(LOGIN, {"email": "ada@example.com", "password": PASSWORD})

    error = failure(limited, "login")
    assert error["extensions"]["code"] == "RATE_LIMITED"
    retry_after = error["extensions"]["retryAfter"]
    assert isinstance(retry_after, int)
    assert 0 < retry_after <= FAILED_LOGIN_WINDOW.total_seconds()
    assert len(verifications) == verified  # the password was not even checked
    # Another email is not held up
    assert (await api.login("bob@example.com"))["viewer"]["email"] == "bob@example.com"
    # Once the window has passed (the failures made older), the password works again
    async with committed_engine.begin() as connection:
        await connection.execute(
            update(auth_login_failures).values(
                failed_at=datetime.now(UTC) - FAILED_LOGIN_WINDOW - timedelta(seconds=1)
            )
        )
    assert (await api.login("ada@example.com"))["viewer"]["email"] == "ada@example.com"


async def test_a_burst_of_guesses_gets_ten_and_then_waits(
    api: Api, seed: Seed, verifications: list[bool]
) -> None:
    await seed("ada@example.com")

    bodies = await asyncio.gather(
        *(
            api(LOGIN, {"email": "ada@example.com", "password": f"guess {attempt}"})
            for attempt in range(2 * MAX_FAILED_LOGINS)
        )
    )

    codes = sorted(failure(body, "login")["extensions"]["code"] for body in bodies)
    assert codes == ["RATE_LIMITED"] * MAX_FAILED_LOGINS + ["UNAUTHENTICATED"] * MAX_FAILED_LOGINS
    assert verifications == [False] * MAX_FAILED_LOGINS  # the waiting ones checked nothing


async def test_a_successful_login_forgets_the_failures(
    api: Api, seed: Seed, committed_engine: AsyncEngine
) -> None:
    await seed("ada@example.com")

    for _ in range(MAX_FAILED_LOGINS - 1):
        await api(LOGIN, {"email": "ada@example.com", "password": "wrong password"})
    await api.login("ada@example.com")
    body = await api(LOGIN, {"email": "ada@example.com", "password": "wrong password"})

    assert failure(body, "login")["extensions"] == {"code": "UNAUTHENTICATED"}
    async with committed_engine.connect() as connection:
        count = (
            await connection.execute(select(func.count()).select_from(auth_login_failures))
        ).scalar_one()
    assert count == 1


# -- refreshToken ---------------------------------------------------------------------


async def test_a_refresh_token_is_traded_once_for_a_new_pair(api: Api, seed: Seed) -> None:
    await seed("ada@example.com")
    first = await api.login("ada@example.com")

    data = await api.data(REFRESH, {"token": first["refreshToken"]})

    second = data["refreshToken"]
    assert second["viewer"] == first["viewer"]
    assert second["refreshToken"] != first["refreshToken"]
    assert segments(second["accessToken"])[1]["sid"] == segments(first["accessToken"])[1]["sid"]
    assert await api.data(VIEWER, token=second["accessToken"]) == {"viewer": first["viewer"]}
    # The new refresh token works in turn
    third = (await api.data(REFRESH, {"token": second["refreshToken"]}))["refreshToken"]
    assert third["viewer"] == first["viewer"]


async def test_a_refresh_token_used_twice_ends_its_whole_session(
    api: Api, seed: Seed, committed_engine: AsyncEngine
) -> None:
    ada = await seed("ada@example.com")
    first = await api.login("ada@example.com")
    other = await api.login("ada@example.com")  # another session, untouched
    second = (await api.data(REFRESH, {"token": first["refreshToken"]}))["refreshToken"]

    replay = await api(REFRESH, {"token": first["refreshToken"]})

    assert failure(replay, "refreshToken")["extensions"] == {"code": "UNAUTHENTICATED"}
    # Every token of that session is refused from now on
    assert_refused(await api.post(VIEWER, token=second["accessToken"]))
    assert_refused(await api.post(VIEWER, token=first["accessToken"]))
    body = await api(REFRESH, {"token": second["refreshToken"]})
    assert failure(body, "refreshToken")["extensions"] == {"code": "UNAUTHENTICATED"}
    # The other session lives on
    assert await api.data(VIEWER, token=other["accessToken"]) == {"viewer": other["viewer"]}
    assert await live_sessions(committed_engine, ada) == 1


@pytest.mark.parametrize(
    "token", ["", "not a token", "x" * 10_000, "\x00"], ids=["empty", "garbage", "long", "nul"]
)
async def test_an_unknown_refresh_token_is_unauthenticated(api: Api, token: str) -> None:
    body = await api(REFRESH, {"token": token})

    error = failure(body, "refreshToken")
    assert error["extensions"] == {"code": "UNAUTHENTICATED"}
    if token:
        assert token not in error["message"]


# -- logout ---------------------------------------------------------------------------


async def test_logout_ends_the_session_of_the_token_used(
    api: Api, seed: Seed, committed_engine: AsyncEngine
) -> None:
    ada = await seed("ada@example.com")
    leaving = await api.login("ada@example.com")
    staying = await api.login("ada@example.com")

    data = await api.data("mutation { logout }", token=leaving["accessToken"])

    assert data == {"logout": True}
    assert_refused(await api.post(VIEWER, token=leaving["accessToken"]))
    body = await api(REFRESH, {"token": leaving["refreshToken"]})
    assert failure(body, "refreshToken")["extensions"] == {"code": "UNAUTHENTICATED"}
    assert await api.data(VIEWER, token=staying["accessToken"]) == {"viewer": staying["viewer"]}
    assert await live_sessions(committed_engine, ada) == 1


async def test_logout_everywhere_ends_every_session_of_the_viewer(
    api: Api, seed: Seed, committed_engine: AsyncEngine
) -> None:
    ada = await seed("ada@example.com")
    await seed("bob@example.com")
    here = await api.login("ada@example.com")
    there = await api.login("ada@example.com")
    bob = await api.login("bob@example.com")

    data = await api.data(LOGOUT, {"everywhere": True}, token=here["accessToken"])

    assert data == {"logout": True}
    assert_refused(await api.post(VIEWER, token=here["accessToken"]))
    assert_refused(await api.post(VIEWER, token=there["accessToken"]))
    assert await live_sessions(committed_engine, ada) == 0
    assert await api.data(VIEWER, token=bob["accessToken"]) == {"viewer": bob["viewer"]}


async def test_the_rest_of_the_document_after_logout_is_anonymous(api: Api, seed: Seed) -> None:
    await seed("ada@example.com")
    token = (await api.login("ada@example.com"))["accessToken"]

    data = await api.data("mutation { logout createPost: __typename }", token=token)
    body = await api(
        """
        mutation ($password: String!) {
          login(email: "ada@example.com", password: $password) { viewer { email } }
          logout
          createPost(input: {title: "T", body: "B"}) { id }
        }
        """,
        {"password": PASSWORD},
    )

    assert data == {"logout": True, "createPost": "Mutation"}
    assert body["data"] == {
        "login": {"viewer": {"email": "ada@example.com"}},
        "logout": True,
        "createPost": None,
    }
    assert [error["extensions"]["code"] for error in body["errors"]] == ["UNAUTHENTICATED"]


async def test_logout_needs_a_signed_in_viewer(api: Api) -> None:
    body = await api(LOGOUT, {"everywhere": True})

    assert failure(body, "logout")["extensions"] == {"code": "UNAUTHENTICATED"}


async def test_logout_with_a_token_minted_elsewhere_ends_nothing(
    api: Api, seed: Seed, tokens: AccessTokens, committed_engine: AsyncEngine
) -> None:
    ada = await seed("ada@example.com")
    await api.login("ada@example.com")
    minted = tokens.issue(ada).token  # the contract's claims only: no session

    assert await api.data(LOGOUT, token=minted) == {"logout": True}
    # It had no session to end: it still works, until it expires
    assert (await api.data(VIEWER, token=minted))["viewer"]["email"] == "ada@example.com"
    assert await live_sessions(committed_engine, ada) == 1


# -- changePassword -------------------------------------------------------------------


async def test_change_password_keeps_this_session_and_ends_the_others(
    api: Api, seed: Seed, committed_engine: AsyncEngine
) -> None:
    ada = await seed("ada@example.com")
    here = await api.login("ada@example.com")
    there = await api.login("ada@example.com")

    data = await api.data(
        CHANGE_PASSWORD, {"current": PASSWORD, "new": NEW_PASSWORD}, token=here["accessToken"]
    )

    fresh = data["changePassword"]
    assert fresh["viewer"] == here["viewer"]
    assert segments(fresh["accessToken"])[1]["sid"] == segments(here["accessToken"])[1]["sid"]
    assert await api.data(VIEWER, token=fresh["accessToken"]) == {"viewer": here["viewer"]}
    assert await api.data(VIEWER, token=here["accessToken"]) == {"viewer": here["viewer"]}
    assert_refused(await api.post(VIEWER, token=there["accessToken"]))
    assert await live_sessions(committed_engine, ada) == 1
    # The old password no longer logs in; the new one does
    body = await api(LOGIN, {"email": "ada@example.com", "password": PASSWORD})
    assert failure(body, "login")["message"] == LOGIN_FAILED
    assert (await api.login("ada@example.com", NEW_PASSWORD))["viewer"] == here["viewer"]
    # The fresh refresh token is the session's one; the one before it counts as used
    assert (await api.data(REFRESH, {"token": fresh["refreshToken"]}))["refreshToken"]
    body = await api(REFRESH, {"token": here["refreshToken"]})
    assert failure(body, "refreshToken")["extensions"] == {"code": "UNAUTHENTICATED"}
    assert_refused(await api.post(VIEWER, token=fresh["accessToken"]))  # a reuse: ended


async def test_change_password_refuses_a_wrong_current_or_a_bad_new_password(
    api: Api, seed: Seed, committed_engine: AsyncEngine
) -> None:
    await seed("ada@example.com")
    token = (await api.login("ada@example.com"))["accessToken"]
    before = await snapshot(committed_engine)

    wrong = await api(
        CHANGE_PASSWORD, {"current": "not it at all", "new": NEW_PASSWORD}, token=token
    )
    short = await api(CHANGE_PASSWORD, {"current": PASSWORD, "new": "short"}, token=token)
    blank = await api(CHANGE_PASSWORD, {"current": PASSWORD, "new": " " * 9}, token=token)
    anonymous = await api(CHANGE_PASSWORD, {"current": PASSWORD, "new": NEW_PASSWORD})

    assert failure(wrong, "changePassword")["extensions"] == {"code": "UNAUTHENTICATED"}
    assert failure(short, "changePassword")["extensions"] == {
        "code": "BAD_USER_INPUT",
        "fields": {"newPassword": "must be 8 to 128 characters"},
    }
    assert failure(blank, "changePassword")["extensions"]["fields"] == {
        "newPassword": "must not be blank"
    }
    assert failure(anonymous, "changePassword")["extensions"] == {"code": "UNAUTHENTICATED"}
    after = await snapshot(committed_engine)
    # Nothing changed but the wrong password's record as a failed login
    assert len(after.pop("auth_login_failures")) == 1
    before.pop("auth_login_failures")
    assert after == before
    assert await api.data(VIEWER, token=token)


async def test_wrong_current_passwords_count_toward_the_login_limit(api: Api, seed: Seed) -> None:
    await seed("ada@example.com")
    token = (await api.login("ada@example.com"))["accessToken"]

    for attempt in range(MAX_FAILED_LOGINS):
        body = await api(
            CHANGE_PASSWORD, {"current": f"guess {attempt}", "new": NEW_PASSWORD}, token=token
        )
        assert failure(body, "changePassword")["extensions"] == {"code": "UNAUTHENTICATED"}
    limited = await api(CHANGE_PASSWORD, {"current": PASSWORD, "new": NEW_PASSWORD}, token=token)
    login = await api(LOGIN, {"email": "ada@example.com", "password": PASSWORD})

    assert failure(limited, "changePassword")["extensions"]["code"] == "RATE_LIMITED"
    assert failure(login, "login")["extensions"]["code"] == "RATE_LIMITED"


async def test_change_password_with_a_token_minted_elsewhere_starts_a_session(
    api: Api, seed: Seed, tokens: AccessTokens, committed_engine: AsyncEngine
) -> None:
    ada = await seed("ada@example.com")
    other = await api.login("ada@example.com")
    minted = tokens.issue(ada).token

    data = await api.data(CHANGE_PASSWORD, {"current": PASSWORD, "new": NEW_PASSWORD}, token=minted)

    fresh = data["changePassword"]
    assert "sid" in segments(fresh["accessToken"])[1]
    assert await api.data(VIEWER, token=fresh["accessToken"]) == {"viewer": fresh["viewer"]}
    assert_refused(await api.post(VIEWER, token=other["accessToken"]))
    assert await live_sessions(committed_engine, ada) == 1


# -- createUser with a password -------------------------------------------------------


CREATE_USER = """
mutation ($input: CreateUserInput!) { createUser(input: $input) { id name email } }
"""


async def test_an_admin_creates_a_user_with_a_password_that_logs_in(
    api: Api, http: httpx.AsyncClient, committed_engine: AsyncEngine
) -> None:
    variables = {"input": {"name": "Cy", "email": "CY@example.com", "password": PASSWORD}}
    response = await http.post(
        "/graphql", json={"query": CREATE_USER, "variables": variables}, headers=AS_TEST_ADMIN
    )
    created = response.json()["data"]["createUser"]
    no_password = {"input": {"name": "Di", "email": "di@example.com", "password": None}}
    response = await http.post(
        "/graphql", json={"query": CREATE_USER, "variables": no_password}, headers=AS_TEST_ADMIN
    )

    assert created["email"] == "cy@example.com"
    assert "errors" not in response.json()
    stored = await stored_hash(committed_engine, "cy@example.com")
    assert stored is not None and stored.startswith("$argon2id$")
    assert (await api.login("cy@example.com"))["viewer"] == created
    assert await stored_hash(committed_engine, "di@example.com") is None
    body = await api(LOGIN, {"email": "di@example.com", "password": PASSWORD})
    assert failure(body, "login")["message"] == LOGIN_FAILED


async def test_create_user_reports_a_bad_password_with_the_other_problems(
    http: httpx.AsyncClient, seed: Seed, committed_engine: AsyncEngine
) -> None:
    await seed("taken@example.com")
    before = await snapshot(committed_engine)
    variables = {"input": {"name": "Cy", "email": "taken@example.com", "password": "short"}}

    response = await http.post(
        "/graphql", json={"query": CREATE_USER, "variables": variables}, headers=AS_TEST_ADMIN
    )

    error = failure(response.json(), "createUser")
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "fields": {"input.email": "already taken", "input.password": "must be 8 to 128 characters"},
    }
    assert await snapshot(committed_engine) == before


async def test_create_user_with_a_password_is_for_admins_only(
    api: Api, seed: Seed, committed_engine: AsyncEngine
) -> None:
    await seed("ada@example.com")
    token = (await api.login("ada@example.com"))["accessToken"]
    variables = {"input": {"name": "Cy", "email": "cy@example.com", "password": PASSWORD}}

    body = await api(CREATE_USER, variables, token=token)
    anonymous = await api(CREATE_USER, variables)

    assert failure(body, "createUser")["extensions"]["code"] == "FORBIDDEN"
    assert failure(anonymous, "createUser")["extensions"]["code"] == "UNAUTHENTICATED"
    assert await stored_hash(committed_engine, "cy@example.com") == NO_USER


# -- tokens that are refused ----------------------------------------------------------


async def test_tokens_that_are_not_valid_are_refused_before_anything_runs(
    api: Api,
    http: httpx.AsyncClient,
    seed: Seed,
    tokens: AccessTokens,
    committed_engine: AsyncEngine,
) -> None:
    ada = await seed("ada@example.com")
    gone = await seed("gone@example.com")
    good = (await api.login("ada@example.com"))["accessToken"]
    gone_token = (await api.login("gone@example.com"))["accessToken"]
    async with committed_engine.begin() as connection:
        await connection.execute(
            update(users).where(users.c.id == gone).values(deleted_at=datetime.now(UTC))
        )
    header, claims = segments(good)
    now = int(datetime.now(UTC).timestamp())
    secret = tokens._secret  # the app's key, to forge tokens that differ in one way only
    forged = {
        "malformed": "not.a.jwt",
        "garbage": "abc",
        "wrong signature": hs256(header, claims, b"x" * 32),
        "tampered": hs256(header, {**claims, "sub": gid("User", ada + 1)}, b"y" * 32),
        "alg none": unsigned_token({"alg": "none", "typ": "JWT"}, claims),
        "alg none, signature kept": unsigned_token(
            {"alg": "none", "typ": "JWT"}, claims, good.rsplit(".", 1)[1]
        ),
        "expired": hs256(header, {**claims, "iat": now - 4000, "exp": now - 3000}, secret),
        "other issuer": hs256(header, {**claims, "iss": "someone-else"}, secret),
        "an audience": hs256(header, {**claims, "aud": "other-api"}, secret),
        "not a user": hs256(header, {**claims, "sub": gid("Post", ada)}, secret),
        "unknown user": hs256(header, {**claims, "sub": gid("User", 999_999)}, secret),
        "soft-deleted user": gone_token,
    }

    for name, token in forged.items():
        response = await api.post(VIEWER, token=token)
        assert response.status_code == 401, name
        assert_refused(response)
    for scheme in (f"Basic {good}", f"Token {good}", "Bearer", f"Bearer {good} extra"):
        response = await http.post(
            "/graphql", json={"query": VIEWER}, headers={"Authorization": scheme}
        )
        assert_refused(response)
    # The token it was forged from still works
    assert (await api.data(VIEWER, token=good))["viewer"]["id"] == gid("User", ada)


async def test_a_refused_token_stops_a_mutation_before_it_runs(
    api: Api, seed: Seed, committed_engine: AsyncEngine
) -> None:
    await seed("ada@example.com")
    before = await snapshot(committed_engine)

    response = await api.post(LOGIN, {"email": "ada@example.com", "password": PASSWORD}, "abc")

    assert_refused(response)
    assert await snapshot(committed_engine) == before


# -- secrets stay secret --------------------------------------------------------------


async def test_no_password_hash_or_token_appears_in_a_log_line_or_an_error(
    api: Api, seed: Seed, committed_engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await seed("ada@example.com")
    secrets = [PASSWORD, NEW_PASSWORD, password_hash(), "wrong password 1"]
    bodies: list[str] = []

    async def call(query: str, variables: dict[str, Any], token: str | None = None) -> Any:
        response = await api.post(query, variables, token)
        bodies.append(response.text)
        return response.json()

    await call(SIGN_UP, {"input": {"name": "Bo", "email": "bo@example.com", "password": PASSWORD}})
    await call(SIGN_UP, {"input": {"name": "Bo", "email": "bo@example.com", "password": "tiny"}})
    await call(LOGIN, {"email": "ada@example.com", "password": "wrong password 1"})
    first = (await call(LOGIN, {"email": "ada@example.com", "password": PASSWORD}))["data"]["login"]
    second = (await call(REFRESH, {"token": first["refreshToken"]}))["data"]["refreshToken"]
    await call(REFRESH, {"token": first["refreshToken"]})  # a reuse
    await call(REFRESH, {"token": "wrong password 1"})
    third = (await call(LOGIN, {"email": "ada@example.com", "password": PASSWORD}))["data"]["login"]
    await call(
        CHANGE_PASSWORD, {"current": "wrong password 1", "new": NEW_PASSWORD}, third["accessToken"]
    )
    await call(CHANGE_PASSWORD, {"current": PASSWORD, "new": "x"}, third["accessToken"])
    await call(CHANGE_PASSWORD, {"current": PASSWORD, "new": NEW_PASSWORD}, third["accessToken"])
    await call(VIEWER, {}, second["accessToken"])  # refused: its session ended
    await call(VIEWER, {}, "Basic " + PASSWORD)
    async with committed_engine.connect() as connection:
        hashes = (await connection.execute(select(users.c.password_hash))).scalars().all()
    tokens = [
        payload[name]
        for payload in (first, second, third)
        for name in ("accessToken", "refreshToken")
    ]

    logged = "\n".join(
        f"{record.getMessage()} {record.exc_text or ''} {record.__dict__}"
        for record in caplog.records
    )
    errors = "\n".join(body for body in bodies if '"errors"' in body)
    assert caplog.records  # the requests were logged
    for secret in [*secrets, *(value for value in hashes if value), *tokens]:
        assert secret not in logged
        assert secret not in errors
