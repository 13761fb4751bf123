"""Running a plan: the kinds' statements on one connection, rows shaped straight into JSON.

The engine the field kinds run on: each kind builds its statement from the
same scoped query its resolver runs (``schema.kinds``), reading only the
columns the selection needs, as rows rather than ORM objects; this module
compiles and runs those statements, and builds the response dictionaries
directly instead of calling a resolver per field. Any input error or
missing row raises ``Fallback``: the request is then answered by the
resolvers, which report errors exactly.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any

from graphql import GraphQLField, GraphQLSchema
from graphql.execution.values import VariableValues, get_argument_values
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry import Schema
from strawberry.types.arguments import convert_arguments

from fast_query import RecordNotFound
from schema.context import PageLimits
from schema.errors import UserInputError
from schema.fastpath.plan import (
    STRAWBERRY_DEFINITION,
    ConnectionPlan,
    Constant,
    EdgePlan,
    GlobalId,
    ObjectPlan,
    OperationPlan,
    Relation,
    Scalar,
)
from schema.fastpath.reads import Templates
from schema.fastpath.writes import Inserts
from schema.ids import to_global_id
from schema.ordering import OrderSpec
from schema.pagination import PageRequest, encode_position
from schema.rows import Rows


class Fallback(Exception):
    """The fast path cannot answer this request exactly; the resolvers will."""


Row = Any


class Runner:
    """Runs one plan for one request, on one pooled connection (no ORM session)."""

    def __init__(
        self,
        schema: Schema,
        graphql_schema: GraphQLSchema,
        rows: Rows,
        connection: AsyncConnection,
        variables: VariableValues,
        limits: PageLimits,
        templates: Templates,
        inserts: Inserts,
    ) -> None:
        self.schema = schema
        self.graphql_schema = graphql_schema
        self.rows = rows
        self.connection = connection
        self.dialect = connection.dialect
        self.variables = variables
        self.limits = limits
        self.templates = templates
        self.inserts = inserts
        #: The rows a create wrote: response key -> (model, key).
        self.created: dict[str, tuple[type[Any], Any]] = {}
        # Fields asking for the same rows (aliases with equal arguments) share a read.
        self._reads: dict[Hashable, Any] = {}

    async def once(self, key: Hashable, read: Callable[[], Awaitable[Any]]) -> Any:
        """``read()``, run once per request for equal ``key``s."""
        if key not in self._reads:
            self._reads[key] = await read()
        return self._reads[key]

    async def run(self, plan: OperationPlan) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.dialect.name == "sqlite" and not plan.writes and not plan.single_read:
            # Several reads see one snapshot, as in the resolvers' session (on
            # PostgreSQL each statement sees the latest commit, in both paths).
            await self.connection.begin()
        try:
            for field in plan.fields:
                if field.kind is None:
                    data[field.key] = plan.root_type  # __typename
                else:
                    data[field.key] = await field.kind.read_root(self, field)
        except (UserInputError, RecordNotFound) as exc:
            raise Fallback(str(exc)) from exc
        return data

    def arguments(self, definition: GraphQLField, node: Any) -> dict[str, Any]:
        """A field's arguments with the request's variables, as its resolver would get them."""
        raw = get_argument_values(definition, node, self.variables)
        strawberry_field = definition.extensions[STRAWBERRY_DEFINITION]
        return convert_arguments(
            raw,
            strawberry_field.arguments,
            scalar_registry=self.schema.schema_converter.scalar_registry,
            config=self.schema.config,
        )

    async def fetch(
        self,
        shape: Hashable,
        build: Callable[[], tuple[Select[Any], list[str]]],
        params: dict[str, Any],
    ) -> tuple[Sequence[Sequence[Any]], list[str]]:
        """Run the statement ``build`` makes (compiled once per shape and row scopes)."""
        template, columns = self.templates.get((self.rows.scopes, shape), self.dialect, build)
        values = {**self.rows.params, **params} if self.rows.params else params
        return await template.fetch(self.connection, values), columns

    # -- objects ----------------------------------------------------------------

    async def objects(
        self, plan: ObjectPlan, rows: Sequence[Row], columns: Sequence[str]
    ) -> list[dict[str, Any]]:
        """Shape rows (selected as ``columns``) into objects, reading each relation once."""
        related: list[dict[Any, Any]] = []
        for item in plan.fields:
            if isinstance(item, Relation):
                related.append(await item.kind.read_related(self, item, rows, columns))
        return shaper(plan, tuple(columns))(rows, *related)

    # -- connections ------------------------------------------------------------

    async def connections(
        self,
        plan: ConnectionPlan,
        request: PageRequest,
        order: OrderSpec,
        fetched: list[Sequence[Row]],
        columns: Sequence[str],
        total: Callable[[int], Awaitable[int]],
    ) -> list[dict[str, Any]]:
        """Shape pages fetched with ``request.fetch_limit`` (one per parent) into connections."""
        cursors = plan.wants_cursors
        at = [columns.index(name) for name in order.names]

        def cursor(row: Row) -> str:
            return encode_position(order, order.sort_values([row[index] for index in at]))

        pages: list[list[Row]] = []
        infos: list[dict[str, Any]] = []
        for rows in fetched:
            window = request.window(rows)
            page = window.rows
            pages.append(page)
            info: dict[str, Any] = {
                "has_next_page": window.has_next,
                "has_previous_page": window.has_previous,
            }
            if cursors:
                info["start_cursor"] = cursor(page[0]) if page else None
                info["end_cursor"] = cursor(page[-1]) if page else None
            infos.append(info)
        flat = [row for page in pages for row in page]
        shaped_by_plan: dict[int, list[dict[str, Any]]] = {}
        for object_plan in plan.object_plans():
            shaped_by_plan[id(object_plan)] = await self.objects(object_plan, flat, columns)
        results: list[dict[str, Any]] = []
        start = 0
        for index, (page, info) in enumerate(zip(pages, infos, strict=True)):
            end = start + len(page)
            out: dict[str, Any] = {}
            for key, kind, detail in plan.outputs:
                if kind == "nodes":
                    out[key] = shaped_by_plan[id(detail)][start:end]
                elif kind == "edges":
                    out[key] = _edges(detail, page, cursor, shaped_by_plan, start)
                elif kind == "pageInfo":
                    out[key] = {
                        info_key: ("PageInfo" if attribute == "__typename" else info[attribute])
                        for info_key, attribute in detail
                    }
                elif kind == "totalCount":
                    out[key] = await total(index)
                else:
                    out[key] = detail
            results.append(out)
            start = end
        return results


def _edges(
    plan: EdgePlan,
    page: list[Row],
    cursor: Callable[[Row], str],
    shaped_by_plan: dict[int, list[dict[str, Any]]],
    start: int,
) -> list[dict[str, Any]]:
    edges: list[dict[str, Any]] = []
    for index, row in enumerate(page):
        edge: dict[str, Any] = {}
        for key, what, detail in plan.items:
            if what == "cursor":
                edge[key] = cursor(row)
            elif what == "node":
                edge[key] = shaped_by_plan[id(detail)][start + index]
            else:
                edge[key] = detail
        edges.append(edge)
    return edges


def by_parent(parents: Sequence[Any], rows: Sequence[Row]) -> dict[Any, list[Row]]:
    """Rows of a grouped read (the parent's key last in each), by parent."""
    groups: dict[Any, list[Row]] = {parent: [] for parent in parents}
    for row in rows:
        groups[row[-1]].append(row)
    return groups


def parent_keys(rows: Sequence[Row], columns: Sequence[str], column: str) -> list[Any]:
    """The distinct values of ``column`` in ``rows``, in order of appearance."""
    position = columns.index(column)
    return list(dict.fromkeys(row[position] for row in rows))


def shaper(plan: ObjectPlan, columns: tuple[str, ...]) -> Callable[..., list[dict[str, Any]]]:
    """A function shaping rows of ``columns`` into this plan's objects, compiled once.

    Generated source, one dict display per row with each value read by
    position: several times faster than interpreting the plan per field and
    row, and the shape of every object is fixed by the validated document.
    The relation maps (in the plan's order) are the extra arguments.
    """
    found = plan.shapers.get(columns)
    if found is not None:
        return found
    position = {name: index for index, name in enumerate(columns)}
    namespace: dict[str, Any] = {"_gid": to_global_id}
    entries: list[str] = []
    relations: list[str] = []
    for index, item in enumerate(plan.fields):
        key = repr(item.key)
        if isinstance(item, Scalar):
            at = position[item.column]
            if item.serialize is None:
                entries.append(f"{key}: r[{at}]")
            else:
                namespace[f"_s{index}"] = item.serialize
                entries.append(f"{key}: None if r[{at}] is None else _s{index}(r[{at}])")
        elif isinstance(item, GlobalId):
            entries.append(f"{key}: _gid({item.type_name!r}, r[{position['id']}])")
        elif isinstance(item, Constant):
            namespace[f"_c{index}"] = item.value
            entries.append(f"{key}: _c{index}")
        else:
            name = f"_rel{index}"
            relations.append(name)
            entries.append(f"{key}: {name}[r[{position[item.kind.parent_column]}]]")
    source = (
        f"def _shape(rows, {', '.join(relations)}):\n"
        f"    return [{{{', '.join(entries)}}} for r in rows]\n"
    )
    exec(compile(source, f"<fast path shaper {plan.model.__name__}>", "exec"), namespace)
    function: Callable[..., list[dict[str, Any]]] = namespace["_shape"]
    plan.shapers[columns] = function
    return function
