"""Running a plan: one statement per relation and level, rows shaped straight into JSON.

The same queries the resolvers run (the builders of ``schema.fields``), but
reading only the columns the selection needs, as rows rather than ORM
objects, and building the response dictionaries directly instead of calling
a resolver per field. Any input error or missing row raises ``Fallback``: the
request is then answered by the resolvers, which report errors exactly.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any

from graphql import GraphQLField, GraphQLSchema
from graphql.execution.values import VariableValues, get_argument_values
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import Schema
from strawberry.types.arguments import convert_arguments

from fast_query import QueryBuilder, RecordNotFound, Trashed
from schema.context import PageLimits, ServiceScope
from schema.errors import UserInputError
from schema.fastpath.plan import (
    STRAWBERRY_DEFINITION,
    Children,
    ConnectionPlan,
    Constant,
    GlobalId,
    Members,
    ObjectPlan,
    OperationPlan,
    Scalar,
    ToOne,
)
from schema.fields import ConnectionArgs, lookup_key
from schema.ids import to_global_id
from schema.pagination import encode_cursor
from schema.resource import by_model


class Fallback(Exception):
    """The fast path cannot answer this request exactly; the resolvers will."""


Row = Any
CountRows = Callable[[], Awaitable[int]]


class Runner:
    """Runs one plan for one request, on the request's session."""

    def __init__(
        self,
        schema: Schema,
        scope: ServiceScope,
        session: AsyncSession,
        variables: VariableValues,
        limits: PageLimits,
    ) -> None:
        self.schema = schema
        self.graphql_schema: GraphQLSchema = schema._schema
        self.scope = scope
        self.session = session
        self.variables = variables
        self.limits = limits
        # Fields asking for the same rows (aliases with equal arguments) share a read.
        self._reads: dict[Hashable, Any] = {}

    async def _once(self, key: Hashable, read: Callable[[], Awaitable[Any]]) -> Any:
        if key not in self._reads:
            self._reads[key] = await read()
        return self._reads[key]

    async def run(self, plan: OperationPlan) -> dict[str, Any]:
        data: dict[str, Any] = {}
        try:
            for field in plan.fields:
                if field.kind == "typename":
                    data[field.key] = "Query"
                    continue
                assert field.definition is not None and field.node is not None
                assert field.spec is not None
                arguments = self._arguments(field.definition, field.node)
                if field.kind == "lookup":
                    assert isinstance(field.plan, ObjectPlan)
                    data[field.key] = await self._lookup(field.plan, arguments)
                else:
                    assert isinstance(field.plan, ConnectionPlan)
                    data[field.key] = await self._listing(field.plan, arguments)
        except (UserInputError, RecordNotFound) as exc:
            raise Fallback(str(exc)) from exc
        return data

    def _arguments(self, definition: GraphQLField, node: Any) -> dict[str, Any]:
        raw = get_argument_values(definition, node, self.variables)
        strawberry_field = definition.extensions[STRAWBERRY_DEFINITION]
        return convert_arguments(
            raw,
            strawberry_field.arguments,
            scalar_registry=self.schema.schema_converter.scalar_registry,
            config=self.schema.config,
        )

    def _query(self, model: type[Any]) -> QueryBuilder[Any]:
        return QueryBuilder(model, self.session)

    async def _root_query(self, model: type[Any]) -> QueryBuilder[Any]:
        """A root field reads through the request's repository, as its resolver does."""
        repository = await self.scope.get(by_model(model).repository)
        return repository.query()

    async def _lookup(self, plan: ObjectPlan, arguments: dict[str, Any]) -> Any:
        resource = by_model(plan.model)
        key = lookup_key(resource, arguments["id"])
        trashed = arguments.get("trashed")
        mode = Trashed(trashed.value) if trashed is not None else Trashed.WITHOUT
        query = (await self._root_query(plan.model)).trashed(mode).where_in("id", [key])
        rows = await query.rows(*sorted(plan.columns()))
        if not rows:
            raise Fallback("not found")
        return (await self.objects(plan, rows))[0]

    async def _listing(self, plan: ConnectionPlan, arguments: dict[str, Any]) -> Any:
        args = ConnectionArgs.of(plan.model, arguments, self.limits)
        query = args.filtered(await self._root_query(plan.model))
        columns = plan.columns() | set(args.order.names)
        rows = await args.paged(query).limit(args.request.limit + 1).rows(*sorted(columns))
        return (await self.connections(plan, args, [rows], [query.count]))[0]

    # -- objects ----------------------------------------------------------------

    async def objects(self, plan: ObjectPlan, rows: Sequence[Row]) -> list[dict[str, Any]]:
        """Shape rows into response objects, loading each relation once for all of them."""
        related: dict[str, dict[Any, Any]] = {}
        for item in plan.fields:
            if isinstance(item, ToOne):
                related[item.key] = await self._to_one(item, rows)
            elif isinstance(item, Members):
                related[item.key] = await self._members(item, rows)
            elif isinstance(item, Children):
                related[item.key] = await self._children(item, rows)
        shaped: list[dict[str, Any]] = []
        for row in rows:
            out: dict[str, Any] = {}
            for item in plan.fields:
                if isinstance(item, Scalar):
                    value = getattr(row, item.column)
                    out[item.key] = (
                        item.serialize(value) if item.serialize and value is not None else value
                    )
                elif isinstance(item, GlobalId):
                    out[item.key] = to_global_id(item.type_name, row.id)
                elif isinstance(item, Constant):
                    out[item.key] = item.value
                elif isinstance(item, ToOne):
                    out[item.key] = related[item.key][getattr(row, item.foreign_key)]
                else:
                    assert item.spec.attribute is not None
                    out[item.key] = related[item.key][getattr(row, item.spec.attribute)]
            shaped.append(out)
        return shaped

    async def _to_one(self, item: ToOne, rows: Sequence[Row]) -> dict[Any, Any]:
        keys = list(dict.fromkeys(getattr(row, item.foreign_key) for row in rows))
        if not keys:
            return {}
        query = self._query(item.target.model).trashed(Trashed.WITH).where_in("id", keys)
        found = await query.rows(*sorted(item.target.columns()))
        if len(found) != len(keys):
            raise Fallback("a to-one relation points at no row")
        shaped = await self.objects(item.target, found)
        return {row.id: out for row, out in zip(found, shaped, strict=True)}

    async def _members(self, item: Members, rows: Sequence[Row]) -> dict[Any, Any]:
        assert item.spec.relation is not None and item.spec.attribute is not None
        parents = list(dict.fromkeys(getattr(row, item.spec.attribute) for row in rows))
        query = self._query(item.target.model).order_by("id")
        groups = await query.rows_grouped(
            item.spec.relation, parents, sorted(item.target.columns())
        )
        flat = [row for parent in parents for row in groups[parent]]
        shaped = iter(await self.objects(item.target, flat))
        return {parent: [next(shaped) for _ in groups[parent]] for parent in parents}

    async def _children(self, item: Children, rows: Sequence[Row]) -> dict[Any, Any]:
        spec = item.spec
        relation, attribute = spec.relation, spec.attribute
        assert relation is not None and attribute is not None
        parents = list(dict.fromkeys(getattr(row, attribute) for row in rows))
        if not parents:
            return {}
        arguments = self._arguments(item.definition, item.node)
        args = ConnectionArgs.of(spec.model, arguments, self.limits)
        query = args.filtered(self._query(spec.model))
        columns = sorted(item.connection.columns() | set(args.order.names))
        groups = await self._once(
            ("rows", relation, args.page_key, tuple(parents), tuple(columns)),
            lambda: args.paged(query).rows_grouped(
                relation, parents, columns, limit_per_parent=args.request.limit + 1
            ),
        )
        counts: dict[Any, int] | None = None
        if item.connection.wants_total:
            counts = await self._once(
                ("count", relation, args.filter_key, tuple(parents)),
                lambda: query.count_grouped(relation, parents),
            )

        def count_of(parent: Any) -> CountRows:
            async def count() -> int:
                assert counts is not None
                return counts[parent]

            return count

        shaped = await self.connections(
            item.connection, args, [groups[p] for p in parents], [count_of(p) for p in parents]
        )
        return dict(zip(parents, shaped, strict=True))

    # -- connections ------------------------------------------------------------

    async def connections(
        self,
        plan: ConnectionPlan,
        args: ConnectionArgs,
        fetched: list[Sequence[Row]],
        counts: list[CountRows],
    ) -> list[dict[str, Any]]:
        """Shape pages fetched with ``limit + 1`` (one per parent) into connection objects."""
        request, order = args.request, args.order
        pages: list[list[Row]] = []
        infos: list[dict[str, Any]] = []
        for rows in fetched:
            more = len(rows) > request.limit
            page = list(rows[: request.limit])
            if not request.forward:
                page.reverse()
            has_next, has_previous = (
                (more, request.after is not None)
                if request.forward
                else (request.before is not None, more)
            )
            pages.append(page)
            infos.append(
                {
                    "has_next_page": has_next,
                    "has_previous_page": has_previous,
                    "start_cursor": encode_cursor(order, page[0]) if page else None,
                    "end_cursor": encode_cursor(order, page[-1]) if page else None,
                }
            )
        flat = [row for page in pages for row in page]
        shaped_by_plan: dict[int, list[dict[str, Any]]] = {}
        for object_plan in plan.object_plans():
            shaped_by_plan[id(object_plan)] = await self.objects(object_plan, flat)
        results: list[dict[str, Any]] = []
        start = 0
        for page, info, count in zip(pages, infos, counts, strict=True):
            end = start + len(page)
            out: dict[str, Any] = {}
            for key, kind, detail in plan.outputs:
                if kind == "nodes":
                    out[key] = shaped_by_plan[id(detail)][start:end]
                elif kind == "edges":
                    out[key] = self._edges(detail, page, order, shaped_by_plan, start)
                elif kind == "pageInfo":
                    out[key] = {
                        info_key: ("PageInfo" if attribute == "__typename" else info[attribute])
                        for info_key, attribute in detail
                    }
                elif kind == "totalCount":
                    out[key] = await count()
                else:
                    out[key] = detail
            results.append(out)
            start = end
        return results

    def _edges(
        self,
        plan: Any,
        page: list[Row],
        order: Any,
        shaped_by_plan: dict[int, list[dict[str, Any]]],
        start: int,
    ) -> list[dict[str, Any]]:
        edges: list[dict[str, Any]] = []
        for index, row in enumerate(page):
            edge: dict[str, Any] = {}
            for key, what, detail in plan.items:
                if what == "cursor":
                    edge[key] = encode_cursor(order, row)
                elif what == "node":
                    edge[key] = shaped_by_plan[id(detail)][start + index]
                else:
                    edge[key] = detail
            edges.append(edge)
        return edges
