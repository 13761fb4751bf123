"""``GET /metrics`` (``METRICS=true``): Prometheus' text format, per process and over workers."""

from __future__ import annotations

import asyncio
import os
import re
import signal
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine

import server.metrics
from server.settings import Settings, SettingsError
from tests.api import gid
from tests.server.conftest import Serve, running
from tests.server.processes import StartServer, eventually

USERS = "query Users { users(first: 2) { nodes { name } } }"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    """Every sample of a scrape, by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """A sample's value; 0 for a series not (yet) there, as Prometheus reads a missing counter."""
    return samples.get((name, frozenset(labels.items())), 0.0)


async def scrape(http: httpx.AsyncClient) -> Samples:
    response = await http.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return parse(response.text)


async def test_metrics_are_off_unless_asked_for(serve: Serve) -> None:
    async with serve() as http:
        assert (await http.post("/graphql", json={"query": "{ __typename }"})).status_code == 200
        response = await http.get("/metrics")
    assert response.status_code == 404


async def test_requests_are_counted_by_operation_outcome_and_path(database_url: str) -> None:
    async with running(Settings(database_url=database_url, metrics=True)) as (_, http):
        before = await scrape(http)
        for _ in range(3):
            assert (await http.post("/graphql", json={"query": USERS})).status_code == 200
        await http.post("/graphql", json={"query": "{ nope }"})
        await http.post("/graphql", json={"query": f'{{ node(id: "{gid("User", 9)}") {{ id }} }}'})
        await http.post("/graphql", content=b"{", headers={"Content-Type": "application/json"})
        await http.get("/health")
        after = await scrape(http)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("ftf_graphql_requests_total", operation="Users", outcome="ok") == 3
    assert moved("ftf_graphql_request_duration_seconds_count", operation="Users") == 3
    assert moved("ftf_graphql_request_duration_seconds_sum", operation="Users") > 0
    # One statement each (the tests' admin token needs none), on the fast path.
    assert moved("ftf_graphql_request_statements_count", operation="Users") == 3
    assert moved("ftf_graphql_request_statements_sum", operation="Users") == 3
    assert moved("ftf_graphql_request_statements_bucket", operation="Users", le="1.0") == 3
    assert moved("ftf_graphql_request_statements_bucket", operation="Users", le="0.0") == 0
    assert moved("ftf_graphql_answered_total", by="fast") == 3
    # ``node`` is the resolvers'; the invalid document and the bad body ran nothing.
    assert moved("ftf_graphql_answered_total", by="resolvers") == 1
    assert moved("ftf_graphql_errors_total", code="GRAPHQL_VALIDATION_FAILED") == 1
    assert moved("ftf_graphql_errors_total", code="BAD_REQUEST") == 1
    assert moved("ftf_graphql_requests_total", operation="(anonymous)", outcome="client_error") == 2
    assert moved("ftf_graphql_requests_total", operation="(anonymous)", outcome="ok") == 1
    # /health and the scrapes are no GraphQL requests.
    total = sum(v for (name, _), v in after.items() if name == "ftf_graphql_requests_total")
    assert (
        total - sum(v for (name, _), v in before.items() if name == "ftf_graphql_requests_total")
        == 6
    )


async def test_an_internal_error_is_a_server_error(database_url: str) -> None:
    class Broken(Exception):
        pass

    def broken() -> AsyncEngine:
        raise Broken("the database is gone")

    async with running(Settings(database_url=database_url, metrics=True)) as (app, http):
        with app.state.container.override(AsyncEngine, factory=broken):
            body = (await http.post("/graphql", json={"query": USERS})).json()
        samples = await scrape(http)
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert value(samples, "ftf_graphql_errors_total", code="INTERNAL_SERVER_ERROR") == 1
    # Named only once an operation of that name ran: anyone may send any name.
    labels = {"operation": "(other)", "outcome": "server_error"}
    assert value(samples, "ftf_graphql_requests_total", **labels) == 1


async def test_labels_never_carry_variables_tokens_or_unbounded_names(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server.metrics, "MAX_OPERATION_NAMES", 3)
    secret = "s3cret-Value_9f8e7d"
    filtered = "query Filtered($name: String!) { users(where: {name: {eq: $name}}) { totalCount } }"
    long_name = "Q" * 65
    async with running(Settings(database_url=database_url, metrics=True)) as (_, http):
        bearer = {"Authorization": f"Bearer {secret}"}
        await http.post("/graphql", json={"query": USERS}, headers=bearer)  # 401: not run
        await http.post("/graphql", json={"query": filtered, "variables": {"name": secret}})
        for name in ("A", "B", "C", "D", long_name):
            await http.post("/graphql", json={"query": f"query {name} {{ __typename }}"})
        await http.post("/graphql", json={"query": "query Never { nope }"})
        response = await http.get("/metrics")

    assert secret not in response.text
    samples = parse(response.text)
    operations = {
        dict(labels)["operation"]
        for (name, labels) in samples
        if name == "ftf_graphql_requests_total"
    }
    # The first three names of operations that ran; the rest, and one refused, are "(other)";
    # the bad token was refused before its document was read.
    assert operations == {"Filtered", "A", "B", "(other)", "(anonymous)"}
    assert value(samples, "ftf_graphql_requests_total", operation="(other)", outcome="ok") == 3
    assert value(samples, "ftf_graphql_errors_total", code="UNAUTHENTICATED") == 1


async def test_the_pool_gauges_show_connections_in_use_and_requests_waiting(
    database_url: str,
) -> None:
    settings = Settings(database_url=database_url, metrics=True, db_pool_size=1, db_max_overflow=0)
    async with running(settings) as (app, http):
        engine: AsyncEngine = await app.state.container.get(AsyncEngine)
        async with engine.connect() as held:
            await held.exec_driver_sql("SELECT 1")  # the pool's one connection, taken
            waiting = asyncio.create_task(http.post("/graphql", json={"query": USERS}))

            async def queued() -> bool:
                samples = await scrape(http)
                return value(samples, "ftf_db_pool_waiting_requests") == 1

            await eventually(queued)
            samples = await scrape(http)
            assert value(samples, "ftf_db_pool_checked_out_connections") == 1
        assert (await waiting).status_code == 200
        samples = await scrape(http)
    assert value(samples, "ftf_db_pool_waiting_requests") == 0
    assert value(samples, "ftf_db_pool_checked_out_connections") == 0


def _worker_pids(directory: Path) -> set[int]:
    """The workers that counted a request (a counter file each)."""
    return {
        int(m[1]) for p in directory.glob("counter_*.db") if (m := re.search(r"_(\d+)", p.name))
    }


async def test_workers_are_summed_in_every_scrape(
    new_database: Callable[[str], str], ftf_serve: StartServer, tmp_path: Path
) -> None:
    # ``ftf serve`` makes the workers' shared directory in TMPDIR, here a folder of the test's.
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    env = {"METRICS": "true", "TMPDIR": str(temporary), "LOG_LEVEL": "warning"}
    served = await ftf_serve(new_database("sqlite"), "--workers", "2", env=env)
    [directory] = temporary.glob("ftf-metrics-*")
    limits = httpx.Limits(max_keepalive_connections=0)  # a new connection each: any worker
    sent = 0
    async with httpx.AsyncClient(base_url=served.base_url, timeout=10, limits=limits) as http:

        async def both_counted() -> bool:
            nonlocal sent
            batch = await asyncio.gather(
                *(http.post("/graphql", json={"query": USERS}) for _ in range(8))
            )
            assert all(response.status_code == 200 for response in batch)
            sent += len(batch)
            return len(_worker_pids(directory)) == 2

        await eventually(both_counted, 30)
        for _ in range(6):  # whichever worker answers, it sums both
            samples = await scrape(http)
            assert (
                value(samples, "ftf_graphql_requests_total", operation="Users", outcome="ok")
                == sent
            )
            assert value(samples, "ftf_graphql_answered_total", by="fast") == sent
            assert value(samples, "ftf_db_pool_checked_out_connections") == 0

        # A worker killed outright: uvicorn starts another, which forgets the dead one's
        # live gauges; what it counted still counts.
        dead = min(_worker_pids(directory))
        os.kill(dead, signal.SIGKILL)

        async def forgotten() -> bool:
            return not (directory / f"gauge_livesum_{dead}.db").exists()

        await eventually(forgotten, 30)
        await eventually(lambda: _answers(http), 30)
        samples = await scrape(http)
        assert value(samples, "ftf_graphql_requests_total", operation="Users", outcome="ok") == sent

    # SIGTERM: the server stops and takes the directory with it.
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(30) == 0, served.output()
    assert not directory.exists()


async def _answers(http: httpx.AsyncClient) -> bool:
    try:
        return (await http.get("/health")).status_code == 200
    except httpx.TransportError:
        return False


async def test_with_a_token_only_a_scrape_that_sends_it_is_answered(database_url: str) -> None:
    settings = Settings(database_url=database_url, metrics=True, metrics_token="s3cret-scrape")
    async with running(settings) as (_, http):
        anonymous = await http.get("/metrics")
        wrong = await http.get("/metrics", headers={"Authorization": "Bearer s3cret-scrapE"})
        basic = await http.get("/metrics", headers={"Authorization": "Basic s3cret-scrape"})
        right = await http.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape"})

    for refused in (anonymous, wrong, basic):
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == 'Bearer realm="metrics"'
        assert "ftf_" not in refused.text
    assert right.status_code == 200
    assert "# TYPE ftf_graphql_requests_total counter" in right.text


@pytest.mark.parametrize("token", ["clé-secrète", "two\nlines"])
def test_a_token_no_scraper_could_send_is_refused_at_start(token: str) -> None:
    with pytest.raises(SettingsError, match="METRICS_TOKEN must be printable ASCII"):
        Settings(metrics=True, metrics_token=token)
