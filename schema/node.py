"""The Relay ``Node`` interface and the ``node``/``nodes`` lookups."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import strawberry

from schema import roots
from schema.context import Info
from schema.errors import UserInputError
from schema.ids import parse_global_id
from schema.kinds.lookup import NodeId, NodeLookup


@strawberry.interface(description="An object with a global ID (Relay).")
class Node:
    id: strawberry.ID = strawberry.field(description="A globally unique, opaque ID.")


def node_id(type_name: str) -> Any:
    """The ``id`` field of a node type: the global ID of the row's primary key."""
    return NodeId(type_name).field()


NODE = NodeLookup()


async def resolve_node(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="A global ID of any type.")],
) -> Node | None:
    return await NODE.load(info, id, "id")  # type: ignore[no-any-return]


async def resolve_nodes(
    info: Info,
    ids: Annotated[
        list[strawberry.ID], strawberry.argument(description="Global IDs of any types, in order.")
    ],
) -> list[Node | None]:
    problems: dict[str, str] = {}
    for index, value in enumerate(ids):
        try:
            parse_global_id(value, f"ids.{index}")
        except UserInputError as exc:
            problems.update(exc.fields)
    if problems:
        raise UserInputError(problems)
    return list(await asyncio.gather(*(NODE.load(info, value, "ids") for value in ids)))


node_field = roots.query(
    strawberry.field(
        resolver=resolve_node,
        description="The object with this global ID, or null when there is none (Relay).",
    )
)
nodes_field = roots.query(
    strawberry.field(
        resolver=resolve_nodes,
        description="The objects with these global IDs, in order; null for each one not found.",
    )
)
