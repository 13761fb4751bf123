"""OpenTelemetry traces: a span per GraphQL request, a child span per SQL statement.

Off unless the standard ``OTEL_*`` variables turn it on (``enabled``); then
the SDK reads the rest of them itself (``OTEL_SERVICE_NAME``,
``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_TRACES_SAMPLER``, ``OTEL_BSP_*``, the
exporter's ``OTEL_EXPORTER_OTLP_*``). Off, nothing is imported from the SDK,
no listener is added to the engine, and a request pays one ``is None`` check.

Spans carry the operation's name and type and the request id, never its
variables; a statement's span carries its text, whose values are bind
parameters (placeholders), never the values.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from opentelemetry import trace
from opentelemetry.propagate import extract
from opentelemetry.trace import SpanKind, Status, StatusCode
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response

from server.errors import INTERNAL_SERVER_ERROR
from server.observability import current_request
from server.settings import SettingsError

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

SERVICE_NAME = "fast-track-graphql"
#: The instrumentation scope the spans are reported under.
TRACER_NAME = "server.tracing"
#: Where a statement's span waits, in its connection's ``info``, for the statement's end.
_SPAN = "ftf.span"


def enabled(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the ``OTEL_*`` variables ask for traces.

    The specification's default exporter is OTLP to localhost, which would
    send every server's traces nowhere useful; as most SDK-embedding servers
    do, traces are on only when an exporter or an endpoint is named:
    ``OTEL_TRACES_EXPORTER`` (other than ``none``), or
    ``OTEL_EXPORTER_OTLP_ENDPOINT`` / ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``
    (then OTLP). ``OTEL_SDK_DISABLED=true`` turns them off whatever else says.
    """
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporters = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporters:
        return exporters != "none"
    return any(
        environ.get(name, "").strip()
        for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def provider_from_env(environ: Mapping[str, str] = os.environ) -> TracerProvider | None:
    """The tracer provider the ``OTEL_*`` variables describe, batching to their exporters."""
    if not enabled(environ):
        return None
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create()
    if str(resource.attributes.get("service.name", "")).startswith("unknown_service"):
        resource = resource.merge(Resource({"service.name": SERVICE_NAME}))
    provider = TracerProvider(resource=resource)
    names = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower() or "otlp"
    for name in (part.strip() for part in names.split(",")):
        if name and name != "none":
            provider.add_span_processor(BatchSpanProcessor(_exporter(name, environ)))
    return provider


def _exporter(name: str, environ: Mapping[str, str]) -> SpanExporter:
    """An exporter by its ``OTEL_TRACES_EXPORTER`` name, from the installed packages' entry points.

    ``otlp`` is OTLP over HTTP (``http/protobuf``, the specification's default
    protocol and the exporter this project installs) unless
    ``OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL`` asks for ``grpc``.
    """
    entry = name
    if name == "otlp":
        protocol = (
            environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
            or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
            or "http/protobuf"
        ).strip()
        entry = {"http/protobuf": "otlp_proto_http", "grpc": "otlp_proto_grpc"}.get(protocol, "")
        if not entry:
            raise SettingsError(f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol!r} is not supported")
    found = entry_points(group="opentelemetry_traces_exporter", name=entry)
    if not found:
        raise SettingsError(f"OTEL_TRACES_EXPORTER={name!r}: no such exporter is installed")
    exporter_class: Callable[[], SpanExporter] = next(iter(found)).load()
    return exporter_class()


class Tracing:
    """Spans for one application, from ``provider`` (the SDK's, or a test's)."""

    def __init__(self, provider: TracerProvider) -> None:
        self.provider = provider
        self.tracer = provider.get_tracer(TRACER_NAME)

    async def operation(
        self, request: Request, handle: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """Run ``handle`` in the request's span, a child of the caller's (``traceparent``).

        Named ``query PostsPage`` (type and name) once the operation is known;
        the viewer's statement and the operation's statements are its children.
        """
        info = current_request.get()
        attributes = {} if info is None else {"ftf.request_id": info.request_id}
        with self.tracer.start_as_current_span(
            "graphql", context=extract(request.headers), kind=SpanKind.SERVER, attributes=attributes
        ) as span:
            response = await handle(request)
            span.set_attribute("http.response.status_code", response.status_code)
            if info is None:
                return response
            if info.operation_type is not None:
                span.update_name(" ".join(filter(None, (info.operation_type, info.operation))))
                span.set_attribute("graphql.operation.type", info.operation_type)
            if info.operation is not None:
                span.set_attribute("graphql.operation.name", info.operation)
            if info.answered_by is not None:
                span.set_attribute("ftf.answered_by", info.answered_by)
            if info.error_codes:
                span.set_attribute("ftf.error_codes", info.error_codes)
                if INTERNAL_SERVER_ERROR in info.error_codes:
                    span.set_status(Status(StatusCode.ERROR, INTERNAL_SERVER_ERROR))
            return response

    def instrument(self, engine: AsyncEngine) -> None:
        """A child span per statement ``engine`` runs inside a traced request (none outside).

        The span waits on its connection (which runs one statement at a time):
        the fast path's statements, run on the driver, have no execution
        context. One that failed there (no ``after_cursor_execute``) is ended
        as failed when its connection goes back to the pool.
        """
        tracer = self.tracer
        system = engine.dialect.name
        sync_engine = engine.sync_engine

        @event.listens_for(sync_engine, "before_cursor_execute")
        def _start(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if not trace.get_current_span().is_recording():
                return
            words = statement.split(None, 1)
            conn.info[_SPAN] = tracer.start_span(
                words[0].upper() if words else system,
                kind=SpanKind.CLIENT,
                attributes={"db.system.name": system, "db.query.text": statement},
            )

        @event.listens_for(sync_engine, "after_cursor_execute")
        def _end(conn: Any, *_args: Any) -> None:
            span = conn.info.pop(_SPAN, None)
            if span is not None:
                span.end()

        @event.listens_for(sync_engine, "handle_error")
        def _failed(exception_context: Any) -> None:
            conn = exception_context.connection
            if conn is not None and not conn.closed and not conn.invalidated:
                # The exception's type only: a driver's message may quote a value.
                _fail(conn.info.pop(_SPAN, None), type(exception_context.original_exception))

        @event.listens_for(sync_engine, "checkin")
        def _returned(_dbapi_connection: Any, record: Any) -> None:
            if record is not None:
                _fail(record.info.pop(_SPAN, None), None)

        @event.listens_for(sync_engine, "invalidate")
        def _invalidated(_dbapi_connection: Any, record: Any, error: BaseException | None) -> None:
            _fail(record.info.pop(_SPAN, None), None if error is None else type(error))


def _fail(span: Any, error: type[BaseException] | None) -> None:
    if span is not None:
        name = "unanswered" if error is None else error.__name__
        span.set_status(Status(StatusCode.ERROR, name))
        span.set_attribute("error.type", name)
        span.end()


def start_tracing(provider: TracerProvider | None = None) -> Tracing | None:
    """Tracing from ``provider``, else as the ``OTEL_*`` variables say; ``None`` when off."""
    provider = provider or provider_from_env()
    return None if provider is None else Tracing(provider)
