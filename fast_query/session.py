"""Session factories, and a session that is safe to share between coroutines."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

P = ParamSpec("P")
R = TypeVar("R")


class _TaskReentrantLock:
    """An asyncio lock its holding task may take again (``scalars`` calls ``execute``)."""

    __slots__ = ("_depth", "_lock", "_owner")

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[Any] | None = None
        self._depth = 0

    async def acquire(self) -> None:
        task = asyncio.current_task()
        if self._owner is task and task is not None:
            self._depth += 1
            return
        await self._lock.acquire()
        self._owner = task
        self._depth = 1

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._owner = None
            self._lock.release()


def _serialized(
    method: Callable[..., Awaitable[R]],
) -> Callable[..., Awaitable[R]]:
    @wraps(method)
    async def wrapper(self: SerializedAsyncSession, *args: Any, **kwargs: Any) -> R:
        await self._fast_query_lock.acquire()
        try:
            return await method(self, *args, **kwargs)
        finally:
            self._fast_query_lock.release()

    return wrapper


class SerializedAsyncSession(AsyncSession):
    """An ``AsyncSession`` whose operations queue instead of overlapping.

    An ``AsyncSession`` must not be used by two coroutines at once. A GraphQL
    request resolves sibling fields concurrently, so every operation that
    touches the connection takes a per-session lock first.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._fast_query_lock = _TaskReentrantLock()

    execute = _serialized(AsyncSession.execute)  # type: ignore[assignment]
    scalar = _serialized(AsyncSession.scalar)  # type: ignore[assignment]
    scalars = _serialized(AsyncSession.scalars)  # type: ignore[assignment]
    get = _serialized(AsyncSession.get)  # type: ignore[assignment]
    get_one = _serialized(AsyncSession.get_one)  # type: ignore[assignment]
    stream = _serialized(AsyncSession.stream)  # type: ignore[assignment]
    stream_scalars = _serialized(AsyncSession.stream_scalars)  # type: ignore[assignment]
    refresh = _serialized(AsyncSession.refresh)  # type: ignore[assignment]
    merge = _serialized(AsyncSession.merge)  # type: ignore[assignment]
    delete = _serialized(AsyncSession.delete)  # type: ignore[assignment]
    flush = _serialized(AsyncSession.flush)  # type: ignore[assignment]
    run_sync = _serialized(AsyncSession.run_sync)  # type: ignore[assignment]
    connection = _serialized(AsyncSession.connection)  # type: ignore[assignment]
    commit = _serialized(AsyncSession.commit)  # type: ignore[assignment]
    rollback = _serialized(AsyncSession.rollback)  # type: ignore[assignment]
    close = _serialized(AsyncSession.close)  # type: ignore[assignment]
    reset = _serialized(AsyncSession.reset)  # type: ignore[assignment]
    invalidate = _serialized(AsyncSession.invalidate)  # type: ignore[assignment]


@asynccontextmanager
async def exclusive(session: AsyncSession) -> AsyncIterator[None]:
    """Hold a ``SerializedAsyncSession`` for several steps; other sessions pass through.

    ``add()`` and attribute changes are synchronous, so the lock cannot queue
    them: made while another coroutine's flush is running, an add is
    unsupported and a change is reset unwritten when that flush ends. A write
    that changes objects and then flushes holds the session throughout.
    """
    lock: _TaskReentrantLock | None = getattr(session, "_fast_query_lock", None)
    if lock is None:
        yield
        return
    await lock.acquire()
    try:
        yield
    finally:
        lock.release()


def create_session_factory(
    bind: AsyncEngine | AsyncConnection,
    *,
    serialized: bool = True,
    **options: Any,
) -> async_sessionmaker[AsyncSession]:
    """A session factory with ``expire_on_commit=False``.

    Objects stay readable after a commit, which async code needs because an
    expired attribute cannot be lazily refreshed without awaiting.

    Args:
        bind: an engine, or a connection for tests that roll back.
        serialized: make sessions safe to share between coroutines.
        options: passed to ``async_sessionmaker`` (for example
            ``join_transaction_mode="create_savepoint"``).
    """
    options.setdefault("expire_on_commit", False)
    session_class = SerializedAsyncSession if serialized else AsyncSession
    return async_sessionmaker(bind, class_=session_class, **options)
