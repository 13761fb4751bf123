"""The GraphQL schema: node types over the models, with generic queries and mutations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from graphql import GraphQLSchema, introspection_from_schema
from strawberry.schema.config import StrawberryConfig

from schema.scalars import DateTime


class Schema(strawberry.Schema):
    """Strawberry's schema, with the graphql-core schema it wraps made public.

    The fast path, validation and execution work on the graphql-core schema;
    this property is the one place that reaches for it.
    """

    @property
    def graphql_schema(self) -> GraphQLSchema:
        return self._schema


def build_schema() -> Schema:
    from schema.mutations import Mutation
    from schema.queries import Query

    return Schema(
        query=Query,
        mutation=Mutation,
        config=StrawberryConfig(scalar_map={datetime: DateTime}),
    )


def schema_sdl(schema: Schema) -> str:
    return schema.as_str() + "\n"


def introspection_json(schema: Schema) -> dict[str, Any]:
    return dict(introspection_from_schema(schema.graphql_schema))
