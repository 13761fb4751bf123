"""Two ``ftf serve`` processes of one PostgreSQL database share everything section 8 needs.

They share nothing but the database: the generated signing key (no
``AUTH_JWT_SECRET``), sessions, roles and failed-login counts. A token from
one is accepted by the other; a logout or a role change on one holds on the
other within a second; ten failed logins spread over both rate-limit the
email on both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from server.seed import DEFAULT_PASSWORD, SeedPlan, admin_email, seed
from tests.server.processes import StartServer, eventually

#: The contract's bound for a logout or a role change to hold on every process.
#: The contract's second, plus time for the polling requests themselves on a loaded
#: machine. The second itself is the viewer cache's half second (``VIEWER_TTL``),
#: which tests/server/auth/test_viewer.py checks on its own clock.
WITHIN_A_SECOND = 1.0 + 1.0
PLAN = SeedPlan(users=3, posts_per_user=1, comments_per_post=0)

LOGIN = """mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { accessToken viewer { id email } }
}"""


async def call(
    base_url: str, query: str, token: str | None = None, **variables: Any
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        return await http.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )


async def data(base_url: str, query: str, token: str | None = None, **variables: Any) -> Any:
    response = await call(base_url, query, token, **variables)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]


async def login(base_url: str, email: str, password: str = DEFAULT_PASSWORD) -> str:
    found = await data(base_url, LOGIN, email=email, password=password)
    token: str = found["login"]["accessToken"]
    return token


async def codes(base_url: str, query: str, token: str | None = None, **variables: Any) -> list[str]:
    response = await call(base_url, query, token, **variables)
    assert response.status_code == 200, response.text
    return [error["extensions"]["code"] for error in response.json().get("errors", [])]


async def has_codes(
    base_url: str, expected: list[str], query: str, token: str, **variables: Any
) -> bool:
    return await codes(base_url, query, token, **variables) == expected


async def is_refused(base_url: str, token: str) -> bool:
    return (await call(base_url, "{ viewer { id } }", token)).status_code == 401


@pytest.fixture
async def two_servers(
    new_database: Callable[[str], str], ftf_serve: StartServer
) -> tuple[str, str]:
    url = new_database("postgresql")
    first = await ftf_serve(url)
    second = await ftf_serve(url)
    # Seeded once both have migrated it.
    engine = create_async_engine(url)
    try:
        await seed(engine, PLAN)
    finally:
        await engine.dispose()
    return first.base_url, second.base_url


async def test_tokens_logouts_and_role_changes_hold_on_every_process(
    two_servers: tuple[str, str],
) -> None:
    a, b = two_servers
    email = admin_email(PLAN)
    assert email is not None
    admin = await login(a, email)
    # The key each process signs with is the one generated in the database.
    assert (await data(b, "{ viewer { email } }", admin))["viewer"]["email"] == email

    made = await data(
        a,
        """mutation {
          createUser(input: {name: "Eve", email: "eve@example.com", password: "correct horse"}) {
            id
          }
          createRole(input: {name: "chief-editor"}) { id }
          createPost(input: {title: "Draft", body: "Not yet.", published: false}) { id }
        }""",
        admin,
    )
    eve_id = made["createUser"]["id"]
    draft = made["createPost"]["id"]
    editor = await data(a, '{ roles(where: {name: {eq: "editor"}}) { nodes { id } } }', admin)
    editor_id = editor["roles"]["nodes"][0]["id"]
    await data(
        a,
        "mutation($u: ID!, $r: ID!) { assignRole(userId: $u, roleId: $r) { id } }",
        admin,
        u=eve_id,
        r=editor_id,
    )
    eve = await login(b, "eve@example.com", "correct horse")
    see_draft = "query($id: ID!) { post(id: $id) { title } }"
    assert (await data(b, see_draft, eve, id=draft))["post"] == {"title": "Draft"}

    # A role taken away on one process: the other's requests lose it within a second
    # (each process keeps a viewer it read for half a second: server.auth.viewer).
    await data(
        a,
        "mutation($u: ID!, $r: ID!) { revokeRole(userId: $u, roleId: $r) { id } }",
        admin,
        u=eve_id,
        r=editor_id,
    )
    await eventually(lambda: has_codes(b, ["NOT_FOUND"], see_draft, eve, id=draft), WITHIN_A_SECOND)

    # A logout on one process: the other refuses the token within a second.
    assert (await data(a, "mutation { logout }", eve))["logout"] is True
    await eventually(lambda: is_refused(b, eve), WITHIN_A_SECOND)
    refused = await call(b, "{ viewer { id } }", eve)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert refused.json()["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}

    # A soft-deleted user's token is refused everywhere at once.
    other = await login(b, "eve@example.com", "correct horse")
    await data(a, "mutation($id: ID!) { deleteUser(id: $id) { id } }", admin, id=eve_id)
    assert (await call(a, "{ viewer { id } }", other)).status_code == 401  # at once, here
    await eventually(lambda: is_refused(b, other), WITHIN_A_SECOND)


async def test_failed_logins_count_across_processes(two_servers: tuple[str, str]) -> None:
    a, b = two_servers
    email = admin_email(PLAN)
    for attempt in range(10):
        server = a if attempt % 2 else b
        assert await codes(server, LOGIN, email=email, password="wrong password") == [
            "UNAUTHENTICATED"
        ]
    for server in (a, b):
        response = await call(server, LOGIN, email=email, password=DEFAULT_PASSWORD)
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == "RATE_LIMITED"
        assert 0 < error["extensions"]["retryAfter"] <= 15 * 60
