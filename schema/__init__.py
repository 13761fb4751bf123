"""The GraphQL schema."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import introspection_from_schema


@strawberry.type
class Query:
    api_version: str = strawberry.field(default="0.1.0", description="The API version.")


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(query=Query)


def schema_sdl(schema: strawberry.Schema) -> str:
    return schema.as_str() + "\n"


def introspection_json(schema: strawberry.Schema) -> dict[str, Any]:
    return dict(introspection_from_schema(schema._schema))
