"""The Relay ``Node`` interface and the ``node``/``nodes`` lookups."""

from __future__ import annotations

import asyncio
from typing import Any

import strawberry

from fast_query import Trashed
from schema.context import Info
from schema.errors import UserInputError
from schema.fields import FAST_PATH, FieldSpec
from schema.ids import parse_global_id, to_global_id
from schema.resource import by_name


@strawberry.interface(description="An object with a global ID (Relay).")
class Node:
    id: strawberry.ID = strawberry.field(description="A globally unique, opaque ID.")


def node_id(type_name: str) -> Any:
    """The ``id`` field of a node type: the global ID of the row's primary key."""

    def resolve(root: Any) -> strawberry.ID:
        return strawberry.ID(to_global_id(type_name, root.id))

    return strawberry.field(
        resolver=resolve,
        description="A globally unique, opaque ID.",
        metadata={FAST_PATH: FieldSpec("node_id", object, type_name=type_name)},
    )


async def _load(info: Info, value: str, argument: str) -> Any:
    global_id = parse_global_id(value, argument)
    resource = by_name(global_id.type_name)
    if resource is None:
        return None
    loader = info.context.loaders.by_key(resource.model, Trashed.WITHOUT)
    return await loader.load(global_id.key)


async def resolve_node(info: Info, id: strawberry.ID) -> Node | None:
    return await _load(info, id, "id")  # type: ignore[no-any-return]


async def resolve_nodes(info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
    problems: dict[str, str] = {}
    for index, value in enumerate(ids):
        try:
            parse_global_id(value, f"ids.{index}")
        except UserInputError as exc:
            problems.update(exc.fields)
    if problems:
        raise UserInputError(problems)
    return list(await asyncio.gather(*(_load(info, value, "ids") for value in ids)))


node_field = strawberry.field(
    resolver=resolve_node,
    description="The object with this global ID, or null when there is none (Relay).",
)
nodes_field = strawberry.field(
    resolver=resolve_nodes,
    description="The objects with these global IDs, in order; null for each one not found.",
)
