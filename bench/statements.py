"""SQL statements per request, counted in-process on the app's own engine.

The app is built with ``create_app(Settings(...))`` from the settings the
benchmark gives the real server, started through its
lifespan and called over ``httpx.ASGITransport``; a ``before_cursor_execute``
listener on its engine counts every statement except transaction control.
Each workload runs twice and the second (warm) request is the one counted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import httpx
import orjson

TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "END")
TIMEOUT = 120.0


async def _count(environment: Mapping[str, str], bodies: Mapping[str, bytes]) -> dict[str, int]:
    from sqlalchemy import event
    from sqlalchemy.ext.asyncio import AsyncEngine

    from server.app import create_app
    from server.settings import Settings

    app = create_app(Settings.from_env(environment))
    counts: dict[str, int] = {}
    seen = [0]

    def on_statement(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if not statement.lstrip().upper().startswith(TRANSACTION_CONTROL):
            seen[0] += 1

    async with app.router.lifespan_context(app):
        engine = await app.state.container.get(AsyncEngine)
        event.listen(engine.sync_engine, "before_cursor_execute", on_statement)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            for name, body in bodies.items():
                for _ in range(2):
                    seen[0] = 0
                    response = await client.post(
                        "/graphql", content=body, headers={"Content-Type": "application/json"}
                    )
                    payload = orjson.loads(response.content)
                    if response.status_code != 200 or "errors" in payload:
                        raise RuntimeError(f"{name} failed in-process: {response.text[:500]}")
                counts[name] = seen[0]
        event.remove(engine.sync_engine, "before_cursor_execute", on_statement)
    return counts


def count(environment: Mapping[str, str], bodies: Mapping[str, bytes]) -> dict[str, int]:
    """Statements per request of each named body, with the server's ``environment``."""

    async def bounded() -> dict[str, int]:
        return await asyncio.wait_for(_count(environment, bodies), timeout=TIMEOUT)

    return asyncio.run(bounded())
