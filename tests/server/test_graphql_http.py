"""``/graphql`` and ``/health`` over HTTP: the transport rules of contract sections 4 and 7."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
import pytest

from tests.api import Dataset, gid

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"
TYPENAME = {"query": "{ __typename }"}

Serve = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]  # the `serve` fixture


def bad_request(response: httpx.Response, status: int) -> str:
    """Check a transport-level refusal: ``status``, JSON, one BAD_REQUEST error; its message."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == JSON
    body = response.json()
    assert list(body) == ["errors"]
    [error] = body["errors"]
    assert list(error) == ["message", "extensions"]
    assert error["extensions"] == {"code": "BAD_REQUEST"}
    assert isinstance(error["message"], str)
    assert error["message"]
    return str(error["message"])


# -- POST -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        pytest.param("application/json", id="json"),
        pytest.param("application/json; charset=utf-8", id="json-utf-8"),
        pytest.param("Application/JSON;charset=UTF-8", id="json-any-case"),
    ],
)
async def test_post_json_answers_200_with_data(serve: Serve, content_type: str) -> None:
    async with serve() as http:
        response = await http.post(
            "/graphql", content=json.dumps(TYPENAME), headers={"Content-Type": content_type}
        )

    assert response.status_code == 200
    assert response.headers["content-type"] == JSON
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_post_runs_queries_and_mutations_with_variables(
    client: httpx.AsyncClient, blog: Dataset
) -> None:
    ada = gid("User", blog.users["ada"])

    query = await client.post(
        "/graphql",
        json={"query": "query($id: ID!) { user(id: $id) { name } }", "variables": {"id": ada}},
    )
    mutation = await client.post(
        "/graphql",
        json={
            "query": 'mutation($id: ID!) { updateUser(id: $id, input: {name: "Ada"}) { name } }',
            "variables": {"id": ada},
        },
    )

    assert (query.status_code, query.json()) == (200, {"data": {"user": {"name": "Ada Lovelace"}}})
    assert (mutation.status_code, mutation.json()) == (
        200,
        {"data": {"updateUser": {"name": "Ada"}}},
    )


async def test_post_with_null_variables_operation_name_and_extensions(serve: Serve) -> None:
    payload = {
        "query": "{ __typename }",
        "variables": None,
        "operationName": None,
        "extensions": None,
    }

    async with serve() as http:
        response = await http.post("/graphql", json=payload)

    assert (response.status_code, response.json()) == (200, {"data": {"__typename": "Query"}})


# -- GET --------------------------------------------------------------------------------------


async def test_get_runs_a_query_with_variables_as_a_json_string(
    client: httpx.AsyncClient, blog: Dataset
) -> None:
    params = {
        "query": "query Who($id: ID!) { user(id: $id) { name } }",
        "variables": json.dumps({"id": gid("User", blog.users["bob"])}),
        "operationName": "Who",
    }

    response = await client.get("/graphql", params=params)

    assert response.status_code == 200
    assert response.headers["content-type"] == JSON
    assert response.json() == {"data": {"user": {"name": "Bob Builder"}}}


async def test_get_answers_graphql_response_json_when_asked(serve: Serve) -> None:
    async with serve() as http:
        response = await http.get("/graphql", params=TYPENAME, headers={"Accept": GRAPHQL_RESPONSE})

    assert response.status_code == 200
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_a_mutation_over_get_is_refused_with_405_and_not_run(
    client: httpx.AsyncClient, blog: Dataset
) -> None:
    document = 'mutation { createRole(input: {name: "sneaky"}) { id } }'

    response = await client.get("/graphql", params={"query": document})

    bad_request(response, 405)
    assert response.headers["allow"] == "POST"
    roles = await client.post("/graphql", json={"query": "{ roles { totalCount } }"})
    assert roles.json() == {"data": {"roles": {"totalCount": 3}}}


async def test_get_picks_the_query_of_a_document_that_also_has_a_mutation(serve: Serve) -> None:
    document = 'query Q { __typename } mutation M { createRole(input: {name: "x"}) { id } }'

    async with serve() as http:
        query = await http.get("/graphql", params={"query": document, "operationName": "Q"})
        mutation = await http.get("/graphql", params={"query": document, "operationName": "M"})

    assert (query.status_code, query.json()) == (200, {"data": {"__typename": "Query"}})
    bad_request(mutation, 405)


@pytest.mark.parametrize(
    "params",
    [
        pytest.param(
            {"query": "{ __typename }", "variables": "{not json"}, id="variables-not-json"
        ),
        pytest.param({"query": "{ __typename }", "variables": "[1]"}, id="variables-an-array"),
        pytest.param({"query": "{ __typename }", "extensions": "7"}, id="extensions-a-number"),
    ],
)
async def test_get_with_bad_parameters_is_400(serve: Serve, params: dict[str, str]) -> None:
    async with serve() as http:
        response = await http.get("/graphql", params=params)

    bad_request(response, 400)


# -- requests that are not GraphQL requests ---------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        pytest.param("text/plain", id="text"),
        pytest.param("application/graphql", id="application-graphql"),
        pytest.param("application/x-www-form-urlencoded", id="form"),
        pytest.param("application/jsonp", id="json-lookalike"),
        pytest.param(None, id="none"),
    ],
)
async def test_post_with_another_content_type_is_415(
    serve: Serve, content_type: str | None
) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}

    async with serve() as http:
        response = await http.post("/graphql", content=json.dumps(TYPENAME), headers=headers)

    bad_request(response, 415)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"{ __typename }", id="graphql-not-json"),
        pytest.param(b'{"query": "{ __typename }"', id="truncated"),
        pytest.param(b"", id="empty"),
        pytest.param(b"\xff\xfe", id="not-utf-8"),
    ],
)
async def test_a_body_that_is_not_json_is_400(serve: Serve, body: bytes) -> None:
    async with serve() as http:
        response = await http.post("/graphql", content=body, headers={"Content-Type": JSON})

    bad_request(response, 400)


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param([TYPENAME, TYPENAME], id="batch"),
        pytest.param([], id="empty-array"),
        pytest.param("{ __typename }", id="a-string"),
        pytest.param(42, id="a-number"),
        pytest.param(None, id="null"),
        pytest.param({}, id="no-query"),
        pytest.param({"variables": {}}, id="only-variables"),
        pytest.param({"query": None}, id="query-null"),
        pytest.param({"query": 1}, id="query-a-number"),
        pytest.param({"query": ["{ __typename }"]}, id="query-a-list"),
        pytest.param({"query": "{ __typename }", "variables": []}, id="variables-a-list"),
        pytest.param({"query": "{ __typename }", "variables": "{}"}, id="variables-a-string"),
        pytest.param({"query": "{ __typename }", "extensions": []}, id="extensions-a-list"),
        pytest.param({"query": "{ __typename }", "extensions": "x"}, id="extensions-a-string"),
        pytest.param({"query": "{ __typename }", "operationName": 1}, id="operation-name-a-number"),
        pytest.param(
            {"query": "{ __typename }", "operationName": {}}, id="operation-name-an-object"
        ),
    ],
)
async def test_json_that_is_not_a_graphql_request_is_400(serve: Serve, payload: Any) -> None:
    async with serve() as http:
        response = await http.post(
            "/graphql", content=json.dumps(payload), headers={"Content-Type": JSON}
        )

    bad_request(response, 400)


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
async def test_other_methods_are_405(serve: Serve, method: str) -> None:
    async with serve() as http:
        response = await http.request(method, "/graphql", json=TYPENAME)

    bad_request(response, 405)
    assert response.headers["allow"] == "GET, POST"


# -- body size --------------------------------------------------------------------------------


def _payload_of(size: int) -> bytes:
    """A valid request body of exactly ``size`` bytes (padded inside the document)."""
    empty = json.dumps({"query": "{ __typename }"}).encode()
    padding = size - len(empty)
    assert padding >= 0
    return json.dumps({"query": "{ __typename }" + " " * padding}).encode()


async def test_a_body_at_the_limit_is_read_and_one_byte_more_is_413(serve: Serve) -> None:
    headers = {"Content-Type": JSON}
    async with serve(max_body_bytes=200) as http:
        at_limit = await http.post("/graphql", content=_payload_of(200), headers=headers)
        over = await http.post("/graphql", content=_payload_of(201), headers=headers)

    assert (at_limit.status_code, at_limit.json()) == (200, {"data": {"__typename": "Query"}})
    bad_request(over, 413)


async def test_a_streamed_body_without_content_length_over_the_limit_is_413(serve: Serve) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b" " * 50

    async with serve(max_body_bytes=200) as http:
        response = await http.post("/graphql", content=chunks(), headers={"Content-Type": JSON})

    assert "content-length" not in response.request.headers
    bad_request(response, 413)


async def test_the_default_limit_is_one_mebibyte(serve: Serve) -> None:
    headers = {"Content-Type": JSON}
    async with serve() as http:
        at_limit = await http.post("/graphql", content=_payload_of(1024 * 1024), headers=headers)
        over = await http.post("/graphql", content=_payload_of(1024 * 1024 + 1), headers=headers)

    assert (at_limit.status_code, at_limit.json()) == (200, {"data": {"__typename": "Query"}})
    bad_request(over, 413)


# -- content negotiation and status codes -----------------------------------------------------

REQUEST_ERRORS = [
    pytest.param({"query": "{ __typename "}, "GRAPHQL_PARSE_FAILED", id="parse"),
    pytest.param({"query": "{ nope }"}, "GRAPHQL_VALIDATION_FAILED", id="validation"),
    pytest.param(
        {"query": "query($b: Boolean!) { __typename @include(if: $b) }", "variables": {"b": 1}},
        "BAD_USER_INPUT",
        id="variable-coercion",
    ),
    pytest.param(
        {"query": "{ " + "__typename " * 5001 + "}"}, "QUERY_TOO_COMPLEX", id="token-limit"
    ),
]


@pytest.mark.parametrize(("payload", "code"), REQUEST_ERRORS)
async def test_request_errors_are_400_with_graphql_response_json(
    serve: Serve, payload: dict[str, Any], code: str
) -> None:
    async with serve() as http:
        response = await http.post("/graphql", json=payload, headers={"Accept": GRAPHQL_RESPONSE})

    assert response.status_code == 400
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    body = response.json()
    assert list(body) == ["errors"]
    assert [error["extensions"]["code"] for error in body["errors"]] == [code]


@pytest.mark.parametrize("accept", [None, "*/*", JSON, "application/*", "text/html, */*;q=0.8"])
@pytest.mark.parametrize(("payload", "code"), REQUEST_ERRORS)
async def test_request_errors_are_200_with_json(
    serve: Serve, payload: dict[str, Any], code: str, accept: str | None
) -> None:
    headers = {"Accept": accept} if accept is not None else {}

    async with serve() as http:
        request = http.build_request("POST", "/graphql", json=payload, headers=headers)
        if accept is None:
            del request.headers["accept"]  # httpx sends */* by default
        response = await http.send(request)

    assert response.status_code == 200
    assert response.headers["content-type"] == JSON
    body = response.json()
    assert list(body) == ["errors"]
    assert [error["extensions"]["code"] for error in body["errors"]] == [code]


async def test_field_errors_with_data_are_200_with_graphql_response_json(
    client: httpx.AsyncClient, blog: Dataset
) -> None:
    response = await client.post(
        "/graphql",
        json={"query": '{ user(id: "VXNlcjo5OTk5") { name } roles { totalCount } }'},
        headers={"Accept": GRAPHQL_RESPONSE},
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    body = response.json()
    assert body["data"] == {"user": None, "roles": {"totalCount": 3}}
    assert [error["extensions"]["code"] for error in body["errors"]] == ["NOT_FOUND"]


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        pytest.param(GRAPHQL_RESPONSE, GRAPHQL_RESPONSE, id="graphql-response"),
        pytest.param(f"{GRAPHQL_RESPONSE}, {JSON};q=0.9", GRAPHQL_RESPONSE, id="prefers-new"),
        pytest.param(f"{JSON}, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE, id="both-equal"),
        pytest.param(f"{JSON}, {GRAPHQL_RESPONSE};q=0.5", JSON, id="prefers-json"),
        pytest.param(f"{GRAPHQL_RESPONSE};q=0, */*", JSON, id="refuses-new"),
        pytest.param(JSON, JSON, id="json"),
        pytest.param("*/*", JSON, id="anything"),
    ],
)
async def test_accept_picks_the_response_type(serve: Serve, accept: str, media_type: str) -> None:
    async with serve() as http:
        response = await http.post("/graphql", json=TYPENAME, headers={"Accept": accept})

    assert response.status_code == 200
    assert response.headers["content-type"] == media_type


# -- operations -------------------------------------------------------------------------------

TWO_OPERATIONS = "query A { a: __typename } query B { b: __typename }"


@pytest.mark.parametrize(
    ("operation_name", "data"),
    [pytest.param("A", {"a": "Query"}, id="A"), pytest.param("B", {"b": "Query"}, id="B")],
)
async def test_operation_name_picks_the_operation(
    serve: Serve, operation_name: str, data: dict[str, str]
) -> None:
    async with serve() as http:
        response = await http.post(
            "/graphql", json={"query": TWO_OPERATIONS, "operationName": operation_name}
        )

    assert response.json() == {"data": data}


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({"query": TWO_OPERATIONS}, id="several-operations-without-a-name"),
        pytest.param({"query": TWO_OPERATIONS, "operationName": "C"}, id="unknown-name"),
        pytest.param({"query": "{ __typename }", "operationName": "A"}, id="name-of-anonymous"),
    ],
)
@pytest.mark.parametrize(("accept", "status"), [(JSON, 200), (GRAPHQL_RESPONSE, 400)])
async def test_an_operation_that_cannot_be_chosen_is_a_request_error(
    serve: Serve, payload: dict[str, Any], accept: str, status: int
) -> None:
    async with serve() as http:
        response = await http.post("/graphql", json=payload, headers={"Accept": accept})

    assert response.status_code == status
    body = response.json()
    assert list(body) == ["errors"]
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_REQUEST"}
    assert error["message"]


# -- GraphiQL and introspection ---------------------------------------------------------------

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


async def test_a_browser_get_without_a_query_serves_graphiql(serve: Serve) -> None:
    async with serve() as http:
        response = await http.get("/graphql", headers=BROWSER)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()


async def test_a_get_without_a_query_from_a_program_is_400(serve: Serve) -> None:
    async with serve() as http:
        response = await http.get("/graphql", headers={"Accept": JSON})

    bad_request(response, 400)


async def test_without_graphiql_a_browser_get_is_400(serve: Serve) -> None:
    async with serve(graphiql=False) as http:
        response = await http.get("/graphql", headers=BROWSER)
        query = await http.get("/graphql", params=TYPENAME, headers=BROWSER)

    bad_request(response, 400)
    assert (query.status_code, query.json()) == (200, {"data": {"__typename": "Query"}})


INTROSPECTION = [
    pytest.param("{ __schema { queryType { name } } }", id="schema"),
    pytest.param('{ __type(name: "User") { name } }', id="type"),
    pytest.param('{ users { nodes { id } } __type(name: "User") { name } }', id="beside-fields"),
]


@pytest.mark.parametrize("query", INTROSPECTION)
async def test_without_introspection_schema_and_type_fail_validation(
    serve: Serve, query: str
) -> None:
    async with serve(introspection=False) as http:
        response = await http.post("/graphql", json={"query": query})

    body = response.json()
    assert list(body) == ["errors"]
    assert body["errors"]
    for error in body["errors"]:
        assert error["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}
        assert "introspection" in error["message"].lower()


async def test_without_introspection_typename_still_works(serve: Serve) -> None:
    async with serve(introspection=False) as http:
        response = await http.post("/graphql", json=TYPENAME)

    assert response.json() == {"data": {"__typename": "Query"}}


async def test_introspection_is_on_by_default(serve: Serve) -> None:
    async with serve() as http:
        response = await http.post(
            "/graphql",
            json={"query": '{ __schema { queryType { name } } __type(name: "User") { name } }'},
        )

    assert response.json() == {
        "data": {"__schema": {"queryType": {"name": "Query"}}, "__type": {"name": "User"}}
    }


# -- X-Request-ID -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "request_id",
    ["abc-123", "0f8fad5b-d9cb-469f-a165-70867728950e", "trace.1_A", "x" * 64],
)
async def test_a_sane_request_id_is_echoed(serve: Serve, request_id: str) -> None:
    async with serve() as http:
        ok = await http.post("/graphql", json=TYPENAME, headers={"X-Request-ID": request_id})
        refused = await http.put("/graphql", json=TYPENAME, headers={"X-Request-ID": request_id})

    assert ok.headers["x-request-id"] == request_id
    assert refused.headers["x-request-id"] == request_id


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="none"),
        pytest.param({"X-Request-ID": ""}, id="empty"),
        pytest.param({"X-Request-ID": "x" * 65}, id="too-long"),
        pytest.param({"X-Request-ID": "a b"}, id="space"),
        pytest.param({"X-Request-ID": "<script>"}, id="markup"),
    ],
)
async def test_a_request_id_is_generated_otherwise(serve: Serve, headers: dict[str, str]) -> None:
    async with serve() as http:
        first = await http.post("/graphql", json=TYPENAME, headers=headers)
        second = await http.post("/graphql", json=TYPENAME, headers=headers)

    generated = [first.headers["x-request-id"], second.headers["x-request-id"]]
    assert all(re.fullmatch(r"[0-9a-f]{32}", value) for value in generated)
    assert generated[0] != generated[1]


# -- /health ----------------------------------------------------------------------------------


async def test_health_is_ok_when_the_database_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_health_is_503_promptly_when_the_database_does_not_answer(serve: Serve) -> None:
    async with serve(database_url="postgresql+asyncpg://postgres@127.0.0.1:1/x") as http:
        started = time.perf_counter()
        response = await asyncio.wait_for(http.get("/health"), timeout=10)
        elapsed = time.perf_counter() - started

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}
    assert elapsed < 3
