"""The ASGI application: ``server.app:app``, or ``create_app(settings)`` for tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.asgi import GraphQL

from schema import build_schema
from server.health import health
from server.services import build_container
from server.settings import Settings


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the application; without ``settings`` they are read from the environment at startup."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        resolved = settings or Settings.from_env()
        container = build_container(resolved)
        app.state.settings = resolved
        app.state.container = container
        try:
            yield
        finally:
            await container.aclose()

    graphql = GraphQL(build_schema())
    return Starlette(
        routes=[Route("/health", health), Route("/graphql", graphql, methods=["GET", "POST"])],
        lifespan=lifespan,
    )


app = create_app()
