"""Connections: ``Listing`` (``users(...)``) and ``Children`` (``user.posts(...)``).

Both read the rows their filter matches, in the order asked, one page at a
time (``PageRequest``: the ``+1`` row, the slicing, ``pageInfo`` and the
cursors are written there once); a listing pages one list, children page
every parent of a level in one grouped statement.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from graphql import FieldNode, GraphQLField, GraphQLObjectType
from sqlalchemy import BindParameter, ColumnElement, Integer, Select, bindparam
from sqlalchemy.orm import QueryableAttribute

from fast_query import QueryBuilder, Trashed
from schema.context import Info, PageLimits
from schema.fastpath.plan import (
    ConnectionPlan,
    ObjectField,
    Planner,
    Relation,
    RootField,
    object_type,
)
from schema.fastpath.reads import join_to_ones, joined_names, row_columns, table_of
from schema.fastpath.run import Row, Runner, by_parent, parent_keys
from schema.filters import filter_condition, filter_key
from schema.kinds.base import (
    INFO,
    ROOT,
    FieldKind,
    argument,
    join_attribute,
    make_field,
    relation_trashed,
    target_of,
    trashed_argument,
    trashed_mode,
)
from schema.ordering import OrderSpec
from schema.pagination import Connection, PageRequest, fetch_connection
from schema.resource import Resource, type_names
from schema.rows import Rows


@dataclass(frozen=True, slots=True)
class ConnectionArgs:
    """A connection's arguments, validated: filter, order, page and trashed mode."""

    model: type[Any]
    where: Any
    condition: ColumnElement[bool] | None
    order: OrderSpec
    request: PageRequest
    trashed: Trashed

    @classmethod
    def of(
        cls,
        model: type[Any],
        arguments: dict[str, Any],
        limits: PageLimits,
        rows: Rows,
        default_trashed: Trashed = Trashed.WITHOUT,
    ) -> ConnectionArgs:
        order = OrderSpec.of(arguments.get("order_by")).seen_as(rows.seen(model))
        request = PageRequest.of(
            first=arguments.get("first"),
            after=arguments.get("after"),
            last=arguments.get("last"),
            before=arguments.get("before"),
            order=order,
            model=model,
            limits=limits,
        )
        where = arguments.get("where")
        condition = filter_condition(
            model, where, type_names=type_names(), scopes=rows.scopes, limits=limits.filters
        )
        given = arguments.get("trashed")
        trashed = default_trashed if given is None else trashed_mode(given)
        return cls(model, where, condition, order, request, trashed)

    def filtered(self, rows: Rows) -> QueryBuilder[Any]:
        """The rows that count (the request's, the filter's, the trashed mode's), not yet paged."""
        query = rows.query(self.model, self.trashed)
        return query if self.condition is None else query.where(self.condition)

    @property
    def filter_key(self) -> Hashable:
        return (filter_key(self.where), self.trashed)

    @property
    def page_key(self) -> Hashable:
        return (self.filter_key, self.order.signature, self.request.key())

    # -- the fast path's statement templates --------------------------------------

    def paged_template(self, rows: Rows) -> QueryBuilder[Any]:
        """``filtered`` in fetch order, bounded by cursor placeholders (``page_params``)."""
        request = self.request
        names = self.order.names

        def position(prefix: str, values: tuple[Any, ...] | None) -> tuple[Any, ...] | None:
            if values is None:
                return None
            return tuple(
                bindparam(f"fq_{prefix}_{index}", type_=getattr(self.model, name).type)
                for index, name in enumerate(names)
            )

        limit: BindParameter[Any] = bindparam("fq_limit", type_=Integer)
        placeholders = PageRequest(
            limit,  # type: ignore[arg-type]
            request.forward,
            position("after", request.after),
            position("before", request.before),
        )
        return placeholders.apply(self.filtered(rows), self.order)

    def page_params(self) -> dict[str, Any]:
        """The values ``paged_template``'s placeholders take."""
        request = self.request
        params: dict[str, Any] = {"fq_limit": request.fetch_limit}
        for prefix, values in (("after", request.after), ("before", request.before)):
            for index, value in enumerate(values or ()):
                params[f"fq_{prefix}_{index}"] = value
        return params

    @property
    def page_shape(self) -> Hashable:
        """What about a page changes its SQL: filter, trashed mode, order, direction, cursors."""
        request = self.request
        return (
            self.filter_key,
            self.order.signature,
            request.forward,
            request.after is not None,
            request.before is not None,
        )


def page_arguments(filter_type: Any, order_type: Any, trashed: bool) -> list[Any]:
    arguments = [
        argument("first", int | None, "Return the first n rows (after `after`)."),
        argument("after", str | None, "Start after the row with this cursor."),
        argument("last", int | None, "Return the last n rows (before `before`)."),
        argument("before", str | None, "End before the row with this cursor."),
        argument("where", filter_type | None, "Only rows that match."),
        argument("order_by", list[order_type] | None, "Sort keys in turn; `id` breaks ties."),
    ]
    if trashed:
        arguments.append(trashed_argument())
    return arguments


class Listing(FieldKind):
    """``users(first, after, last, before, where, orderBy, trashed)``: a root connection."""

    def __init__(self, resource: Resource[Any]) -> None:
        self.resource = resource
        self.model = resource.model

    def field(self, node: Any, filter_type: Any, order_type: Any, description: str) -> Any:
        async def resolve(info: Info, **arguments: Any) -> Connection[Any]:
            rows = info.context.loaders.rows
            args = ConnectionArgs.of(self.model, arguments, info.context.limits, rows)
            return await fetch_connection(args.filtered(rows), args.order, args.request)

        parameters = [INFO, *page_arguments(filter_type, order_type, self.resource.soft_deletes)]
        return make_field(resolve, parameters, Connection[node], description, self)

    def plan_root(
        self, planner: Planner, type_: GraphQLObjectType, nodes: list[FieldNode]
    ) -> ConnectionPlan:
        return planner.connection(type_, self.model, nodes)

    async def read_root(self, runner: Runner, field: RootField) -> Any:
        assert field.definition is not None and isinstance(field.plan, ConnectionPlan)
        plan = field.plan
        arguments = runner.arguments(field.definition, field.node)
        args = ConnectionArgs.of(self.model, arguments, runner.limits, runner.rows)
        columns = row_columns(sorted(plan.columns()), args.order.names)
        joins = plan.joins()
        read_columns = [*columns, *joined_names(joins)]

        def build() -> tuple[Select[Any], list[str]]:
            query = args.paged_template(runner.rows).limit(bindparam("fq_limit", type_=Integer))
            statement = query.rows_statement(*columns)
            return join_to_ones(statement, table_of(self.model), joins, runner.rows), read_columns

        shape = ("listing", self.model, args.page_shape, tuple(read_columns))
        rows, read = await runner.fetch(shape, build, args.page_params())

        async def total(_index: int) -> int:
            def build_count() -> tuple[Select[Any], list[str]]:
                return args.filtered(runner.rows).count_statement(), ["count"]

            count_shape = ("count", self.model, args.filter_key)
            counted, _ = await runner.fetch(count_shape, build_count, {})
            return int(counted[0][0])

        pages = await runner.connections(plan, args.request, args.order, [rows], read, total)
        return pages[0]


class Children(FieldKind):
    """``user.posts(first, ..., where, orderBy)``: a connection paged per parent.

    All parents of one level share one statement that pages each parent on
    its own, and one grouped count when ``totalCount`` is asked.
    """

    def __init__(self, relation: QueryableAttribute[Any], *, trashed_argument: bool) -> None:
        self.relation = relation
        self.model = target_of(relation)
        self.parent_column = join_attribute(relation)
        self.trashed = relation_trashed(to_many=True)
        self.trashed_argument = trashed_argument

    def arguments(
        self, arguments: dict[str, Any], limits: PageLimits, rows: Rows
    ) -> ConnectionArgs:
        return ConnectionArgs.of(self.model, arguments, limits, rows, self.trashed)

    def field(self, node: Any, filter_type: Any, order_type: Any, description: str) -> Any:
        async def resolve(root: Any, info: Info, **arguments: Any) -> Connection[Any]:
            loaders = info.context.loaders
            args = self.arguments(arguments, info.context.limits, loaders.rows)
            query = args.filtered(loaders.rows)
            parent = getattr(root, self.parent_column)
            page = args.request.apply(query, args.order)
            rows = await loaders.grouped(
                self.relation, args.page_key, page, args.request.fetch_limit
            ).load(parent)

            def count_rows() -> Any:
                return loaders.grouped_count(self.relation, args.filter_key, query).load(parent)

            return args.request.connection(rows, args.order, count_rows)

        parameters = [
            ROOT,
            INFO,
            *page_arguments(filter_type, order_type, self.trashed_argument),
        ]
        return make_field(resolve, parameters, Connection[node], description, self)

    def plan_field(
        self, planner: Planner, key: str, definition: GraphQLField, nodes: list[FieldNode]
    ) -> ObjectField:
        connection = planner.connection(object_type(definition), self.model, nodes)
        return Relation(key, self, definition, nodes[0], connection)

    async def read_related(
        self, runner: Runner, item: Relation, rows: Sequence[Row], columns: Sequence[str]
    ) -> dict[Any, Any]:
        parents = parent_keys(rows, columns, self.parent_column)
        if not parents:
            return {}
        plan: ConnectionPlan = item.target
        args = self.arguments(
            runner.arguments(item.definition, item.node), runner.limits, runner.rows
        )
        read_columns = row_columns(sorted(plan.columns()), args.order.names)
        joins = plan.joins()
        joined = joined_names(joins)

        def build() -> tuple[Select[Any], list[str]]:
            statement, read = args.paged_template(runner.rows).grouped_statement(
                self.relation,
                read_columns,
                limit_per_parent=bindparam("fq_limit", type_=Integer),
                extend=lambda statement, rows: join_to_ones(statement, rows, joins, runner.rows),
            )
            assert read is not None
            return statement, [*read, *joined]

        shape = ("children", self.relation, args.page_shape, tuple(read_columns), tuple(joined))
        page = args.page_params()
        found, read = await runner.once(
            (shape, tuple(parents), tuple(page.items())),
            lambda: runner.fetch(shape, build, {"fq_parents": parents, **page}),
        )
        groups = by_parent(parents, found)
        counts: dict[Any, int] = {}
        if plan.wants_total:

            def build_count() -> tuple[Select[Any], list[str]]:
                query = args.filtered(runner.rows)
                return query.count_grouped_statement(self.relation), ["parent", "count"]

            count_shape = ("count_grouped", self.relation, args.filter_key)
            counted, _ = await runner.once(
                (count_shape, tuple(parents)),
                lambda: runner.fetch(count_shape, build_count, {"fq_parents": parents}),
            )
            counts = {row[0]: int(row[1]) for row in counted}

        async def total(index: int) -> int:
            return counts.get(parents[index], 0)

        shaped = await runner.connections(
            plan, args.request, args.order, [groups[p] for p in parents], read, total
        )
        return dict(zip(parents, shaped, strict=True))
