"""GraphiQL's page and files over HTTP (``server.graphiql``); test_graphiql_browser drives it."""

from __future__ import annotations

import gzip
import re
import subprocess
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest

from server import graphiql
from server.settings import Settings
from tests.server.test_graphql_http import BROWSER, JSON, TYPENAME, bad_request

Serve = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]  # the `serve` fixture

ROOT = Path(__file__).resolve().parents[2]
PAGE_URL = "http://test/graphql"


def linked(page: str) -> list[str]:
    """The paths of the files the page loads (``href`` and ``src``), resolved as a browser does."""
    urls = re.findall(r'(?:href|src)="([^"]*)"', page)
    return [httpx.URL(urljoin(PAGE_URL, url)).path for url in urls if url != "data:,"]


def shipped(name: str) -> Path:
    """The page's own file ``name``, or else the fetched one."""
    own = ROOT / "server/graphiql/assets" / name
    return own if own.is_file() else ROOT / "server/graphiql/vendor" / name


def directives(policy: str) -> dict[str, list[str]]:
    return {
        name: values
        for name, *values in (part.split() for part in policy.split(";") if part.strip())
    }


async def test_the_page_has_the_projects_title_and_loads_nothing_inline(serve: Serve) -> None:
    async with serve() as http:
        response = await http.get("/graphql", headers=BROWSER)

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = response.text
    assert "<title>Fast Track GraphQL</title>" in page
    assert "Strawberry" not in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page), "an inline script"
    assert "<style" not in page
    assert not re.search(r"\sstyle=", page), "an inline style attribute"
    assert not re.search(r"\son[a-z]+=", page), "an inline event handler"
    assert "//" not in "".join(re.findall(r'(?:href|src)="([^"]*)"', page)), "another host"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_the_page_has_a_strict_content_security_policy(serve: Serve) -> None:
    async with serve() as http:
        first = await http.get("/graphql", headers=BROWSER)
        second = await http.get("/graphql", headers=BROWSER)

    policy = directives(first.headers["content-security-policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["connect-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'self'"]
    assert policy["img-src"] == policy["font-src"] == ["'self'", "data:"]
    [self_, nonce] = policy["style-src"]
    assert self_ == "'self'"
    assert re.fullmatch(r"'nonce-[A-Za-z0-9_-]{24}'", nonce)
    assert f'data-style-nonce="{nonce[7:-1]}"' in first.text
    assert nonce not in second.headers["content-security-policy"], "a nonce is used once"
    everything = " ".join(value for values in policy.values() for value in values)
    assert "unsafe" not in everything
    assert "*" not in everything


async def test_every_file_the_page_loads_is_served_for_a_year(serve: Serve) -> None:
    async with serve() as http:
        page = (await http.get("/graphql", headers=BROWSER)).text
        paths = linked(page)
        assert len(paths) == len(graphiql.STYLES) + len(graphiql.SCRIPTS)
        for path in paths:
            plain = await http.get(path, headers={"Accept-Encoding": "identity"})
            zipped = await http.get(path, headers={"Accept-Encoding": "gzip, br"})

            name = path.rsplit("/", 1)[1]
            assert plain.status_code == 200, path
            assert plain.content == shipped(name).read_bytes()
            assert "content-encoding" not in plain.headers
            assert zipped.headers["content-encoding"] == "gzip"
            assert zipped.content == plain.content  # httpx decodes it
            for response in (plain, zipped):
                assert response.headers["cache-control"] == graphiql.IMMUTABLE
                assert response.headers["x-content-type-options"] == "nosniff"
                expected = "text/javascript" if name.endswith(".js") else "text/css"
                assert response.headers["content-type"] == f"{expected}; charset=utf-8"
    assert all(path.startswith(f"/graphiql/{graphiql.load_assets().version}/") for path in paths)


def test_the_gzipped_files_are_the_files() -> None:
    for asset in graphiql.load_assets().files.values():
        assert gzip.decompress(asset.gzipped) == asset.body


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/graphiql/{version}/lock.json", id="unserved-vendor-file"),
        pytest.param("/graphiql/{version}/graphiql.LICENSE", id="license"),
        pytest.param("/graphiql/{version}/__init__.py", id="module"),
        pytest.param("/graphiql/{version}/..%2F__init__.py", id="encoded-dot-dot"),
        pytest.param("/graphiql/{version}/..%2F..%2Fsettings.py", id="encoded-dot-dot-twice"),
        pytest.param("/graphiql/{version}/%2E%2E/__init__.py", id="encoded-dots"),
        pytest.param("/graphiql/{version}/vendor/graphiql.min.js", id="subdirectory"),
        pytest.param("/graphiql/{version}/", id="directory"),
        pytest.param("/graphiql/0000000000000000/graphiql.min.js", id="another-version"),
        pytest.param("/graphiql/{version}/GRAPHIQL.MIN.JS", id="another-case"),
    ],
)
async def test_nothing_else_is_served(serve: Serve, path: str) -> None:
    async with serve() as http:
        response = await http.get(path.format(version=graphiql.load_assets().version))

    assert response.status_code == 404


async def test_without_graphiql_its_files_are_not_served_either(serve: Serve) -> None:
    async with serve(graphiql=False) as http:
        page = await http.get("/graphql", headers=BROWSER)
        asset = await http.get(f"/graphiql/{graphiql.load_assets().version}/graphiql.min.js")

    bad_request(page, 400)
    assert asset.status_code == 404


# -- Share links ------------------------------------------------------------------------------


async def test_a_browser_opening_a_query_gets_graphiql(serve: Serve) -> None:
    async with serve() as http:
        response = await http.get(
            "/graphql",
            params={**TYPENAME, "variables": '{"a": 1}', "operationName": "A"},
            headers={**BROWSER, "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"},
        )

    assert response.status_code == 200
    assert "<title>Fast Track GraphQL</title>" in response.text
    assert "content-security-policy" in response.headers
    assert "Accept" in response.headers["vary"]


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-accept"),
        pytest.param({"Accept": "*/*"}, id="anything"),
        pytest.param({"Accept": JSON}, id="json"),
        pytest.param({"Accept": f"{JSON}, text/html"}, id="json-as-much-as-html"),
        pytest.param({"Accept": "text/html;q=0.5, */*"}, id="html-less-than-anything"),
        pytest.param({**BROWSER, "Sec-Fetch-Mode": "cors"}, id="a-scripts-fetch"),
        pytest.param({**BROWSER, "Sec-Fetch-Mode": "no-cors"}, id="a-scripts-no-cors-fetch"),
    ],
)
async def test_a_get_with_a_query_from_anything_but_a_browser_page_runs_it(
    serve: Serve, headers: dict[str, str]
) -> None:
    async with serve() as http:
        response = await http.get("/graphql", params=TYPENAME, headers=headers)

    assert (response.status_code, response.json()) == (200, {"data": {"__typename": "Query"}})


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        (BROWSER["Accept"], True),
        ("text/html", True),
        ("TEXT/HTML; q=1, application/json; q=0.9", True),
        ("text/html;q=0.9, application/json", False),
        ("application/graphql-response+json, text/html;q=0.9", False),
        ("text/html;q=0", False),
        ("text/html;q=bad", False),
        ("", False),
        (None, False),
    ],
)
def test_prefers_html(accept: str | None, html: bool) -> None:
    assert graphiql.prefers_html(accept) is html


# -- Settings and content ---------------------------------------------------------------------


async def test_headers_are_persisted_only_when_the_setting_says_so(serve: Serve) -> None:
    async with serve() as http:
        default = (await http.get("/graphql", headers=BROWSER)).text
    async with serve(graphiql_persist_headers=True) as http:
        persisting = (await http.get("/graphql", headers=BROWSER)).text

    assert 'data-persist-headers="false"' in default
    assert 'data-persist-headers="true"' in persisting


def test_graphiql_persist_headers_is_read_from_the_environment() -> None:
    assert Settings.from_env({}).graphiql_persist_headers is False
    assert Settings.from_env({"GRAPHIQL_PERSIST_HEADERS": "true"}).graphiql_persist_headers


def test_the_first_query_is_the_readmes() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## A GraphiQL session\n", 1)[1]
    first = re.search(r"```graphql\n(.*?)```", section, re.DOTALL)
    assert first is not None
    assert first.group(1).startswith("query SomeIds")
    assert first.group(1) in graphiql.DEFAULT_QUERY


def test_the_shipped_files_are_the_ones_fetched_from_the_registry() -> None:
    """``vendor/`` matches ``lock.json`` (the registry's integrity) and the pins."""
    result = subprocess.run(
        [str(ROOT / "script/fetch-graphiql"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
