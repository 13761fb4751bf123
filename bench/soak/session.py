"""One client's state and its one request: send, time, classify the answer, record it.

``Reads`` and ``Writes`` build on this; ``Client`` puts them together. Every
request goes through ``Session.call``, so each is timed, bounded by the
client-side timeout and classified the same way.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx

from bench.soak.documents import WORDS, decode_id
from bench.soak.stats import Expect, Recorder, error_kind, is_expected
from bench.soak.world import World


@dataclass(slots=True)
class Reply:
    request_id: str
    answered: bool
    """The server answered 200 with a GraphQL body: the outcome is known."""
    data: dict[str, Any] | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)

    def field(self, name: str) -> Any:
        return (self.data or {}).get(name)


ExpectSource = Expect | Callable[[], Expect]


class Session:
    """One user of the API: who it is, the rows it owns, and how it sends a request."""

    def __init__(
        self,
        index: int,
        http: httpx.AsyncClient,
        world: World,
        recorder: Recorder,
        timeout: float,
        seed: int,
    ) -> None:
        self.index = index
        self.http = http
        self.world = world
        self.recorder = recorder
        self.timeout = timeout
        self.rng = random.Random(seed * 1000 + index)
        self.sequence = 0
        self.owned_users: list[int] = []
        self.live_posts: list[int] = []
        self.deleted_posts: list[int] = []

    async def call(
        self, operation: str, document: str, variables: dict[str, Any], expect: ExpectSource
    ) -> Reply:
        self.sequence += 1
        request_id = f"soak-{self.world.tag}-c{self.index:02d}-{self.sequence}"
        body = {"query": document, "variables": variables, "operationName": operation}
        stats = self.recorder.stats(operation)
        steps: list[str] = []

        async def trace(event: str, _info: dict[str, Any]) -> None:
            steps.append(event)  # httpcore's progress: what a transport error interrupted

        started = time.perf_counter()
        try:
            response = await asyncio.wait_for(
                self.http.post(
                    "/graphql",
                    json=body,
                    headers={"X-Request-ID": request_id},
                    extensions={"trace": trace},
                ),
                self.timeout,
            )
        except (TimeoutError, httpx.TransportError) as exc:
            elapsed = time.perf_counter() - started
            stats.latencies.append(elapsed)
            stats.unexpected_requests += 1
            timeout = isinstance(exc, TimeoutError | httpx.TimeoutException)
            kind = "timeout" if timeout else f"transport {type(exc).__name__}"
            failed = [step for step in steps if step.endswith(".failed")]
            if not steps:
                where = "waiting for a connection (none assigned)"
            else:
                new = any(step.startswith("connection.connect_tcp") for step in steps)
                step = failed[0] if failed else steps[-1]
                where = f"{'a new' if new else 'a reused keep-alive'} connection, at {step}"
            sent = f"{datetime.now() - timedelta(seconds=elapsed):%H:%M:%S.%f}"[:-3]
            detail = f"{type(exc).__name__} {exc} sent at {sent}, after {elapsed:.3f} s, {where}"
            self.recorder.unexpected(operation, request_id, kind, detail)
            return Reply(request_id, answered=False)
        stats.latencies.append(time.perf_counter() - started)
        if response.status_code != 200:
            stats.unexpected_requests += 1
            kind = f"HTTP {response.status_code}"
            self.recorder.unexpected(operation, request_id, kind, response.text)
            return Reply(request_id, answered=False)
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
            stats.unexpected_requests += 1
            self.recorder.unexpected(operation, request_id, "bad response", response.text)
            return Reply(request_id, answered=False)
        self.recorder.answered += 1
        errors = payload.get("errors") or []
        reply = Reply(request_id, True, payload["data"], errors if isinstance(errors, list) else [])
        if reply.errors:
            wanted = expect() if callable(expect) else expect
            kinds_expected: set[str] = set()
            kinds_unexpected: dict[str, str] = {}
            for error in reply.errors:
                _, kind = error_kind(error)
                if is_expected(error, wanted):
                    kinds_expected.add(kind)
                else:
                    kinds_unexpected[kind] = json.dumps(error)
            for kind in kinds_expected:
                stats.expected[kind] += 1
            for kind, detail in kinds_unexpected.items():
                self.recorder.unexpected(operation, request_id, kind, detail)
            if kinds_unexpected:
                stats.unexpected_requests += 1
            else:
                stats.expected_requests += 1
        return reply

    def flag(self, operation: str, reply: Reply, what: str, detail: Any = "") -> None:
        """A client-side check failed on an answer the server gave without error."""
        stats = self.recorder.stats(operation)
        stats.unexpected_requests += 1
        self.recorder.unexpected(operation, reply.request_id, f"check: {what}", str(detail))

    def number(self) -> int:
        self.sequence += 1
        return self.sequence

    def stable_user(self) -> int:
        created = self.world.created_users
        if created and self.rng.random() < 0.2:
            return self.rng.choice(created)
        return self.rng.choice(self.world.ref.users)

    def sentence(self, count: int) -> str:
        words = [self.rng.choice(WORDS) for _ in range(count)]
        return " ".join(words).capitalize() + "."

    def key(self, operation: str, reply: Reply, value: Any, type_name: str) -> int | None:
        decoded = decode_id(value)
        if decoded is None or decoded[0] != type_name:
            self.flag(operation, reply, f"not a {type_name} ID", value)
            return None
        return decoded[1]
