"""CORS for browser clients on other origins (contract section 4): ``CORS_ORIGINS``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.types import Message

from server.app import create_app
from server.settings import Settings, SettingsError
from tests.api import insert_dataset

Serve = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]  # the `serve` fixture

ALLOWED = "https://app.example"
OTHER = "https://b.example"
STRANGER = "https://evil.example"
TYPENAME = {"query": "{ __typename }"}


def preflight(origin: str, method: str = "POST") -> dict[str, str]:
    """The headers of a browser's preflight for a POST with a bearer token and JSON."""
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization,content-type,accept",
    }


def cors_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


def listed(value: str) -> set[str]:
    return {item.strip().lower() for item in value.split(",")}


# -- settings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(
            "https://a.example, https://b.example",
            ("https://a.example", "https://b.example"),
            id="two-trimmed",
        ),
        pytest.param(" http://localhost:5173 ,", ("http://localhost:5173",), id="port-and-comma"),
        pytest.param("*", ("*",), id="any"),
        pytest.param("", (), id="empty"),
        pytest.param(" , ", (), id="only-commas"),
    ],
)
def test_cors_origins_are_read_as_a_comma_separated_list(
    raw: str, expected: tuple[str, ...]
) -> None:
    assert Settings.from_env({"CORS_ORIGINS": raw}).cors_origins == expected


def test_cors_origins_are_unset_by_default() -> None:
    assert Settings.from_env({}).cors_origins == ()


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("https://a.example/", id="trailing-slash"),
        pytest.param("https://a.example/app", id="path"),
        pytest.param("a.example", id="no-scheme"),
        pytest.param("*, https://a.example", id="any-and-more"),
    ],
)
def test_an_origin_no_browser_sends_is_refused(raw: str) -> None:
    with pytest.raises(SettingsError) as excinfo:
        Settings.from_env({"CORS_ORIGINS": raw})
    assert str(excinfo.value) == f"CORS_ORIGINS={raw!r} is not a valid value"


# -- preflight --------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_a_preflight_from_an_allowed_origin_is_204_with_the_allowed_headers(
    serve: Serve, method: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="server.request"):
        async with serve(cors_origins=(ALLOWED, OTHER)) as http:
            response = await http.options("/graphql", headers=preflight(OTHER, method))

    assert response.status_code == 204
    assert response.content == b""
    assert "content-type" not in response.headers
    assert "content-length" not in response.headers
    headers = cors_headers(response)
    assert headers["access-control-allow-origin"] == OTHER
    assert listed(headers["access-control-allow-methods"]) == {"get", "post"}
    assert {"authorization", "content-type", "accept"} <= listed(
        headers["access-control-allow-headers"]
    )
    assert "access-control-allow-credentials" not in headers
    assert "origin" in listed(response.headers["vary"])
    # The request log is outside CORS: the preflight is logged and carries its id.
    [line] = [r for r in caplog.records if r.name == "server.request"]
    assert (line.method, line.path, line.status) == ("OPTIONS", "/graphql", 204)  # type: ignore[attr-defined]
    assert response.headers["x-request-id"] == line.request_id  # type: ignore[attr-defined]


async def test_a_preflight_from_another_origin_gets_no_allow_origin(serve: Serve) -> None:
    async with serve(cors_origins=(ALLOWED,)) as http:
        response = await http.options("/graphql", headers=preflight(STRANGER))

    assert response.status_code == 400  # Starlette's refusal; the browser blocks the request
    assert "access-control-allow-origin" not in response.headers


async def test_a_preflight_for_a_method_or_header_not_allowed_is_refused(serve: Serve) -> None:
    async with serve(cors_origins=(ALLOWED,)) as http:
        put = await http.options("/graphql", headers=preflight(ALLOWED, "PUT"))
        header = await http.options(
            "/graphql", headers={**preflight(ALLOWED), "Access-Control-Request-Headers": "x-other"}
        )

    assert (put.status_code, header.status_code) == (400, 400)


# -- actual requests --------------------------------------------------------------------------


async def test_a_post_from_an_allowed_origin_names_it_and_varies_on_origin(serve: Serve) -> None:
    async with serve(cors_origins=(ALLOWED, OTHER)) as http:
        response = await http.post("/graphql", json=TYPENAME, headers={"Origin": ALLOWED})

    assert (response.status_code, response.json()) == (200, {"data": {"__typename": "Query"}})
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert "origin" in listed(response.headers["vary"])
    assert response.headers["access-control-expose-headers"] == "X-Request-ID"
    assert "access-control-allow-credentials" not in response.headers
    assert response.headers["x-request-id"]


async def test_a_post_from_another_origin_gets_no_allow_origin(serve: Serve) -> None:
    async with serve(cors_origins=(ALLOWED,)) as http:
        response = await http.post("/graphql", json=TYPENAME, headers={"Origin": STRANGER})

    # Answered as without CORS (the browser, not the server, withholds it from the page).
    assert (response.status_code, response.json()) == (200, {"data": {"__typename": "Query"}})
    assert "access-control-allow-origin" not in response.headers


async def test_a_get_query_from_an_allowed_origin_names_it(serve: Serve) -> None:
    async with serve(cors_origins=(ALLOWED,)) as http:
        response = await http.get(
            "/graphql", params={"query": "{ __typename }"}, headers={"Origin": ALLOWED}
        )

    assert (response.status_code, response.json()) == (200, {"data": {"__typename": "Query"}})
    assert response.headers["access-control-allow-origin"] == ALLOWED


async def test_health_answers_as_before_with_the_cors_headers(serve: Serve) -> None:
    async with serve(cors_origins=(ALLOWED,)) as http:
        response = await http.get("/health", headers={"Origin": ALLOWED})
        without_origin = await http.get("/health")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert (without_origin.status_code, without_origin.json()) == (200, {"status": "ok"})
    assert cors_headers(without_origin) == {}


# -- any origin -------------------------------------------------------------------------------


async def test_any_origin_is_allowed_with_a_star_and_no_credentials(serve: Serve) -> None:
    async with serve(cors_origins=("*",)) as http:
        answer = await http.options("/graphql", headers=preflight(STRANGER))
        response = await http.post(
            "/graphql",
            json=TYPENAME,
            headers={"Origin": STRANGER, "Authorization": "Bearer not-a-cookie"},
        )

    assert answer.status_code == 204
    assert answer.headers["access-control-allow-origin"] == "*"
    assert "authorization" in listed(answer.headers["access-control-allow-headers"])
    assert "access-control-allow-credentials" not in answer.headers
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers


# -- unset ------------------------------------------------------------------------------------


async def test_without_cors_origins_there_are_no_cors_headers_and_options_is_405(
    serve: Serve,
) -> None:
    async with serve() as http:
        answer = await http.options("/graphql", headers=preflight(ALLOWED))
        response = await http.post("/graphql", json=TYPENAME, headers={"Origin": ALLOWED})

    # As before CORS existed: /graphql answers OPTIONS like any method but GET and POST.
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET, POST"
    assert answer.json()["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}
    assert cors_headers(answer) == {}
    assert (response.status_code, response.json()) == (200, {"data": {"__typename": "Query"}})
    assert cors_headers(response) == {}
    assert "vary" not in response.headers


def test_without_cors_origins_no_cors_middleware_is_installed(tmp_path: Path) -> None:
    application = create_app(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"))
    assert [m.cls.__name__ for m in application.user_middleware] == ["RequestLogMiddleware"]  # type: ignore[attr-defined]


# -- settings read at startup (``server.app:app``) --------------------------------------------


@asynccontextmanager
async def started_like_uvicorn(application: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """Start ``application`` through its ASGI lifespan messages, as a server does.

    Unlike ``router.lifespan_context``, this goes through ``Starlette.__call__``,
    which builds the middleware before the lifespan reads the settings.
    """
    inbox: asyncio.Queue[Message] = asyncio.Queue()
    outbox: asyncio.Queue[Message] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    task = asyncio.ensure_future(application(scope, inbox.get, outbox.put))
    await inbox.put({"type": "lifespan.startup"})
    assert (await outbox.get())["type"] == "lifespan.startup.complete"
    try:
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        assert (await outbox.get())["type"] == "lifespan.shutdown.complete"
        await task


@pytest.mark.parametrize("origins", [ALLOWED, None])
async def test_cors_origins_are_read_from_the_environment_at_startup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, origins: str | None
) -> None:
    application = create_app()  # reads nothing yet, as ``server.app:app``
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    if origins is None:
        monkeypatch.delenv("CORS_ORIGINS", raising=False)
    else:
        monkeypatch.setenv("CORS_ORIGINS", origins)

    async with started_like_uvicorn(application) as http:
        answer = await http.options("/graphql", headers=preflight(ALLOWED))
        response = await http.post("/graphql", json=TYPENAME, headers={"Origin": ALLOWED})

    assert response.json() == {"data": {"__typename": "Query"}}
    assert response.headers["x-request-id"]
    if origins is None:
        assert answer.status_code == 405
        assert (cors_headers(answer), cors_headers(response)) == ({}, {})
    else:
        assert answer.status_code == 204
        assert answer.headers["access-control-allow-origin"] == ALLOWED
        assert response.headers["access-control-allow-origin"] == ALLOWED


# -- GraphQL over the database, with CORS on ---------------------------------------------------


async def test_graphql_over_the_database_works_with_cors_on(
    database_url: str, committed_engine: AsyncEngine
) -> None:
    await insert_dataset(
        committed_engine, users=[{"key": "ada", "name": "Ada Lovelace", "email": "ada@example.com"}]
    )
    application = create_app(Settings(database_url=database_url, cors_origins=(ALLOWED,)))
    query = "{ users { totalCount nodes { name } } }"
    expected = {"data": {"users": {"totalCount": 1, "nodes": [{"name": "Ada Lovelace"}]}}}

    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            answer = await http.options("/graphql", headers=preflight(ALLOWED))
            post = await http.post("/graphql", json={"query": query}, headers={"Origin": ALLOWED})
            get = await http.get(
                "/graphql",
                params={"query": query},
                headers={"Origin": ALLOWED, "Accept": "application/graphql-response+json"},
            )
            health = await http.get("/health", headers={"Origin": ALLOWED})

    assert answer.status_code == 204
    assert (post.status_code, post.json()) == (200, expected)
    assert (get.status_code, get.json()) == (200, expected)
    assert get.headers["content-type"] == "application/graphql-response+json"
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    for response in (answer, post, get, health):
        assert response.headers["access-control-allow-origin"] == ALLOWED
