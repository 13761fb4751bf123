"""GraphiQL in a real browser: Debian's Chromium, driven by Playwright, against ``ftf serve``.

Every request the page makes to a host other than the server is refused and
recorded, so the page must work with nothing but the server (offline, behind
a proxy that blocks CDNs), under its own Content-Security-Policy (violations
are recorded too). Playwright never downloads a browser here: it drives
``/usr/bin/chromium`` (``FTF_TEST_CHROMIUM`` names another). Without it the
tests skip, unless ``FTF_REQUIRE_BROWSER=1``, which makes them fail; as root
on Debian, ``script/test`` installs it (Debian's ``chromium`` package).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from playwright.async_api import Browser, Page, Request, Route, async_playwright, expect

from server import graphiql
from tests.conftest import FTF
from tests.server.processes import Server, StartServer

CHROMIUM = Path(os.environ.get("FTF_TEST_CHROMIUM", "/usr/bin/chromium"))
REQUIRE_BROWSER = os.environ.get("FTF_REQUIRE_BROWSER", "") not in ("", "0", "false")
TIMEOUT_MS = 20_000

#: What the page's init script records: the policy's violations, as the page sees them.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}`);
});
"""
CODEMIRROR_VALUES = """
(selector) => [...document.querySelectorAll(selector)].map((editor) => editor.CodeMirror.getValue())
"""


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    """Headless Chromium from Debian's package (Playwright adds ``--no-sandbox`` as root)."""
    if not os.access(CHROMIUM, os.X_OK):
        reason = (
            f"no Chromium at {CHROMIUM}: `apt-get install chromium` (script/test does as root), "
            "or set FTF_TEST_CHROMIUM"
        )
        if REQUIRE_BROWSER:
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--disable-gpu", "--disable-quic"]
        )
        yield launched
        await launched.close()


@pytest.fixture(scope="module")
def seeded_sqlite(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite file migrated and seeded by ``ftf``, as ``script/server`` does (read only here)."""
    directory = tmp_path_factory.mktemp("graphiql")
    url = f"sqlite+aiosqlite:///{directory / 'graphiql.db'}"
    for command in (
        ("migrate",),
        ("seed", "--users", "3", "--posts-per-user", "2", "--comments-per-post", "1"),
    ):
        result = subprocess.run(
            [str(FTF), *command],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=directory,
            env={**os.environ, "DATABASE_URL": url},
        )
        assert result.returncode == 0, result.stderr
    return url


@dataclass
class Session:
    """A fresh browser context on one server: what left for elsewhere, and what went wrong."""

    server: Server
    page: Page
    foreign: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    async def violations(self) -> list[str]:
        return list(await self.page.evaluate("window.__violations"))

    async def editors(self, selector: str) -> list[str]:
        return list(await self.page.evaluate(CODEMIRROR_VALUES, selector))

    async def result(self) -> str:
        [text] = await self.editors(".result-window .CodeMirror")
        return text

    async def open(self, query: dict[str, str] | None = None) -> dict[str, str]:
        """Load ``/graphql`` (with a share link's parameters); the page's response headers."""
        url = f"{self.server.base_url}/graphql"
        response = await self.page.goto(f"{url}?{urlencode(query)}" if query else url)
        assert response is not None
        assert response.status == 200
        await expect(self.page.get_by_label("Execute query (Ctrl-Enter)")).to_be_visible()
        return await response.all_headers()

    async def send_token(self, token: str) -> str:
        """Type a bearer token into the Headers pane and run; the storage once it has settled.

        GraphiQL stores its tabs half a second after the last edit: a change to the
        Variables pane after the token shows when what the token did is stored.
        """
        page = self.page
        pane = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"
        await page.get_by_text("Headers", exact=True).click()
        await page.locator(pane).click()
        await page.keyboard.type(f'{{"Authorization": "Bearer {token}"}}')
        await page.get_by_text("Variables", exact=True).click()
        await page.locator(pane).click()
        await page.keyboard.type('{"stored": true}')
        await page.keyboard.press("Control+Enter")
        await expect(page.locator(".result-window")).to_contain_text("UNAUTHENTICATED")
        await page.wait_for_function(
            # A function: a string would be eval()'d, which the page's policy forbids.
            "() => (localStorage.getItem('graphiql:tabState') || '').includes('stored')"
        )
        return str(await page.evaluate("JSON.stringify(localStorage)"))

    async def run(self) -> Any:
        """Run the query in the editor (the run button); the result pane, once it shows one."""
        await self.page.get_by_label("Execute query (Ctrl-Enter)").click()
        await expect(self.page.locator(".result-window")).to_contain_text('"')
        return json.loads(await self.result())


StartSession = Callable[..., Awaitable[Session]]


@pytest.fixture
async def session(
    browser: Browser,
    ftf_serve: StartServer,
    seeded_sqlite: str,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[StartSession]:
    """``await session(**env)``: ``ftf serve`` with that environment, and a page of its own."""
    contexts = []

    async def start(**env: str) -> Session:
        with monkeypatch.context() as patch:
            patch.delenv("GRAPHIQL_PERSIST_HEADERS", raising=False)
            for name, value in env.items():
                patch.setenv(name, value)
            server = await ftf_serve(seeded_sqlite)
        context = await browser.new_context()
        contexts.append(context)
        context.set_default_timeout(TIMEOUT_MS)
        await context.add_init_script(RECORD_VIOLATIONS)
        page = await context.new_page()
        opened = Session(server, page)

        async def only_the_server(route: Route, request: Request) -> None:
            if request.url.startswith(f"{server.base_url}/"):
                await route.continue_()
            else:
                opened.foreign.append(request.url)
                await route.abort("blockedbyclient")

        await context.route("**/*", only_the_server)
        page.on("pageerror", lambda exc: opened.errors.append(str(exc)))
        return opened

    yield start
    for context in contexts:
        await context.close()


async def test_graphiql_runs_the_readmes_query_with_nothing_but_the_server(
    session: StartSession,
) -> None:
    opened = await session()
    page = opened.page

    headers = await opened.open()
    policy = headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "unsafe" not in policy
    assert await page.title() == "Fast Track GraphQL"
    [query] = await opened.editors(".graphiql-query-editor .CodeMirror")
    assert query == graphiql.DEFAULT_QUERY  # the README's first query (test_graphiql.py)

    # The schema was introspected: the docs know the root types.
    await page.get_by_label("Show Documentation Explorer").click()
    docs = page.locator(".graphiql-doc-explorer")
    await expect(docs).to_contain_text(re.compile(r"query:\s*Query"))
    await expect(docs).to_contain_text(re.compile(r"mutation:\s*Mutation"))
    await page.get_by_label("Show GraphiQL Explorer").click()
    await expect(page.locator(".graphiql-explorer-root")).to_contain_text("posts")

    # The prefilled query runs, and the result pane shows the API's answer.
    async with httpx.AsyncClient(base_url=opened.server.base_url) as http:
        expected = (await http.post("/graphql", json={"query": query})).json()
    assert expected["data"]["users"]["nodes"], expected
    assert await opened.run() == expected

    # A token in the Headers pane is sent (the server refuses it), and not kept in storage.
    assert "not-a-real-token" not in await opened.send_token("not-a-real-token")

    # A dialog adds GraphiQL's one run-time <style>: the policy's nonce lets it in.
    await page.get_by_label("Open settings dialog").click()
    await expect(page.get_by_role("dialog")).to_be_visible()
    nonced = "() => [...document.querySelectorAll('style')].filter((s) => s.nonce).length"
    assert await page.evaluate(nonced) >= 1
    await page.keyboard.press("Escape")

    assert await opened.violations() == []
    assert opened.foreign == []
    assert opened.errors == []


async def test_a_share_link_opens_graphiql_with_its_query_and_variables(
    session: StartSession,
) -> None:
    opened = await session()
    query = "query Count($first: Int) {\n  users(first: $first) { totalCount }\n}"
    variables = '{"first": 1}'

    await opened.open({"query": query, "variables": variables, "operationName": "Count"})

    [editor] = await opened.editors(".graphiql-query-editor .CodeMirror")
    assert editor == query
    assert variables in await opened.editors(".graphiql-editor-tool .CodeMirror")
    assert await opened.run() == {"data": {"users": {"totalCount": 3}}}
    assert await opened.violations() == []
    assert opened.foreign == []
    assert opened.errors == []


async def test_with_graphiql_persist_headers_the_headers_are_kept(session: StartSession) -> None:
    """The setting's effect, and proof that the default test would see a kept token."""
    opened = await session(GRAPHIQL_PERSIST_HEADERS="true")
    await opened.open()

    assert "kept-token" in await opened.send_token("kept-token")
    assert opened.foreign == []
