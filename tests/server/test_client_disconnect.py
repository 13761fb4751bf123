"""A client that leaves before its request body is read is no server error.

Found by ``python -m bench.soak`` under overload: a client gave up (its
timeout) while its request waited, and the server logged the disconnect as an
unexpected error with a traceback and INTERNAL_SERVER_ERROR.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from starlette.types import Message

from server.app import create_app
from server.settings import Settings

BODY = b'{"query": "{ __typename }"}'


async def test_a_client_gone_before_its_body_is_read_is_logged_as_such(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    application = create_app(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"))
    incoming: list[Message] = [
        {"type": "http.request", "body": BODY[:10], "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(BODY)).encode()),
            (b"x-request-id", b"gone-early"),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    with caplog.at_level(logging.INFO):
        async with application.router.lifespan_context(application):
            await application(scope, receive, send)

    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    (line,) = [r for r in caplog.records if r.name == "server.request"]
    logged = vars(line)
    assert (logged["request_id"], logged["status"], logged["error_codes"]) == (
        "gone-early",
        499,
        [],
    )
    assert sent[0]["status"] == 499
