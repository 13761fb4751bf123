"""Prometheus metrics at ``GET /metrics`` (``METRICS=true``; off, it answers 404).

Each GraphQL request is recorded once, when the request log writes its line,
from the same ``RequestInfo``: so the metrics and the log never disagree and
the request pays nothing more when metrics are off. Under ``ftf serve
--workers N`` each worker writes its values to files in
``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's multiprocess mode, set up by
``ftf serve``), and a scrape, whichever worker answers it, sums them all.

Labels never carry variables, tokens or user data: the operation label is an
operation's name only when it is a plain name of at most 64 characters of an
operation that ran, and only for the first ``MAX_OPERATION_NAMES`` names a
process sees; the rest are ``(other)``, unnamed operations ``(anonymous)``.
"""

from __future__ import annotations

import glob
import hmac
import os
import re

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import Pool, QueuePool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from server.errors import INTERNAL_SERVER_ERROR
from server.observability import RequestInfo

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
#: Distinct operation names one process labels its series with (the rest are ``(other)``).
MAX_OPERATION_NAMES = 100
ANONYMOUS = "(anonymous)"
OTHER = "(other)"
_OPERATION_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_ERROR_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
#: Seconds: a request of the fast path takes about a millisecond, a slow one seconds.
DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
#: Statements per request: a constant few is the goal, a growing count an N+1.
STATEMENT_BUCKETS = (0, 1, 2, 3, 4, 6, 8, 12, 16, 32, 64)


class Metrics:
    """The server's series, in a registry of their own (several apps in one process stay apart)."""

    def __init__(self, multiprocess_dir: str | None = None, *, token: str = "") -> None:
        self.multiprocess_dir = multiprocess_dir
        #: What a scrape must send as its bearer token (``METRICS_TOKEN``); empty: none.
        self.token = token
        self.registry = CollectorRegistry()
        registry = self.registry
        self.requests = Counter(
            "ftf_graphql_requests",
            "GraphQL requests, by operation and outcome (ok, client_error, server_error).",
            ["operation", "outcome"],
            registry=registry,
        )
        self.duration = Histogram(
            "ftf_graphql_request_duration_seconds",
            "Time to answer a GraphQL request, by operation.",
            ["operation"],
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self.statements = Histogram(
            "ftf_graphql_request_statements",
            "SQL statements a GraphQL request ran, by operation.",
            ["operation"],
            buckets=STATEMENT_BUCKETS,
            registry=registry,
        )
        self.errors = Counter(
            "ftf_graphql_errors", "GraphQL errors answered, by code.", ["code"], registry=registry
        )
        self.answered = Counter(
            "ftf_graphql_answered",
            "GraphQL operations run, by the path that answered (fast, resolvers, fallback).",
            ["by"],
            registry=registry,
        )
        self.pool_checked_out = Gauge(
            "ftf_db_pool_checked_out_connections",
            "Connections of the pool in use (sampled as each request starts and ends).",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.pool_waiting = Gauge(
            "ftf_db_pool_waiting_requests",
            "Requests waiting for a connection of the pool (sampled like the above).",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self._names: set[str] = set()
        self._pool: QueuePool | None = None

    @classmethod
    def from_env(cls, *, token: str = "") -> Metrics:
        """Per process, or summed over the workers when ``PROMETHEUS_MULTIPROC_DIR`` is set.

        prometheus-client chose how to keep values when it was imported, from
        the same variable, so it is read here rather than passed.
        """
        return cls(os.environ.get(MULTIPROCESS_DIR) or None, token=token)

    def start(self, engine: AsyncEngine) -> None:
        """Watch ``engine``'s pool; forget the live gauges of workers that died without a word."""
        pool: Pool = engine.pool
        self._pool = pool if isinstance(pool, QueuePool) else None
        if self.multiprocess_dir is not None:
            for path in glob.glob(os.path.join(self.multiprocess_dir, "gauge_live*_*.db")):
                pid = int(path.rsplit("_", 1)[1].removesuffix(".db"))
                if not _alive(pid):
                    mark_process_dead(pid, self.multiprocess_dir)  # type: ignore[no-untyped-call]
        self.sample_pool()

    def stop(self) -> None:
        """This worker leaves: its live gauges stop counting (its counters keep their totals)."""
        if self.multiprocess_dir is not None:
            mark_process_dead(os.getpid(), self.multiprocess_dir)  # type: ignore[no-untyped-call]

    def observe(self, info: RequestInfo, seconds: float) -> None:
        """Record one request, if it was a GraphQL one (it ran an operation or answered errors)."""
        self.sample_pool()
        codes = info.error_codes
        if info.answered_by is None and not codes:
            return  # /health, /metrics, the GraphiQL page, a client gone before its body
        operation = self._operation(info)
        if not codes:
            outcome = "ok"
        else:
            outcome = "server_error" if INTERNAL_SERVER_ERROR in codes else "client_error"
        self.requests.labels(operation, outcome).inc()
        self.duration.labels(operation).observe(seconds)
        self.statements.labels(operation).observe(info.statements)
        for code in codes:
            self.errors.labels(code if _ERROR_CODE.fullmatch(code) else "OTHER").inc()
        if info.answered_by is not None:
            self.answered.labels(info.answered_by).inc()

    def _operation(self, info: RequestInfo) -> str:
        """The operation label: a bounded set of names, the first ones seen that ran."""
        name = info.operation
        if name is None:
            return ANONYMOUS
        if name in self._names:
            return name
        if (
            info.answered_by is None  # refused before it ran: anyone may send any name
            or len(self._names) >= MAX_OPERATION_NAMES
            or not _OPERATION_NAME.fullmatch(name)
        ):
            return OTHER
        self._names.add(name)
        return name

    def sample_pool(self) -> None:
        pool = self._pool
        if pool is not None:
            self.pool_checked_out.set(pool.checkedout())
            self.pool_waiting.set(_waiting(pool))

    def exposition(self, accept: str | None) -> tuple[bytes, str]:
        """The series in the format ``accept`` asks for (Prometheus' text, or OpenMetrics)."""
        self.sample_pool()
        registry = self.registry
        if self.multiprocess_dir is not None:
            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=self.multiprocess_dir)  # type: ignore[no-untyped-call]
        encoder, content_type = choose_encoder(accept or "")
        return encoder(registry), content_type


def _waiting(pool: QueuePool) -> int:
    """Requests waiting on an exhausted async pool: the getters of its ``asyncio.Queue``.

    SQLAlchemy keeps no count of them; the queue is made at first use, and an
    unknown kind of queue counts none.
    """
    queue = vars(pool._pool).get("_queue")
    getters = getattr(queue, "_getters", ())
    return sum(1 for getter in getters if not getter.done())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def metrics_endpoint(request: Request) -> Response:
    """``GET /metrics``: the series, or 404 when ``METRICS`` is off; with ``METRICS_TOKEN``
    set, 401 unless the scraper sends it as a bearer token (Prometheus' ``authorization``)."""
    metrics: Metrics | None = getattr(request.app.state, "metrics", None)
    if metrics is None:
        return PlainTextResponse("Not Found", status_code=404)
    if metrics.token and not _bearer_is(request.headers.get("authorization"), metrics.token):
        return PlainTextResponse(
            "Unauthorized", status_code=401, headers={"WWW-Authenticate": 'Bearer realm="metrics"'}
        )
    body, content_type = metrics.exposition(request.headers.get("accept"))
    return Response(body, headers={"Content-Type": content_type})


def _bearer_is(authorization: str | None, token: str) -> bool:
    """Whether the header is ``Bearer <token>``, compared in constant time."""
    scheme, _, given = (authorization or "").partition(" ")
    expected = token.encode("utf-8", "surrogatepass")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode("utf-8", "surrogatepass"), expected
    )
