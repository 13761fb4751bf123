"""One row by its ID: ``Lookup`` (``user(id:)``), ``NodeLookup`` (``node(id:)``), ``NodeId``."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import strawberry
from graphql import FieldNode, GraphQLField
from sqlalchemy import Select, bindparam

from fast_query import QueryBuilder, RecordNotFound, Trashed
from schema.context import Info
from schema.fastpath.plan import GlobalId, ObjectField, ObjectPlan, Planner, RootField
from schema.fastpath.reads import join_to_ones, joined_names, table_of
from schema.fastpath.run import Fallback, Runner
from schema.ids import parse_global_id, to_global_id
from schema.kinds.base import (
    FAST_PATH,
    INFO,
    REQUIRED,
    FieldKind,
    argument,
    lookup_key,
    make_field,
    trashed_argument,
    trashed_mode,
)
from schema.kinds.objects import ObjectRoot
from schema.resource import Resource, by_name
from schema.rows import Rows


class Lookup(ObjectRoot):
    """``user(id: ID!, trashed: Trashed = WITHOUT): User``: one row, or NOT_FOUND."""

    looks_up = True

    def __init__(self, resource: Resource[Any]) -> None:
        self.resource = resource
        self.model = resource.model

    def query(self, rows: Rows, key: Any, trashed: Trashed) -> QueryBuilder[Any]:
        """The row with primary key ``key`` (a value, or a bind parameter) the request sees."""
        query = rows.query(self.model, trashed)
        return query.where(query.column("id") == key)

    def field(self, node: Any, description: str) -> Any:
        async def resolve(info: Info, id: str, trashed: Any = None) -> Any:
            key = lookup_key(self.resource, id)
            row = await self.query(info.context.loaders.rows, key, trashed_mode(trashed)).first()
            if row is None:
                raise RecordNotFound(self.resource.type_name, id)
            return row

        parameters = [INFO, argument("id", strawberry.ID, "The global ID.", REQUIRED)]
        if self.resource.soft_deletes:
            parameters.append(trashed_argument())
        return make_field(resolve, parameters, node | None, description, self)

    async def read_root(self, runner: Runner, field: RootField) -> Any:
        assert field.definition is not None and isinstance(field.plan, ObjectPlan)
        arguments = runner.arguments(field.definition, field.node)
        key = lookup_key(self.resource, arguments["id"])
        found = await self.read_one(runner, field.plan, key, trashed_mode(arguments.get("trashed")))
        if found is None:
            raise Fallback("not found")
        return found

    async def read_one(self, runner: Runner, plan: ObjectPlan, key: Any, mode: Trashed) -> Any:
        """The row with primary key ``key``, shaped as ``plan`` asks; ``None`` when unseen."""
        columns = sorted(plan.columns())
        joins = plan.joins()
        read = [*columns, *joined_names(joins)]

        def build() -> tuple[Select[Any], list[str]]:
            query = self.query(runner.rows, bindparam("fq_key"), mode)
            statement = query.limit(1).rows_statement(*columns)
            return join_to_ones(statement, table_of(self.model), joins, runner.rows), read

        shape: Hashable = ("lookup", self.model, mode, tuple(read))
        rows, read = await runner.fetch(shape, build, {"fq_key": key})
        if not rows:
            return None
        return (await runner.objects(plan, rows, read))[0]


class NodeLookup(FieldKind):
    """``node(id:)``/``nodes(ids:)``: any type's row by global ID; ``null`` when not seen (Relay).

    Soft-deleted rows count as not found, as Relay's refetching expects.
    """

    trashed = Trashed.WITHOUT

    async def load(self, info: Info, value: str, argument_path: str) -> Any:
        global_id = parse_global_id(value, argument_path)
        resource = by_name(global_id.type_name)
        if resource is None:
            return None
        loader = info.context.loaders.by_key(resource.model, self.trashed)
        return await loader.load(global_id.key)


class NodeId(FieldKind):
    """The ``id`` field of a node type: the global ID of the row's primary key."""

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name
        self.model = object

    def field(self) -> Any:
        type_name = self.type_name

        def resolve(root: Any) -> strawberry.ID:
            return strawberry.ID(to_global_id(type_name, root.id))

        return strawberry.field(
            resolver=resolve,
            description="A globally unique, opaque ID.",
            metadata={FAST_PATH: self},
        )

    def plan_field(
        self, planner: Planner, key: str, definition: GraphQLField, nodes: list[FieldNode]
    ) -> ObjectField:
        return GlobalId(key, self.type_name)
