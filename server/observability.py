"""One structured log line per request, and the request id in ``X-Request-ID``.

The line carries the request id, method, path, status, duration, the number
of SQL statements the request ran, and for GraphQL the operation name, which
path answered it (``answered_by``) and the error codes it answered with. The
statement count comes from an engine event and a context variable, so
concurrent requests never mix their counts. With ``METRICS=true`` the same
record feeds the Prometheus metrics (``server.metrics``).
"""

from __future__ import annotations

import json
import logging
import random
import re
import sys
import time
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from server.metrics import Metrics

logger = logging.getLogger("server.request")

_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_COUNTED = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")

#: Which path answered a GraphQL operation: the fast path, the resolvers, or the
#: resolvers after the fast path declined a planned operation at run time.
AnsweredBy = Literal["fast", "resolvers", "fallback"]


@dataclass(slots=True)
class RequestInfo:
    """What is known of the request being served, filled in as it runs."""

    request_id: str
    statements: int = 0
    operation: str | None = None
    operation_type: str | None = None
    answered_by: AnsweredBy | None = None
    error_codes: list[str] = field(default_factory=list)


current_request: ContextVar[RequestInfo | None] = ContextVar("current_request", default=None)


def new_request_id() -> str:
    """32 random hex digits, like a UUID4's: unique, not secret.

    ``random`` (seeded from the OS per process) rather than ``uuid4()``,
    whose ``os.urandom`` call showed as 3% of a small request's time.
    """
    return f"{random.getrandbits(128):032x}"


def request_id() -> str:
    info = current_request.get()
    return info.request_id if info is not None else new_request_id()


def record_operation(name: str | None, operation_type: str | None = None) -> None:
    info = current_request.get()
    if info is not None:
        info.operation = name
        info.operation_type = operation_type


def record_answer(answered_by: AnsweredBy) -> None:
    """Which path answered; ``resolvers`` keeps an earlier ``fallback`` (it says more)."""
    info = current_request.get()
    if info is not None and not (answered_by == "resolvers" and info.answered_by == "fallback"):
        info.answered_by = answered_by


def record_errors(errors: Iterable[dict[str, Any]]) -> None:
    info = current_request.get()
    if info is not None:
        info.error_codes.extend(str(e.get("extensions", {}).get("code")) for e in errors)


def count_statements(engine: AsyncEngine) -> None:
    """Count, per request, the statements ``engine`` runs (transaction control excluded)."""

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        info = current_request.get()
        if info is None:
            return  # outside any request (or set aside as not the request's own)
        if statement.lstrip()[:6].upper().startswith(_COUNTED):
            info.statements += 1


class RequestLogMiddleware:
    """Pure ASGI middleware: request id in, ``X-Request-ID`` out, one log line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        info = RequestInfo(given if _SANE_REQUEST_ID.fullmatch(given) else new_request_id())
        token = current_request.set(info)
        metrics: Metrics | None = getattr(scope["app"].state, "metrics", None)
        if metrics is not None:
            metrics.sample_pool()
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = info.request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            current_request.reset(token)
            duration = time.perf_counter() - started
            if metrics is not None:
                metrics.observe(info, duration)
            logger.info(
                "request",
                extra={
                    "request_id": info.request_id,
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round(duration * 1000, 2),
                    "statements": info.statements,
                    "operation": info.operation,
                    "answered_by": info.answered_by,
                    "error_codes": info.error_codes,
                },
            )


_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JSONFormatter(logging.Formatter):
    """Log records as one JSON object per line, extra fields included."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        payload.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


#: Loggers that write statements with their values at DEBUG: a password hash, a token's.
_QUOTE_VALUES = ("aiosqlite",)


def configure_logging(level: str = "info") -> None:
    """JSON lines on stderr for the server's loggers, unless logging is already set up.

    The drivers' DEBUG lines stay off whatever the level: they quote values.
    """
    for name in _QUOTE_VALUES:
        logging.getLogger(name).setLevel(logging.INFO)
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JSONFormatter())
    root.addHandler(handler)
    root.setLevel(level.upper())
