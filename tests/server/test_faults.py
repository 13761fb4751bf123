"""Database faults: the server answers promptly while the database is down, silent, slow
or out of connections, serves again once it is back, and shuts down gracefully.

Most tests run against ``pg_cluster``, a PostgreSQL cluster of the run's own,
which they stop (``pg_ctl stop -m immediate`` / ``-m fast``), freeze (SIGSTOP)
and start again; the shutdown tests run the real ``ftf serve`` in a
subprocess. Every wait is bounded: ``wait_for`` around each request, a
deadline around each polling loop.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from alembic import command
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from migrations import alembic_config
from server.errors import INTERNAL_MESSAGE, TIMEOUT_MESSAGE
from server.health import HEALTH_TIMEOUT
from server.settings import Settings
from tests.api import StatementCounter
from tests.conftest import in_thread
from tests.pg_cluster import PgCluster
from tests.server.conftest import running
from tests.server.processes import StartServer, eventually

#: No request of these tests may take longer: a hang fails the test, never CI.
HANG = 20.0
#: How long a request may take while the database is down or silent.
PROMPT = 3.0
CONNECT_TIMEOUT = 1.0

USERS = "{ users(first: 10) { totalCount nodes { email } } }"
USER_EMAILS = "{ users(first: 10) { nodes { email } } }"
CREATE_USER = """
mutation Create($email: String!) { createUser(input: {name: "Ada", email: $email}) { email } }
"""
#: Words of SQL, drivers and sockets that must never reach a client.
LEAKS = (
    "SELECT",
    "INSERT",
    "asyncpg",
    "sqlalchemy",
    "QueuePool",
    "canceling",
    "statement timeout",
    "Errno",
    "Connect call",
    "127.0.0.1",
    "Traceback",
)


# -- helpers --------------------------------------------------------------------


def fast_failing(url: str) -> Settings:
    """Settings with short waits for a connection, so that faults show quickly."""
    return Settings(database_url=url, db_connect_timeout=CONNECT_TIMEOUT, db_pool_timeout=1.0)


async def timed(request: Awaitable[httpx.Response]) -> tuple[httpx.Response, float]:
    """The response and the seconds it took; a request that hangs fails the test."""
    started = time.perf_counter()
    response = await asyncio.wait_for(request, HANG)
    return response, time.perf_counter() - started


def query(http: httpx.AsyncClient, document: str, **variables: Any) -> Awaitable[httpx.Response]:
    return http.post("/graphql", json={"query": document, "variables": variables})


def assert_internal_error(response: httpx.Response, message: str = INTERNAL_MESSAGE) -> None:
    """One ``INTERNAL_SERVER_ERROR`` with ``message`` and the request id, and nothing leaked."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert body.get("data") in (None, {"createUser": None}), body
    [error] = body["errors"]
    assert error["message"] == message
    assert error["extensions"] == {
        "code": "INTERNAL_SERVER_ERROR",
        "requestId": response.headers["x-request-id"],
    }
    for leak in LEAKS:
        assert leak not in response.text


def emails(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    return [node["email"] for node in body["data"]["users"]["nodes"]]


async def healthy(http: httpx.AsyncClient) -> bool:
    response, _ = await timed(http.get("/health"))
    return response.status_code == 200


async def recovers(http: httpx.AsyncClient) -> int:
    """Health checks until ``/health`` answers 200 again (at most 10 s); how many it took."""
    return await eventually(lambda: healthy(http))


def asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@asynccontextmanager
async def users_locked(url: str) -> AsyncIterator[Callable[[], Awaitable[None]]]:
    """Until the yielded ``release()``, statements on ``users`` wait for a lock of the test's.

    PostgreSQL: ``LOCK TABLE users IN ACCESS EXCLUSIVE MODE`` (reads wait too);
    SQLite: ``BEGIN IMMEDIATE`` (writers wait, up to the busy timeout).
    """
    if url.startswith("sqlite"):
        lite = sqlite3.connect(make_url(url).database or "", isolation_level=None)
        lite.execute("BEGIN IMMEDIATE")

        async def release_sqlite() -> None:
            if lite.in_transaction:
                lite.execute("ROLLBACK")

        try:
            yield release_sqlite
        finally:
            await release_sqlite()
            lite.close()
        return
    locker = await asyncpg.connect(asyncpg_dsn(url), timeout=5)
    transaction = locker.transaction()
    await transaction.start()
    await locker.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
    released = False

    async def release() -> None:
        nonlocal released
        if not released:
            released = True
            await transaction.rollback()

    try:
        yield release
    finally:
        if locker.is_closed():
            locker.terminate()  # the database went away under it
        else:
            try:
                await asyncio.wait_for(release(), 5)
                await asyncio.wait_for(locker.close(), 5)
            except Exception:  # it died meanwhile: the server rolls back on its own
                locker.terminate()


async def waiting_for_lock(url: str) -> bool:
    """Whether a statement waits for a lock in the database of ``url``."""
    connection = await asyncpg.connect(asyncpg_dsn(url), timeout=5)
    try:
        sql = """
            SELECT count(*) FROM pg_locks JOIN pg_database ON pg_database.oid = database
            WHERE NOT granted AND datname = $1
        """
        return bool(await connection.fetchval(sql, make_url(url).database))
    finally:
        await connection.close()


async def app_engine(app: Any) -> AsyncEngine:
    engine: AsyncEngine = await app.state.container.get(AsyncEngine)
    return engine


# -- the database stops, then comes back ----------------------------------------------


@pytest.mark.parametrize("mode", ["immediate", "fast"])
async def test_the_database_stops_then_comes_back(
    pg_cluster: PgCluster, cluster_database_url: str, mode: str
) -> None:
    url = cluster_database_url
    async with running(fast_failing(url)) as (_, http):
        created, _ = await timed(query(http, CREATE_USER, email="before@example.com"))
        assert created.json() == {"data": {"createUser": {"email": "before@example.com"}}}
        # Several pooled connections, all about to die.
        warm = await asyncio.gather(*(timed(query(http, USERS)) for _ in range(4)))
        assert all(emails(response) == ["before@example.com"] for response, _ in warm)

        async with users_locked(url):
            in_flight = asyncio.ensure_future(timed(query(http, USERS)))
            await eventually(lambda: waiting_for_lock(url))
            await asyncio.to_thread(pg_cluster.stop, mode)
            # The request that was waiting on the database ends promptly: it fails, or
            # (a read that failed on the fast path is retried through the resolvers
            # on another connection) a backend not yet stopped answers it correctly.
            response, _ = await asyncio.wait_for(in_flight, PROMPT)
            if "errors" in response.json():
                assert_internal_error(response)
            else:
                assert emails(response) == ["before@example.com"]

        for _ in range(2):  # and so does every request while the database is down
            response, seconds = await timed(http.get("/health"))
            assert (response.status_code, response.json()) == (503, {"status": "unavailable"})
            assert seconds < PROMPT
            response, seconds = await timed(query(http, USERS))
            assert_internal_error(response)
            assert seconds < PROMPT
            response, seconds = await timed(query(http, CREATE_USER, email="down@example.com"))
            assert_internal_error(response)
            assert seconds < PROMPT

        await asyncio.to_thread(pg_cluster.start)
        await recovers(http)  # the first health check already passes, in practice
        response, _ = await timed(query(http, USERS))
        assert emails(response) == ["before@example.com"]
        created, _ = await timed(query(http, CREATE_USER, email="after@example.com"))
        assert created.json() == {"data": {"createUser": {"email": "after@example.com"}}}
        response, _ = await timed(query(http, USERS))
        assert emails(response) == ["before@example.com", "after@example.com"]


async def test_a_database_that_stops_answering_fails_requests_promptly(
    pg_cluster: PgCluster, cluster_database_url: str
) -> None:
    # The host is gone without closing anything (frozen server, network cut):
    # pooled connections hang, new ones are never answered. The statement
    # timeout stays at its default, so only the connect timeout (which also
    # bounds the pool's pre-ping) can make these requests prompt. A second app
    # keeps every default: its health check must still answer in time.
    url = cluster_database_url
    async with (
        running(fast_failing(url)) as (_, http),
        running(Settings(database_url=url)) as (_, default_http),
    ):
        warm = await asyncio.gather(*(timed(query(http, USERS)) for _ in range(4)))
        assert all(emails(response) == [] for response, _ in warm)
        assert await healthy(default_http)  # a pooled connection to hang on

        with pg_cluster.frozen():
            for client in (default_http, http):
                response, seconds = await timed(client.get("/health"))
                assert (response.status_code, response.json()) == (503, {"status": "unavailable"})
                assert seconds < HEALTH_TIMEOUT + 1
            for _ in range(2):
                response, seconds = await timed(query(http, USERS))
                assert_internal_error(response, TIMEOUT_MESSAGE)
                assert seconds < CONNECT_TIMEOUT + 2
                response, seconds = await timed(query(http, CREATE_USER, email="x@example.com"))
                assert_internal_error(response, TIMEOUT_MESSAGE)
                assert seconds < CONNECT_TIMEOUT + 2

        await recovers(http)
        created, _ = await timed(query(http, CREATE_USER, email="back@example.com"))
        assert created.json() == {"data": {"createUser": {"email": "back@example.com"}}}


@asynccontextmanager
async def black_hole() -> AsyncIterator[int]:
    """A port that accepts connections and never says a word; yields the port."""
    handlers: set[asyncio.StreamWriter] = set()

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handlers.add(writer)
        await reader.read()  # until the client hangs up
        writer.close()

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        for writer in handlers:
            writer.close()
        await server.wait_closed()


async def test_a_database_that_never_answers_a_connection_fails_at_the_connect_timeout() -> None:
    async with black_hole() as port:
        url = f"postgresql+asyncpg://postgres@127.0.0.1:{port}/nowhere"
        settings = Settings(database_url=url, db_connect_timeout=0.5, db_pool_timeout=1.0)
        async with running(settings) as (_, http):
            response, seconds = await timed(http.get("/health"))
            assert (response.status_code, response.json()) == (503, {"status": "unavailable"})
            assert seconds < HEALTH_TIMEOUT + 1
            for document in (USERS, CREATE_USER):
                response, seconds = await timed(query(http, document, email="x@example.com"))
                assert_internal_error(response, TIMEOUT_MESSAGE)
                assert 0.4 < seconds < 0.5 + 1.5


# -- slow statements and an exhausted pool ----------------------------------------------


@pytest.mark.parametrize(
    ("document", "fast_path"),
    [
        pytest.param(USER_EMAILS, True, id="query-fast-path"),
        pytest.param(USER_EMAILS, False, id="query-resolvers"),
        pytest.param(CREATE_USER, False, id="mutation"),
    ],
)
async def test_a_slow_statement_fails_at_the_statement_timeout(
    cluster_database_url: str, document: str, fast_path: bool
) -> None:
    url = cluster_database_url
    settings = Settings(database_url=url, db_statement_timeout=0.5, graphql_fast_path=fast_path)
    async with running(settings) as (app, http):
        async with users_locked(url):
            with StatementCounter(await app_engine(app)) as sql:
                response, seconds = await timed(query(http, document, email="slow@example.com"))
            assert_internal_error(response, TIMEOUT_MESSAGE)
            assert 0.45 < seconds < 0.5 + 1.5
            # The statement that timed out is not tried again (the fast path used to
            # hand a failed query to the resolvers, which waited as long again).
            assert sql.count == 1, sql.statements
        # The connection that ran it is fine, and the data unchanged.
        response, _ = await timed(query(http, USER_EMAILS))
        assert emails(response) == []


@pytest.fixture(params=["postgresql", "sqlite"])
def fault_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        url: str = request.getfixturevalue("cluster_database_url")
        return url
    url = f"sqlite+aiosqlite:///{tmp_path / 'faults.db'}"
    in_thread(command.upgrade, alembic_config(url), "head")
    return url


async def test_a_request_that_gets_no_connection_in_time_fails_cleanly(
    fault_database_url: str,
) -> None:
    url = fault_database_url
    settings = Settings(
        database_url=url,
        db_pool_size=1,
        db_max_overflow=0,
        db_pool_timeout=0.3,
        db_statement_timeout=10.0,
    )
    async with running(settings) as (app, http):
        pool: Any = (await app_engine(app)).pool
        async with users_locked(url) as release:
            # A mutation takes the only connection and waits for the lock.
            holder = asyncio.ensure_future(timed(query(http, CREATE_USER, email="a@example.com")))

            async def holding() -> bool:
                return bool(pool.checkedout() == 1)

            await eventually(holding)
            response, seconds = await timed(query(http, USERS))
            assert_internal_error(response, TIMEOUT_MESSAGE)
            assert 0.25 < seconds < 0.3 + 1.5
            assert not holder.done()
            await release()
            created, _ = await asyncio.wait_for(holder, HANG)
        # The request that held the connection was never disturbed.
        assert created.json() == {"data": {"createUser": {"email": "a@example.com"}}}
        response, _ = await timed(query(http, USERS))
        assert emails(response) == ["a@example.com"]


# -- graceful shutdown ---------------------------------------------------------------


async def server_connections(url: str) -> int:
    """Connections to the database of ``url``, other than the one asking."""
    connection = await asyncpg.connect(asyncpg_dsn(url), timeout=5)
    try:
        sql = "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()"
        return int(await connection.fetchval(sql, make_url(url).database))
    finally:
        await connection.close()


async def test_sigterm_lets_the_request_in_flight_finish_then_closes_the_pool(
    cluster_database_url: str, ftf_serve: StartServer
) -> None:
    url = cluster_database_url
    server = await ftf_serve(url)
    async with (
        httpx.AsyncClient(base_url=server.base_url, timeout=HANG) as http,
        users_locked(url) as release,
    ):
        in_flight = asyncio.ensure_future(timed(query(http, USERS)))
        await eventually(lambda: waiting_for_lock(url))
        assert await server_connections(url) >= 2  # the pool's, and the lock's
        server.process.send_signal(signal.SIGTERM)
        signalled = time.perf_counter()

        # No new connections, while the request in flight still runs.
        await eventually(lambda: asyncio.to_thread(server.refuses_connections), 5)
        assert server.process.poll() is None
        assert not in_flight.done()
        await release()
        response, _ = await asyncio.wait_for(in_flight, HANG)

    assert emails(response) == []
    returncode = await asyncio.to_thread(server.process.wait, 15)
    assert returncode == 0, server.output()
    assert time.perf_counter() - signalled < 10
    assert "Application shutdown complete" in server.output()

    async def pool_closed() -> bool:
        return await server_connections(url) == 0

    await eventually(pool_closed, 5)


async def test_sigterm_stops_waiting_for_a_request_at_the_graceful_timeout(
    cluster_database_url: str, ftf_serve: StartServer
) -> None:
    url = cluster_database_url
    server = await ftf_serve(url, "--timeout-graceful-shutdown", "1")
    async with (
        httpx.AsyncClient(base_url=server.base_url, timeout=HANG) as http,
        users_locked(url),
    ):
        in_flight = asyncio.ensure_future(timed(query(http, USERS)))
        await eventually(lambda: waiting_for_lock(url))
        server.process.send_signal(signal.SIGTERM)
        signalled = time.perf_counter()
        returncode = await asyncio.to_thread(server.process.wait, 15)
        stopped = time.perf_counter() - signalled
        response, _ = await asyncio.wait_for(in_flight, HANG)
    assert returncode == 0, server.output()
    assert 1 <= stopped < 6
    # uvicorn cancels what is left and answers for it: a bare 500, nothing leaked.
    assert (response.status_code, response.text) == (500, "Internal Server Error")

    async def pool_closed() -> bool:
        return await server_connections(url) == 0

    await eventually(pool_closed, 5)
