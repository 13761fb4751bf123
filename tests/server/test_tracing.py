"""OpenTelemetry traces: a span per GraphQL request, its statements as children, off by default."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from server.app import create_app
from server.settings import Settings, SettingsError
from server.tracing import enabled, provider_from_env
from tests.api import gid
from tests.server.conftest import running

SECRET = "s3cret-Value_9f8e7d"
USERS = "query Users($name: String!) { users(where: {name: {ne: $name}}) { nodes { name } } }"


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    yield exporter
    exporter.shutdown()


@asynccontextmanager
async def traced(
    database_url: str, exporter: InMemorySpanExporter
) -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    """An app whose spans go to ``exporter`` as they end, and a client of it as the admin."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    async with running(Settings(database_url=database_url), tracer_provider=provider) as started:
        yield started
    provider.shutdown()


def operations(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.kind is SpanKind.SERVER]


def children(exporter: InMemorySpanExporter, parent: ReadableSpan) -> list[ReadableSpan]:
    assert parent.context is not None
    return [
        span
        for span in exporter.get_finished_spans()
        if span.parent is not None and span.parent.span_id == parent.context.span_id
    ]


async def test_a_span_per_operation_with_a_span_per_statement(
    database_url: str, exporter: InMemorySpanExporter, backend: str
) -> None:
    async with traced(database_url, exporter) as (_, http):
        response = await http.post("/graphql", json={"query": USERS, "variables": {"name": SECRET}})
        assert response.status_code == 200 and "errors" not in response.json()

    [operation] = operations(exporter)
    assert operation.name == "query Users"
    assert operation.attributes is not None
    assert dict(operation.attributes) == {
        "graphql.operation.name": "Users",
        "graphql.operation.type": "query",
        "ftf.request_id": response.headers["X-Request-ID"],
        "ftf.answered_by": "fast",
        "http.response.status_code": 200,
    }
    [statement] = children(exporter, operation)  # the fast path's one, run on the driver
    assert statement.name == "SELECT"
    assert statement.kind is SpanKind.CLIENT
    assert statement.attributes is not None
    assert statement.attributes["db.system.name"] == backend
    assert str(statement.attributes["db.query.text"]).startswith("SELECT")
    assert statement.end_time is not None and statement.start_time is not None
    assert statement.start_time >= operation.start_time  # type: ignore[operator]
    assert statement.end_time <= operation.end_time  # type: ignore[operator]
    # Neither the variables nor the token are anywhere in a span.
    for span in exporter.get_finished_spans():
        assert SECRET not in repr(dict(span.attributes or {})) + span.name
        assert "test-admin" not in repr(dict(span.attributes or {}))


async def test_the_resolvers_and_writes_have_their_statements_traced_too(
    database_url: str, exporter: InMemorySpanExporter, committed_engine: AsyncEngine
) -> None:
    node = f'query Node {{ node(id: "{gid("User", 9)}") {{ id }} }}'
    create = 'mutation MakeRole { createRole(input: {name: "tracer"}) { name } }'
    async with traced(database_url, exporter) as (_, http):
        assert (await http.post("/graphql", json={"query": node})).json() == {
            "data": {"node": None}
        }
        created = (await http.post("/graphql", json={"query": create})).json()
        assert created == {"data": {"createRole": {"name": "tracer"}}}

    by_name = {span.name: span for span in operations(exporter)}
    assert set(by_name) == {"query Node", "mutation MakeRole"}
    assert by_name["query Node"].attributes is not None
    assert by_name["query Node"].attributes["ftf.answered_by"] == "resolvers"
    # (SQLite's BEGIN has a span too: it is time spent at the database.)
    assert "SELECT" in [s.name for s in children(exporter, by_name["query Node"])]
    assert "INSERT" in [s.name for s in children(exporter, by_name["mutation MakeRole"])]
    assert by_name["mutation MakeRole"].attributes is not None
    assert by_name["mutation MakeRole"].attributes["graphql.operation.type"] == "mutation"


async def test_the_span_continues_the_callers_trace(
    database_url: str, exporter: InMemorySpanExporter
) -> None:
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    parent_id = "00f067aa0ba902b7"
    headers = {"traceparent": f"00-{trace_id}-{parent_id}-01"}
    async with traced(database_url, exporter) as (_, http):
        await http.post("/graphql", json={"query": "{ __typename }"}, headers=headers)

    [operation] = operations(exporter)
    assert operation.name == "query"
    assert operation.context is not None and operation.parent is not None
    assert format(operation.context.trace_id, "032x") == trace_id
    assert format(operation.parent.span_id, "016x") == parent_id
    assert "SELECT" not in [s.name for s in children(exporter, operation)]  # none ran


async def test_errors_are_on_the_span_and_only_a_servers_fails_it(
    database_url: str, exporter: InMemorySpanExporter
) -> None:
    class Broken(Exception):
        pass

    def broken() -> AsyncEngine:
        raise Broken

    async with traced(database_url, exporter) as (app, http):
        await http.post("/graphql", json={"query": "query Bad { nope }"})
        with app.state.container.override(AsyncEngine, factory=broken):
            await http.post("/graphql", json={"query": "query Users { users { totalCount } }"})

    bad, internal = operations(exporter)
    assert bad.attributes is not None and internal.attributes is not None
    assert bad.attributes["ftf.error_codes"] == ("GRAPHQL_VALIDATION_FAILED",)
    assert bad.status.status_code is StatusCode.UNSET  # the client's mistake
    assert internal.attributes["ftf.error_codes"] == ("INTERNAL_SERVER_ERROR",)
    assert internal.status.status_code is StatusCode.ERROR


async def test_statements_outside_a_request_make_no_span(
    database_url: str, exporter: InMemorySpanExporter
) -> None:
    async with traced(database_url, exporter) as (app, _):
        engine: AsyncEngine = await app.state.container.get(AsyncEngine)
        async with engine.connect() as connection:
            await connection.exec_driver_sql("SELECT 1")
    assert exporter.get_finished_spans() == ()


async def test_off_nothing_is_installed(database_url: str) -> None:
    application = create_app(Settings(database_url=database_url))
    async with application.router.lifespan_context(application):
        engine: AsyncEngine = await application.state.container.get(AsyncEngine)
        assert application.state.graphql.tracing is None
        assert not engine.sync_engine.dispatch.after_cursor_execute
        assert len(engine.sync_engine.dispatch.before_cursor_execute) == 1  # the request log's


@pytest.mark.parametrize(
    ("environ", "on"),
    [
        pytest.param({}, False, id="nothing-set"),
        pytest.param({"OTEL_SERVICE_NAME": "api"}, False, id="a-name-only"),
        pytest.param({"OTEL_TRACES_EXPORTER": "otlp"}, True, id="exporter"),
        pytest.param({"OTEL_TRACES_EXPORTER": "none"}, False, id="exporter-none"),
        pytest.param({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True, id="endpoint"),
        pytest.param(
            {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"}, True, id="traces"
        ),
        pytest.param(
            {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}, False, id="disabled"
        ),
        pytest.param(
            {"OTEL_TRACES_EXPORTER": "console", "OTEL_SDK_DISABLED": "false"}, True, id="enabled"
        ),
    ],
)
def test_the_otel_variables_turn_traces_on(environ: dict[str, str], on: bool) -> None:
    assert enabled(environ) is on


def test_the_provider_follows_the_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    assert provider_from_env({}) is None

    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.delenv("OTEL_RESOURCE_ATTRIBUTES", raising=False)
    provider = provider_from_env({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"})
    assert provider is not None
    assert provider.resource.attributes["service.name"] == "fast-track-graphql"
    exporters = [p.span_exporter for p in provider._active_span_processor._span_processors]  # type: ignore[attr-defined]
    assert [type(e).__name__ for e in exporters] == ["OTLPSpanExporter"]
    assert type(exporters[0]).__module__.startswith("opentelemetry.exporter.otlp.proto.http")
    provider.shutdown()

    monkeypatch.setenv("OTEL_SERVICE_NAME", "blog-api")
    provider = provider_from_env({"OTEL_TRACES_EXPORTER": "console"})
    assert provider is not None
    assert provider.resource.attributes["service.name"] == "blog-api"
    provider.shutdown()

    with pytest.raises(SettingsError, match="OTEL_TRACES_EXPORTER='zipkin'"):
        provider_from_env({"OTEL_TRACES_EXPORTER": "zipkin"})
    with pytest.raises(SettingsError, match="OTEL_EXPORTER_OTLP_PROTOCOL='http/json'"):
        provider_from_env(
            {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}
        )


async def test_a_failed_statement_fails_its_span(
    migrated_database_url: str, exporter: InMemorySpanExporter
) -> None:
    async with traced(migrated_database_url, exporter) as (app, http):
        engine: AsyncEngine = await app.state.container.get(AsyncEngine)
        async with engine.begin() as connection:
            await connection.exec_driver_sql("ALTER TABLE comments RENAME TO comments_gone")
        body = (await http.post("/graphql", json={"query": "{ comments { totalCount } }"})).json()

    assert body["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    [operation] = operations(exporter)
    # The fast path's statement (run on the driver: no error event, so ended as
    # "unanswered" when its connection went back), then the resolvers' (its error's type).
    failed = [s for s in children(exporter, operation) if s.name == "SELECT"]
    assert [s.status.status_code for s in failed] == [StatusCode.ERROR, StatusCode.ERROR]
    errors = [(s.attributes or {})["error.type"] for s in failed]
    assert errors[0] == "unanswered"
    assert errors[1] in ("OperationalError", "ProgrammingError")
