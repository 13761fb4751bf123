"""The GraphQL schema: node types over the models, with generic queries and mutations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from graphql import GraphQLSchema, introspection_from_schema
from strawberry.schema.config import StrawberryConfig

from fast_query import BaseRepository
from schema.scalars import DateTime


class Schema(strawberry.Schema):
    """Strawberry's schema, with the graphql-core schema it wraps made public.

    The fast path, validation and execution work on the graphql-core schema;
    this property is the one place that reaches for it.
    """

    @property
    def graphql_schema(self) -> GraphQLSchema:
        return self._schema


def build_schema(query: type | None = None, mutation: type | None = None) -> Schema:
    """The schema of ``Query`` and ``Mutation`` (or the roots given), its registrations checked:
    a node type or relation with none fails here, at start-up, naming it."""
    from schema.mutations import Mutation
    from schema.queries import Query
    from schema.registrations import check_registrations

    schema = Schema(
        query=query or Query,
        mutation=mutation or Mutation,
        config=StrawberryConfig(scalar_map={datetime: DateTime}),
    )
    check_registrations(schema.graphql_schema)
    return schema


def node_repositories() -> tuple[type[BaseRepository[Any]], ...]:
    """The repository of every node type: the type modules register them (``register``) as the
    root types import them, so the container needs no list of its own."""
    from schema import mutations, queries  # noqa: F401
    from schema.resource import resources

    return tuple(resource.repository for resource in resources())


def schema_sdl(schema: Schema) -> str:
    return schema.as_str() + "\n"


def introspection_json(schema: Schema) -> dict[str, Any]:
    return dict(introspection_from_schema(schema.graphql_schema))
