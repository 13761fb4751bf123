"""Relations of an object that are not connections: ``Parent`` (to-one) and ``Members`` (a list)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import QueryableAttribute

from fast_query import QueryBuilder
from schema.context import Info
from schema.fastpath.plan import ObjectPlan, Relation, joined
from schema.fastpath.reads import join_to_ones, joined_name, joined_names, table_of
from schema.fastpath.run import Fallback, Row, Runner, by_parent, parent_keys
from schema.kinds.base import (
    INFO,
    ROOT,
    join_attribute,
    make_field,
    relation_trashed,
    target_of,
)
from schema.kinds.objects import ObjectRelation
from schema.rows import Rows


class Parent(ObjectRelation):
    """A to-one relation (``post.author``): batched by key, soft-deleted rows included."""

    joins_into_rows = True

    def __init__(self, foreign_key: str, model: type[Any]) -> None:
        self.parent_column = foreign_key
        self.model = model
        self.trashed = relation_trashed(to_many=False)

    def query(self, rows: Rows) -> QueryBuilder[Any]:
        """The rows this relation can reach (filtered by key when read)."""
        return rows.query(self.model, self.trashed)

    def field(self, node: Any, description: str) -> Any:
        def resolve(root: Any, info: Info) -> Any:
            loader = info.context.loaders.by_key(self.model, self.trashed)
            return loader.load(getattr(root, self.parent_column))

        return make_field(resolve, [ROOT, INFO], node, description, self)

    async def read_related(
        self, runner: Runner, item: Relation, rows: Sequence[Row], columns: Sequence[str]
    ) -> dict[Any, Any]:
        if joined_name(self.parent_column, "id") in columns and joined(item):
            # Read in the rows' own statement (``plan.joinable``; a create's
            # INSERT ... RETURNING joins nothing).
            return await self._joined(runner, item, rows, columns)
        keys = parent_keys(rows, columns, self.parent_column)
        if not keys:
            return {}
        target: ObjectPlan = item.target
        target_columns = sorted(target.columns())
        joins = target.joins()
        read_columns = [*target_columns, *joined_names(joins)]

        def build() -> tuple[Select[Any], list[str]]:
            query = self.query(runner.rows).where_key_in("id")
            statement = query.rows_statement(*target_columns)
            return join_to_ones(statement, table_of(self.model), joins, runner.rows), read_columns

        shape = ("to_one", self.model, self.trashed, tuple(read_columns))
        found, read = await runner.fetch(shape, build, {"fq_parents": keys})
        if len(found) != len(keys):
            raise Fallback("a to-one relation points at no row")
        shaped = await runner.objects(target, found, read)
        at = read.index("id")
        return {row[at]: out for row, out in zip(found, shaped, strict=True)}

    async def _joined(
        self, runner: Runner, item: Relation, rows: Sequence[Row], columns: Sequence[str]
    ) -> dict[Any, Any]:
        """The targets read in the rows' own statement (``plan.joinable``)."""
        target: ObjectPlan = item.target
        target_columns = sorted(target.columns())
        at = [columns.index(joined_name(self.parent_column, column)) for column in target_columns]
        id_at = target_columns.index("id")
        position = columns.index(self.parent_column)
        found: dict[Any, tuple[Any, ...]] = {}
        for row in rows:
            key = row[position]
            if key not in found:
                found[key] = tuple([row[index] for index in at])
        if None in found or any(values[id_at] is None for values in found.values()):
            raise Fallback("a to-one relation points at no row")
        shaped = await runner.objects(target, list(found.values()), target_columns)
        return dict(zip(found, shaped, strict=True))


class Members(ObjectRelation):
    """A plain to-many list (``user.roles``), in id order, batched per level."""

    def __init__(self, relation: QueryableAttribute[Any]) -> None:
        self.relation = relation
        self.model = target_of(relation)
        self.parent_column = join_attribute(relation)
        self.trashed = relation_trashed(to_many=True)

    def query(self, rows: Rows) -> QueryBuilder[Any]:
        return rows.query(self.model, self.trashed).order_by("id")

    def field(self, node: Any, description: str) -> Any:
        def resolve(root: Any, info: Info) -> Any:
            loaders = info.context.loaders
            loader = loaders.grouped(self.relation, "all", self.query(loaders.rows))
            return loader.load(getattr(root, self.parent_column))

        return make_field(resolve, [ROOT, INFO], list[node], description, self)

    async def read_related(
        self, runner: Runner, item: Relation, rows: Sequence[Row], columns: Sequence[str]
    ) -> dict[Any, Any]:
        parents = parent_keys(rows, columns, self.parent_column)
        if not parents:
            return {}
        target: ObjectPlan = item.target
        target_columns = sorted(target.columns())

        def build() -> tuple[Select[Any], list[str]]:
            query = self.query(runner.rows)
            statement, read = query.grouped_statement(self.relation, target_columns)
            assert read is not None
            return statement, read

        shape = ("members", self.relation, tuple(target_columns))
        found, read = await runner.fetch(shape, build, {"fq_parents": parents})
        groups = by_parent(parents, found)
        flat = [row for parent in parents for row in groups[parent]]
        shaped = iter(await runner.objects(target, flat, read))
        return {parent: [next(shaped) for _ in groups[parent]] for parent in parents}
