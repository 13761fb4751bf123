"""The ASGI application: ``server.app:app``, or ``create_app(settings)`` for tests and embedding."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from graphql import specified_rules
from graphql.validation import ASTValidationRule, NoSchemaIntrospectionCustomRule
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from schema import build_schema
from schema.limits import max_aliases_rule, max_depth_rule, max_repeats_rule
from server.graphql_http import GraphQLHTTP
from server.health import health
from server.observability import RequestLogMiddleware, configure_logging
from server.services import build_container
from server.settings import Settings

ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


#: A field with a sub-selection may repeat this often under one response key.
MAX_REPEATED_FIELDS = 50


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
    settings: Settings | None = None, *, endpoint: type[GraphQLHTTP] = GraphQLHTTP
) -> Starlette:
    """Build the application; without ``settings`` they are read from the environment at startup.

    The engine, pool and container are made when the application starts
    (ASGI lifespan) and closed when it stops, never at import. ``endpoint``
    serves ``/graphql``: a subclass may run operations its own way
    (``GraphQLHTTP.execute``).
    """
    schema = build_schema()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        resolved = settings or Settings.from_env()
        configure_logging(resolved.log_level)
        container = build_container(resolved)
        app.state.settings = resolved
        app.state.container = container
        app.state.graphql = endpoint(
            schema, resolved, container, limit_rules(resolved), validation_rules(resolved)
        )
        try:
            yield
        finally:
            await container.aclose()

    async def graphql(request: Request) -> Response:
        endpoint: GraphQLHTTP = request.app.state.graphql
        return await endpoint.handle(request)

    return Starlette(
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/graphql", graphql, methods=ALL_METHODS),
        ],
        middleware=[Middleware(RequestLogMiddleware)],
        lifespan=lifespan,
    )


app = create_app()
