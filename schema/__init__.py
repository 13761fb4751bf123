"""The GraphQL schema: node types over the models, with generic queries and mutations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from graphql import introspection_from_schema
from strawberry.schema.config import StrawberryConfig

from schema.scalars import DateTime


def build_schema() -> strawberry.Schema:
    from schema.mutations import Mutation
    from schema.queries import Query

    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        config=StrawberryConfig(scalar_map={datetime: DateTime}),
    )


def schema_sdl(schema: strawberry.Schema) -> str:
    return schema.as_str() + "\n"


def introspection_json(schema: strawberry.Schema) -> dict[str, Any]:
    return dict(introspection_from_schema(schema._schema))
