"""The clients and the run: each client loops over a weighted mix of reads and writes.

``drive`` starts ``--clients`` of them on one HTTP client pool, stops them at
the deadline (or on Ctrl-C) before the pool closes, and returns what was recorded.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import httpx

from bench.soak.reads import Reads
from bench.soak.stats import Recorder
from bench.soak.world import World
from bench.soak.writes import Writes

#: Seconds the clients get, after the deadline and their own timeout, to finish.
GRACE = 15.0
#: Seconds a client keeps an idle connection for reuse: well under uvicorn's keep-alive
#: timeout (5 s), so that the server never closes a connection a request is being sent on.
KEEPALIVE = 2.0


#: The mix: each operation with its weight, reads first (about two thirds of the requests).
MIX: tuple[tuple[Callable[[Client], Awaitable[None]], int], ...] = (
    (Reads.user_by_id, 9),
    (Reads.post_by_id, 9),
    (Reads.comment_by_id, 4),
    (Reads.users_filtered, 5),
    (Reads.posts_filtered, 7),
    (Reads.comments_filtered, 3),
    (Reads.page_forward, 12),
    (Reads.nested, 6),
    (Reads.node, 5),
    (Reads.nodes, 5),
    (Writes.create_user, 3),
    (Writes.update_user, 3),
    (Writes.create_post, 4),
    (Writes.update_post, 3),
    (Writes.delete_or_restore_post, 4),
    (Writes.create_comment, 7),
    (Writes.delete_comment, 4),
    (Writes.assign_role, 4),
    (Writes.revoke_role, 3),
)
OPERATIONS = [operation for operation, _ in MIX]
WEIGHTS = [weight for _, weight in MIX]


class Client(Reads, Writes):
    """One user of the API: a loop of weighted operations until the deadline."""

    async def run(self, deadline: float) -> None:
        loop = asyncio.get_running_loop()
        while loop.time() < deadline and not self.world.stopping:
            operation = self.rng.choices(OPERATIONS, WEIGHTS)[0]
            await operation(self)


async def drive(
    base_url: str, world: World, clients: int, duration: float, timeout: float, seed: int
) -> tuple[Recorder, float]:
    """Run the clients until the deadline; the recorder and the seconds the run took."""
    recorder = Recorder()
    limits = httpx.Limits(
        max_connections=clients, max_keepalive_connections=clients, keepalive_expiry=KEEPALIVE
    )
    async with httpx.AsyncClient(
        base_url=base_url, timeout=httpx.Timeout(timeout), limits=limits, trust_env=False
    ) as http:
        loop = asyncio.get_running_loop()
        started = loop.time()
        world.started = time.monotonic()
        deadline = started + duration
        users = [Client(index, http, world, recorder, timeout, seed) for index in range(clients)]
        tasks = [asyncio.create_task(user.run(deadline)) for user in users]
        pending: set[asyncio.Task[None]] = set()
        try:
            _, pending = await asyncio.wait(tasks, timeout=duration + timeout + GRACE)
        finally:
            # Also on Ctrl-C: every client stops before the HTTP client closes. The flag
            # too, as Python 3.11's wait_for can swallow a cancellation.
            world.stopping = True
            for task in tasks:
                task.cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
        elapsed = loop.time() - started
        if pending:
            raise RuntimeError(f"{len(pending)} client(s) did not finish in time")
        for result in results:
            if isinstance(result, Exception):
                raise result  # a bug in a client: let it show
    return recorder, elapsed
