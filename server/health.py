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


async def health(request: Request) -> JSONResponse:
    engine: AsyncEngine = await request.app.state.container.get(AsyncEngine)
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as exc:
        logger.warning("health check failed: %s", type(exc).__name__)
        return JSONResponse({"status": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ok"})
