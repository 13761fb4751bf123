"""Every error code of contract section 3, with exactly the extensions it promises."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from starlette.applications import Starlette

from fast_query import Trashed
from repositories import UserRepository
from server.app import create_app
from server.container import Container
from server.settings import Settings
from tests.api import Dataset, GraphQL, gid, snapshot

INTERNAL_MESSAGE = "Internal server error: something went wrong on our side."


# -- NOT_FOUND and BAD_USER_INPUT (field errors: `data` stays) --------------------------------


async def test_not_found_names_the_model_and_the_id_as_given(gql: GraphQL, blog: Dataset) -> None:
    id = gid("User", 999_999)

    body = await gql("query($id: ID!) { user(id: $id) { name } }", {"id": id})

    assert body == {
        "data": {"user": None},
        "errors": [
            {
                "message": f"User {id!r} not found",
                "locations": [{"line": 1, "column": 19}],
                "path": ["user"],
                "extensions": {"code": "NOT_FOUND", "model": "User", "id": id},
            }
        ],
    }


@pytest.mark.parametrize(
    ("field", "target", "model"),
    [
        pytest.param("user", "post", "User", id="user-with-a-post-id"),
        pytest.param("post", "comment", "Post", id="post-with-a-comment-id"),
        pytest.param("comment", "role", "Comment", id="comment-with-a-role-id"),
        pytest.param("role", "user", "Role", id="role-with-a-user-id"),
        pytest.param("user", "cyd", "User", id="soft-deleted-user"),
        pytest.param("post", "a3", "Post", id="soft-deleted-post"),
    ],
)
async def test_typed_lookups_are_not_found_for_other_types_and_soft_deleted_rows(
    gql: GraphQL, blog: Dataset, field: str, target: str, model: str
) -> None:
    id = {
        "post": gid("Post", blog.posts["a1"]),
        "comment": gid("Comment", blog.comments["c-a1-bob"]),
        "role": gid("Role", blog.roles["admin"]),
        "user": gid("User", blog.users["ada"]),
        "cyd": gid("User", blog.users["cyd"]),
        "a3": gid("Post", blog.posts["a3"]),
    }[target]

    body = await gql(f"query($id: ID!) {{ {field}(id: $id) {{ id }} }}", {"id": id})

    assert body["data"] == {field: None}
    [error] = body["errors"]
    assert (error["path"], error["extensions"]) == (
        [field],
        {"code": "NOT_FOUND", "model": model, "id": id},
    )


async def test_bad_user_input_lists_fields_by_argument_path(gql: GraphQL, blog: Dataset) -> None:
    body = await gql('{ user(id: "nonsense") { name } }')

    assert body == {
        "data": {"user": None},
        "errors": [
            {
                "message": "Invalid input (id: malformed ID)",
                "locations": [{"line": 1, "column": 3}],
                "path": ["user"],
                "extensions": {"code": "BAD_USER_INPUT", "fields": {"id": "malformed ID"}},
            }
        ],
    }


async def test_bad_user_input_for_page_size_rules(gql: GraphQL, blog: Dataset) -> None:
    body = await gql("{ roles(first: -1) { totalCount } }")

    # `roles` is non-null, so the error nulls its parent: the whole `data`.
    assert body["data"] is None
    [error] = body["errors"]
    assert error["path"] == ["roles"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert set(error["extensions"]) == {"code", "fields"}


async def test_a_field_error_leaves_the_rest_of_data_intact(gql: GraphQL, blog: Dataset) -> None:
    ada = gid("User", blog.users["ada"])

    body = await gql(
        "query($ada: ID!, $missing: ID!) { "
        "ada: user(id: $ada) { name } "
        "missing: post(id: $missing) { title } "
        "roles { totalCount } }",
        {"ada": ada, "missing": gid("Post", 999_999)},
    )

    assert body["data"] == {
        "ada": {"name": "Ada Lovelace"},
        "missing": None,
        "roles": {"totalCount": 3},
    }
    assert [(error["path"], error["extensions"]["code"]) for error in body["errors"]] == [
        (["missing"], "NOT_FOUND")
    ]


# -- request errors: no `data` at all ---------------------------------------------------------


async def test_parse_failed(gql: GraphQL) -> None:
    body = await gql("{ users { ")

    assert body == {
        "errors": [
            {
                "message": "Syntax Error: Expected Name, found <EOF>.",
                "locations": [{"line": 1, "column": 11}],
                "extensions": {"code": "GRAPHQL_PARSE_FAILED"},
            }
        ]
    }


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("{ nope }", id="unknown-field"),
        pytest.param("{ users { nodes { password } } }", id="unknown-nested-field"),
        pytest.param("{ users }", id="missing-selection"),
        pytest.param("{ user { name } }", id="missing-required-argument"),
        pytest.param('{ users(first: "ten") { totalCount } }', id="literal-of-the-wrong-type"),
        pytest.param(
            '{ users(where: {createdAt: {gt: "yesterday"}}) { totalCount } }',
            id="literal-that-is-no-datetime",
        ),
        pytest.param("{ users(trashed: SOMETIMES) { totalCount } }", id="unknown-enum-literal"),
        pytest.param("query($x: Int) { users { totalCount } }", id="unused-variable"),
    ],
)
async def test_validation_failed(gql: GraphQL, query: str) -> None:
    body = await gql(query)

    assert list(body) == ["errors"]
    assert body["errors"]
    for error in body["errors"]:
        assert error["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}
        assert error["message"]
        assert error["locations"]


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        pytest.param(
            "query($v: DateTime!) { users(where: {createdAt: {gt: $v}}) { totalCount } }",
            {"v": "yesterday"},
            id="bad-datetime",
        ),
        pytest.param(
            "query($v: Trashed) { users(trashed: $v) { totalCount } }",
            {"v": "SOMETIMES"},
            id="unknown-enum-value",
        ),
        pytest.param(
            "query($v: Int) { users(first: $v) { totalCount } }", {"v": "ten"}, id="string-for-int"
        ),
        pytest.param(
            "query($v: [UserOrder!]) { users(orderBy: $v) { totalCount } }",
            {"v": [{"field": "AGE"}]},
            id="unknown-enum-value-in-an-input",
        ),
        pytest.param(
            "query($v: ID!) { user(id: $v) { name } }", {}, id="missing-required-variable"
        ),
        pytest.param(
            "mutation($v: CreateUserInput!) { createUser(input: $v) { id } }",
            {"v": {"name": "No email"}},
            id="input-without-a-required-field",
        ),
    ],
)
async def test_variables_that_cannot_be_coerced_are_bad_user_input_without_data(
    gql: GraphQL, committed_engine: AsyncEngine, query: str, variables: dict[str, Any]
) -> None:
    before = await snapshot(committed_engine)

    body = await gql(query, variables)

    assert list(body) == ["errors"]
    [error] = body["errors"]
    assert error["message"].startswith("Variable '$v' ")
    assert error["locations"] == [{"line": 1, "column": query.index("$v") + 1}]
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
    assert await snapshot(committed_engine) == before


async def test_query_too_complex_over_the_token_limit(gql: GraphQL) -> None:
    query = "{ " + " ".join(["__typename"] * 5_000) + " }"

    body = await gql(query)

    assert body == {
        "errors": [
            {
                "message": "The document has more than 5000 tokens.",
                "extensions": {"code": "QUERY_TOO_COMPLEX", "limit": 5000},
            }
        ]
    }


# -- INTERNAL_SERVER_ERROR --------------------------------------------------------------------


class BrokenUsers(UserRepository):
    """A repository whose lookups fail the way a bug or a driver would."""

    async def find_checked(self, id: Any, rule: Any, *, trashed: Trashed = Trashed.WITHOUT) -> Any:
        raise RuntimeError("secret detail: SELECT password FROM users")


# updateUser looks its row up with the repository's `find_checked`; queries may not (the fast path).
BROKEN_THEN_FINE = (
    'mutation($id: ID!) { updateUser(id: $id, input: {name: "Changed"}) { name } '
    'createRole(input: {name: "auditor"}) { name } }'
)


async def test_internal_server_error_is_generic_and_carries_the_request_id(
    app: Starlette,
    client: httpx.AsyncClient,
    blog: Dataset,
    committed_engine: AsyncEngine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    container: Container = app.state.container
    payload = {"query": BROKEN_THEN_FINE, "variables": {"id": gid("User", blog.users["ada"])}}
    before = await snapshot(committed_engine)

    with (
        container.override(UserRepository, factory=BrokenUsers),
        caplog.at_level(logging.ERROR, logger="server.errors"),
    ):
        response = await client.post("/graphql", json=payload)

    assert response.status_code == 200
    request_id = response.headers["x-request-id"]
    assert request_id
    # The failing field is null; the next one ran and its data is there.
    assert response.json() == {
        "data": {"updateUser": None, "createRole": {"name": "auditor"}},
        "errors": [
            {
                "message": INTERNAL_MESSAGE,
                "locations": [{"line": 1, "column": 22}],
                "path": ["updateUser"],
                "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
            }
        ],
    }
    for leak in ("secret detail", "SELECT", "RuntimeError", "Traceback", "repositor"):
        assert leak not in response.text
    after = await snapshot(committed_engine)
    assert after["users"] == before["users"]
    assert [row["name"] for row in after["roles"]] == ["admin", "editor", "reader", "auditor"]
    # The details go to the server log, under the same request id.
    [record] = [r for r in caplog.records if r.name == "server.errors"]
    assert request_id in record.getMessage()
    assert record.exc_info is not None
    assert "secret detail" in str(record.exc_info[1])


async def test_internal_server_error_uses_the_request_id_the_client_sent(
    app: Starlette, client: httpx.AsyncClient, blog: Dataset
) -> None:
    container: Container = app.state.container
    payload = {"query": BROKEN_THEN_FINE, "variables": {"id": gid("User", blog.users["ada"])}}

    with container.override(UserRepository, factory=BrokenUsers):
        response = await client.post("/graphql", json=payload, headers={"X-Request-ID": "trace-42"})

    assert response.headers["x-request-id"] == "trace-42"
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": "trace-42"}


UNREACHABLE = "postgresql+asyncpg://postgres@127.0.0.1:1/x"
DRIVER_WORDS = ("Connect call failed", "127.0.0.1", "Errno", "asyncpg", "OSError", "Traceback")


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("{ users { totalCount } }", id="query"),
        pytest.param('mutation { createRole(input: {name: "x"}) { id } }', id="mutation"),
    ],
)
async def test_internal_server_error_when_the_database_does_not_answer(query: str) -> None:
    application = create_app(Settings(database_url=UNREACHABLE))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            response = await http.post("/graphql", json={"query": query})

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body.get("data") in (None, {"createRole": None})
    [error] = body["errors"]
    assert error["message"] == INTERNAL_MESSAGE
    assert error["extensions"] == {
        "code": "INTERNAL_SERVER_ERROR",
        "requestId": response.headers["x-request-id"],
    }
    for leak in DRIVER_WORDS:
        assert leak not in response.text


def broken_session() -> AsyncSession:
    raise RuntimeError("secret detail: no session for you")


@pytest.mark.parametrize(
    ("accept", "status"),
    [
        pytest.param("application/json", 200, id="json"),
        pytest.param("application/graphql-response+json", 500, id="graphql-response"),
    ],
)
async def test_internal_server_error_outside_any_field_is_still_the_contract_error(
    app: Starlette, client: httpx.AsyncClient, accept: str, status: int
) -> None:
    container: Container = app.state.container
    query = 'mutation { createRole(input: {name: "x"}) { id } }'

    with container.override(AsyncSession, factory=broken_session):
        response = await client.post("/graphql", json={"query": query}, headers={"Accept": accept})

    assert response.status_code == status
    assert response.headers["content-type"] == accept
    assert response.json() == {
        "errors": [
            {
                "message": INTERNAL_MESSAGE,
                "extensions": {
                    "code": "INTERNAL_SERVER_ERROR",
                    "requestId": response.headers["x-request-id"],
                },
            }
        ]
    }
    assert "secret detail" not in response.text
