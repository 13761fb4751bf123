"""One SQLite write transaction at a time per engine, queued in the event loop.

SQLite has one writer. Concurrent ``BEGIN IMMEDIATE``\\ s of one process would
otherwise wait in SQLite's busy handler, which polls with growing sleeps (up to
100 ms a try): under load most of a write's time went to sleeping past the
moment the lock was freed. Queued on an ``asyncio.Lock`` instead, the next
writer starts as soon as the last one commits. The busy handler still
arbitrates between processes (``ftf seed`` beside a server), and a writer that
waits here longer than the busy timeout goes on to SQLite's own wait rather
than hanging: a write that needs a second write transaction of its own task
fails (after twice the busy timeout), it does not deadlock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from weakref import WeakKeyDictionary

from sqlalchemy.engine import Engine

#: The busy timeout (seconds) of each SQLite engine ``create_engine`` made.
_BUSY_TIMEOUTS: WeakKeyDictionary[Engine, float] = WeakKeyDictionary()
#: Each engine's queue, per event loop (a lock belongs to the loop it first waits in).
_QUEUES: WeakKeyDictionary[Engine, WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock]] = (
    WeakKeyDictionary()
)


def queue_writers(engine: Engine, busy_timeout: float) -> None:
    """Queue the write transactions of ``engine`` (a file SQLite database's)."""
    _BUSY_TIMEOUTS[engine] = busy_timeout


def is_queued(engine: Engine) -> bool:
    return engine in _BUSY_TIMEOUTS


@asynccontextmanager
async def one_writer(engine: Engine) -> AsyncIterator[None]:
    """The block runs as the engine's only write transaction in this process (SQLite);
    other engines are not queued.

    Enter it holding the connection the block writes with: a writer at the head
    of the queue must never wait for the pool while the writers behind it hold
    its connections.
    """
    timeout = _BUSY_TIMEOUTS.get(engine)
    if timeout is None:
        yield
        return
    loop = asyncio.get_running_loop()
    by_loop = _QUEUES.get(engine)
    if by_loop is None:
        by_loop = _QUEUES[engine] = WeakKeyDictionary()
    lock = by_loop.get(loop)
    if lock is None:
        lock = by_loop[loop] = asyncio.Lock()
    try:
        async with asyncio.timeout(timeout):
            await lock.acquire()
    except TimeoutError:
        acquired = False  # SQLite's busy handler decides
    else:
        acquired = True
    try:
        yield
    finally:
        if acquired:
            lock.release()
