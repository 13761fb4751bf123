"""The ASGI application: ``server.app:app``, or ``create_app(settings)`` for tests and embedding."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from graphql import specified_rules
from graphql.validation import ASTValidationRule, NoSchemaIntrospectionCustomRule
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from schema import build_schema
from schema.limits import max_aliases_rule, max_depth_rule, max_repeats_rule
from server import graphiql
from server.graphql_http import GraphQLHTTP
from server.health import health
from server.metrics import Metrics, metrics_endpoint
from server.observability import RequestLogMiddleware, configure_logging
from server.services import build_container
from server.settings import Settings
from server.tracing import start_tracing

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


#: A field with a sub-selection may repeat this often under one response key.
MAX_REPEATED_FIELDS = 50

#: What a browser on another origin may send (contract section 4), and read back.
CORS_METHODS = ("GET", "POST")
CORS_HEADERS = ("Authorization", "Content-Type", "Accept")
CORS_EXPOSED_HEADERS = ("X-Request-ID",)


class CORS(CORSMiddleware):
    """Starlette's ``CORSMiddleware``, with 204 for an allowed preflight (Starlette says 200 OK).

    Credentials stay off (``allow_credentials=False``): the API takes bearer
    tokens from ``Authorization`` and sets no cookies, so a browser has no
    ambient credentials to send, and ``*`` lets any site call it only with a
    token that site holds itself. ``Authorization`` is not a CORS-safelisted
    header, so it is named in ``Access-Control-Allow-Headers`` (a ``*`` there
    would not cover it). A refused preflight keeps Starlette's 400, and an
    origin that is not allowed never gets ``Access-Control-Allow-Origin``.
    """

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code != 200:
            return response
        kept = {
            name: value
            for name, value in response.headers.items()
            if name not in ("content-length", "content-type")
        }
        return Response(status_code=204, headers=kept)


def middleware(settings: Settings | None) -> list[Middleware]:
    """The request log, then CORS if ``CORS_ORIGINS`` is set (unset: no CORS middleware at all).

    The log is outermost, so every response is logged and carries
    ``X-Request-ID``, preflights that CORS answers itself included.
    """
    stack = [Middleware(RequestLogMiddleware)]
    if settings is not None and settings.cors_origins:
        stack.append(
            Middleware(
                CORS,
                allow_origins=settings.cors_origins,
                allow_methods=CORS_METHODS,
                allow_headers=CORS_HEADERS,
                expose_headers=CORS_EXPOSED_HEADERS,
            )
        )
    return stack


def limit_rules(settings: Settings) -> Sequence[type[ASTValidationRule]]:
    """The cheap limits, checked before the specification's rules (some are quadratic)."""
    return [
        max_depth_rule(settings.graphql_max_depth),
        max_aliases_rule(settings.graphql_max_aliases),
        max_repeats_rule(MAX_REPEATED_FIELDS),
    ]


def validation_rules(settings: Settings) -> Sequence[type[ASTValidationRule]]:
    rules: list[type[ASTValidationRule]] = list(specified_rules)
    if not settings.introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    return rules


def create_app(
    settings: Settings | None = None,
    *,
    endpoint: type[GraphQLHTTP] = GraphQLHTTP,
    tracer_provider: TracerProvider | None = None,
) -> Starlette:
    """Build the application; without ``settings`` they are read from the environment at startup.

    The engine, pool and container are made when the application starts
    (ASGI lifespan) and closed when it stops, never at import. ``endpoint``
    serves ``/graphql``: a subclass may run operations its own way
    (``GraphQLHTTP.execute``). Traces go to ``tracer_provider`` (a test's),
    else where the ``OTEL_*`` variables say, else nowhere (``server.tracing``).
    """
    schema = build_schema()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        resolved = settings or Settings.from_env()
        configure_logging(resolved.log_level)
        if settings is None:
            # Starlette built its middleware for this first (lifespan) message, before
            # the settings were read: built again, as they say, by the first request.
            app.user_middleware = middleware(resolved)
            app.middleware_stack = None
        container = build_container(resolved)
        app.state.settings = resolved
        app.state.container = container
        tracing = start_tracing(tracer_provider)
        app.state.graphql = endpoint(
            schema,
            resolved,
            container,
            limit_rules(resolved),
            validation_rules(resolved),
            tracing=tracing,
        )
        metrics = Metrics.from_env(token=resolved.metrics_token) if resolved.metrics else None
        app.state.metrics = metrics  # read by the request log's middleware
        if metrics is not None or tracing is not None:
            engine = await container.get(AsyncEngine)
            if metrics is not None:
                metrics.start(engine)
            if tracing is not None:
                tracing.instrument(engine)
        try:
            yield
        finally:
            if metrics is not None:
                metrics.stop()
            if tracing is not None and tracer_provider is None:
                tracing.provider.shutdown()  # flushes the spans still batched
            await container.aclose()

    async def graphql(request: Request) -> Response:
        endpoint: GraphQLHTTP = request.app.state.graphql
        return await endpoint.handle(request)

    return Starlette(
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
            Route("/graphql", graphql, methods=ALL_METHODS),
            Route(f"/{graphiql.PREFIX}/{{version}}/{{name}}", graphiql.asset, methods=["GET"]),
        ],
        middleware=middleware(settings),
        lifespan=lifespan,
    )


app = create_app()
