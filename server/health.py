"""``GET /health``: 200 when the database answers, 503 when it does not."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse

logger = logging.getLogger(__name__)

HEALTH_TIMEOUT = 2.0

#: Checks given up on, still cleaning up; referenced so they are not collected.
_abandoned: set[asyncio.Task[None]] = set()


async def health(request: Request) -> JSONResponse:
    engine: AsyncEngine = await request.app.state.container.get(AsyncEngine)
    check = asyncio.create_task(_select_one(engine))
    try:
        done, _ = await asyncio.wait({check}, timeout=HEALTH_TIMEOUT)
    finally:
        if not check.done():
            # Cancelled, SQLAlchemy still closes the connection it was using, which
            # waits on a silent server: let that go on without holding the answer.
            check.cancel()
            _abandoned.add(check)
            check.add_done_callback(_forget)
    failure = check.exception() if done else TimeoutError()
    if failure is not None:
        logger.warning("health check failed: %s", type(failure).__name__)
        return JSONResponse({"status": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ok"})


async def _select_one(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


def _forget(task: asyncio.Task[None]) -> None:
    _abandoned.discard(task)
    if not task.cancelled():
        task.exception()  # retrieved: nobody is waiting for it any more
