"""SQL statements per request, counted in-process on the app's own engine.

The app is built with ``create_app(Settings(...))`` from the settings the
benchmark gives the real server, started through its
lifespan and called over ``httpx.ASGITransport``; a ``before_cursor_execute``
listener on its engine counts every statement except transaction control.
Each workload runs twice and the second (warm) request is the one counted.

Signed in, the app first answers the admin's ``login`` (not counted) and each
workload is sent with its ``Authorization`` header, so the count includes the
statement that resolves the viewer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import httpx
import orjson

from bench.viewers import Credentials, Viewer, parse_login

TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "END")
TIMEOUT = 120.0


Requests = Mapping[Viewer, Mapping[str, bytes]]
"""Each viewer's bodies by workload name."""


async def _count(
    environment: Mapping[str, str], requests: Requests, admin: Credentials | None
) -> dict[tuple[Viewer, str], int]:
    from sqlalchemy import event
    from sqlalchemy.ext.asyncio import AsyncEngine

    from server.app import create_app
    from server.settings import Settings

    app = create_app(Settings.from_env(environment))
    counts: dict[tuple[Viewer, str], int] = {}
    seen = [0]

    def on_statement(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if not statement.lstrip().upper().startswith(TRANSACTION_CONTROL):
            seen[0] += 1

    async with app.router.lifespan_context(app):
        engine = await app.state.container.get(AsyncEngine)
        event.listen(engine.sync_engine, "before_cursor_execute", on_statement)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            for viewer, bodies in requests.items():
                headers = {"Content-Type": "application/json"}
                if viewer == "admin" and bodies:
                    if admin is None:
                        raise ValueError("counting signed in needs the admin's credentials")
                    login = await client.post(
                        "/graphql", content=admin.login_body(), headers=headers
                    )
                    headers |= parse_login(login.status_code, login.content).header
                for name, body in bodies.items():
                    for _ in range(2):
                        seen[0] = 0
                        response = await client.post("/graphql", content=body, headers=headers)
                        payload = orjson.loads(response.content)
                        if response.status_code != 200 or "errors" in payload:
                            raise RuntimeError(
                                f"{name} ({viewer}) failed in-process: {response.text[:500]}"
                            )
                    counts[viewer, name] = seen[0]
        event.remove(engine.sync_engine, "before_cursor_execute", on_statement)
    return counts


def count(
    environment: Mapping[str, str], requests: Requests, admin: Credentials | None = None
) -> dict[tuple[Viewer, str], int]:
    """Statements per request of each viewer's named bodies, with the server's ``environment``."""

    async def bounded() -> dict[tuple[Viewer, str], int]:
        return await asyncio.wait_for(_count(environment, requests, admin), timeout=TIMEOUT)

    return asyncio.run(bounded())
