"""Columns a rule decides: ``MaskedColumn`` (``User.email``) and ``ViewerCan``."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import FieldNode, GraphQLField

from schema.context import Info
from schema.fastpath.plan import ObjectField, Planner, Scalar
from schema.kinds.base import FAST_PATH, FieldKind
from schema.resource import Resource


class MaskedColumn(FieldKind):
    """A column some viewers see as ``null`` (the repository's ``masks``).

    The fast path selects it as the scopes mask it (``Scopes.column``, a
    ``CASE``); the resolvers apply the same rule to the loaded row in Python.
    """

    def __init__(self, model: type[Any], name: str) -> None:
        self.model = model
        self.name = name

    def field(self, description: str) -> Any:
        model, name = self.model, self.name

        def resolve(root: Any, info: Info) -> str | None:
            rows = info.context.loaders.rows
            value: str | None = rows.scopes.value(model, name, root, rows.params)
            return value

        return strawberry.field(
            resolver=resolve, description=description, metadata={FAST_PATH: self}
        )

    def plan_field(
        self, planner: Planner, key: str, definition: GraphQLField, nodes: list[FieldNode]
    ) -> ObjectField:
        return Scalar(key, self.name, None)


class ViewerCan(FieldKind):
    """``viewerCanUpdate``/``viewerCanDelete``: whether that write of the row would be allowed.

    Batched: one statement per type and level evaluates the repository's rule
    (``can_update``/``can_delete``) for every row the level shows.
    """

    def __init__(self, resource: Resource[Any], action: str) -> None:
        self.resource = resource
        self.model = resource.model
        self.action = action

    def field(self, description: str) -> Any:
        resource, action = self.resource, self.action

        async def resolve(root: Any, info: Info) -> bool:
            loader = info.context.loaders.permissions(resource.model)
            allowed: dict[str, bool] = await loader.load(root.id)
            return allowed[action]

        return strawberry.field(
            resolver=resolve, description=description, metadata={FAST_PATH: self}
        )

    def plan_field(
        self, planner: Planner, key: str, definition: GraphQLField, nodes: list[FieldNode]
    ) -> ObjectField:
        # A computed column of the rows' own statement (``resource.VIEWER_CAN``); SQLite
        # answers a condition as 0 or 1.
        return Scalar(key, f"viewer_can_{self.action}", bool)
