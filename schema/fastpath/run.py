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
from sqlalchemy import Integer, Select, bindparam
from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry import Schema
from strawberry.types.arguments import convert_arguments

from fast_query import (
    IntegrityViolation,
    QueryBuilder,
    RecordNotFound,
    Trashed,
    connection_transaction,
)
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
from schema.fastpath.reads import (
    Templates,
    join_to_ones,
    joined_name,
    joined_names,
    page_params,
    page_shape,
    paged,
    row_columns,
    static_query,
    table_of,
)
from schema.fastpath.writes import Inserts, insert_statement
from schema.fields import ConnectionArgs, FieldSpec, lookup_key
from schema.ids import to_global_id
from schema.pagination import encode_position
from schema.resource import by_model
from schema.validation import InputSpec, check_params


class Fallback(Exception):
    """The fast path cannot answer this request exactly; the resolvers will."""


Row = Any


class Runner:
    """Runs one plan for one request, on one pooled connection (no ORM session)."""

    def __init__(
        self,
        schema: Schema,
        scope: ServiceScope,
        connection: AsyncConnection,
        variables: VariableValues,
        limits: PageLimits,
        templates: Templates,
        inserts: Inserts,
    ) -> None:
        self.schema = schema
        self.graphql_schema: GraphQLSchema = schema._schema
        self.scope = scope
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

    async def _once(self, key: Hashable, read: Callable[[], Awaitable[Any]]) -> Any:
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
                if field.kind == "typename":
                    data[field.key] = plan.root_type
                    continue
                assert field.definition is not None and field.node is not None
                assert field.spec is not None
                arguments = self._arguments(field.definition, field.node)
                if field.kind == "lookup":
                    assert isinstance(field.plan, ObjectPlan)
                    data[field.key] = await self._lookup(field.plan, arguments)
                elif field.kind == "create":
                    assert isinstance(field.plan, ObjectPlan)
                    data[field.key] = await self._create(
                        field.key, field.spec, field.plan, arguments
                    )
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
        """A builder for statements only: they run on ``connection``, not on a session."""
        return QueryBuilder(model, dialect=self.dialect.name)

    async def _fetch(
        self,
        shape: Hashable | None,
        build: Callable[[], tuple[Select[Any], list[str]]],
        params: dict[str, Any],
    ) -> tuple[Sequence[Sequence[Any]], list[str]]:
        template, columns = self.templates.get(shape, self.dialect, build)
        return await template.fetch(self.connection, params), columns

    async def _queries(
        self, model: type[Any]
    ) -> tuple[Callable[[], QueryBuilder[Any]], type[Any] | None]:
        """Root fields read what the request's repository's ``query()`` gives, as resolvers do.

        Returns that ``query`` and, when it is the same for every request, the
        repository class (part of a kept statement's shape). A registered class
        with the generic ``query()`` is not even made (nor the session it would
        open); any other repository is made in the request's scope, and the
        statements built from it are not kept.
        """
        key = by_model(model).repository
        provider = self.scope.provider(key)
        if isinstance(provider, type) and static_query(provider):
            return (lambda: self._query(model)), provider
        repository = await self.scope.get(key)
        kind = type(repository)
        return repository.query, (kind if static_query(kind) else None)

    async def _lookup(self, plan: ObjectPlan, arguments: dict[str, Any]) -> Any:
        resource = by_model(plan.model)
        key = lookup_key(resource, arguments["id"])
        trashed = arguments.get("trashed")
        mode = Trashed(trashed.value) if trashed is not None else Trashed.WITHOUT
        queries, kind = await self._queries(plan.model)
        columns = sorted(plan.columns())
        joins = plan.joins()
        read = [*columns, *joined_names(joins)]

        def build() -> tuple[Select[Any], list[str]]:
            query = queries().trashed(mode)
            query = query.where(query.column("id") == bindparam("fq_key"))
            return join_to_ones(query.rows_statement(*columns), table_of(plan.model), joins), read

        shape: Hashable | None = None
        if kind is not None:
            shape = ("lookup", plan.model, kind, mode, tuple(read))
        rows, read = await self._fetch(shape, build, {"fq_key": key})
        if not rows:
            raise Fallback("not found")
        return (await self.objects(plan, rows, read))[0]

    async def _listing(self, plan: ConnectionPlan, arguments: dict[str, Any]) -> Any:
        model = plan.model
        args = ConnectionArgs.of(model, arguments, self.limits)
        queries, kind = await self._queries(model)
        columns = row_columns(sorted(plan.columns()), args.order.names)
        joins = plan.joins()
        read_columns = [*columns, *joined_names(joins)]

        def build() -> tuple[Select[Any], list[str]]:
            query = paged(args.filtered(queries()), args, model)
            statement = query.limit(bindparam("fq_limit", type_=Integer)).rows_statement(*columns)
            return join_to_ones(statement, table_of(model), joins), read_columns

        shape: Hashable | None = None
        if kind is not None:
            shape = ("listing", model, kind, page_shape(args), tuple(read_columns))
        rows, read = await self._fetch(shape, build, page_params(args))

        async def total(_index: int) -> int:
            def build_count() -> tuple[Select[Any], list[str]]:
                return args.filtered(queries()).count_statement(), ["count"]

            count_shape: Hashable | None = None
            if kind is not None:
                count_shape = ("count", model, kind, args.filter_key)
            counted, _ = await self._fetch(count_shape, build_count, {})
            return int(counted[0][0])

        return (await self.connections(plan, args, [rows], read, total))[0]

    async def _create(
        self, key: str, spec: FieldSpec, plan: ObjectPlan, arguments: dict[str, Any]
    ) -> Any:
        """One ``INSERT ... SELECT ... WHERE <row checks> RETURNING`` (see ``writes``)."""
        input_spec: InputSpec = spec.input_spec
        cleaned = await input_spec.clean(arguments["input"])
        if cleaned.problems:
            raise Fallback("invalid input")
        model = plan.model
        names = sorted(cleaned.values)
        checks = [check for _path, check in cleaned.checks]
        columns = sorted(plan.columns())
        shape = (
            model,
            tuple(names),
            tuple((check.kind, check.model, check.column) for check in checks),
            tuple(columns),
        )
        statement = self.inserts.get(shape, lambda: insert_statement(model, names, checks, columns))
        params = {f"fq_value_{name}": cleaned.values[name] for name in names}
        params.update(check_params(checks))
        try:
            async with connection_transaction(self.connection):
                rows = (await self.connection.execute(statement, params)).all()
        except IntegrityViolation as exc:  # a race the checks could not see
            raise Fallback("constraint") from exc
        if not rows:
            raise Fallback("a row check failed")
        self.created[key] = (model, rows[0][columns.index("id")])
        try:
            return (await self.objects(plan, rows, columns))[0]
        except Fallback as exc:  # written: the resolvers must not write it again
            raise RuntimeError(f"the new row's answer could not be read: {exc}") from exc

    # -- objects ----------------------------------------------------------------

    async def objects(
        self, plan: ObjectPlan, rows: Sequence[Row], columns: Sequence[str]
    ) -> list[dict[str, Any]]:
        """Shape rows (selected as ``columns``) into objects, loading each relation once."""
        related: list[dict[Any, Any]] = []
        for item in plan.fields:
            if isinstance(item, ToOne):
                related.append(await self._to_one(item, rows, columns))
            elif isinstance(item, Members):
                related.append(await self._members(item, rows, columns))
            elif isinstance(item, Children):
                related.append(await self._children(item, rows, columns))
        return shaper(plan, tuple(columns))(rows, *related)

    async def _to_one(
        self, item: ToOne, rows: Sequence[Row], columns: Sequence[str]
    ) -> dict[Any, Any]:
        position = columns.index(item.foreign_key)
        if joined_name(item.foreign_key, "id") in columns:
            return await self._joined_to_one(item, rows, columns, position)
        keys = list(dict.fromkeys(row[position] for row in rows))
        if not keys:
            return {}
        target = item.target.model
        target_columns = sorted(item.target.columns())
        joins = item.target.joins()
        read_columns = [*target_columns, *joined_names(joins)]

        def build() -> tuple[Select[Any], list[str]]:
            query = self._query(target).trashed(Trashed.WITH).where_key_in("id")
            return (
                join_to_ones(query.rows_statement(*target_columns), table_of(target), joins),
                read_columns,
            )

        shape = ("to_one", target, tuple(read_columns))
        found, read = await self._fetch(shape, build, {"fq_parents": keys})
        if len(found) != len(keys):
            raise Fallback("a to-one relation points at no row")
        shaped = await self.objects(item.target, found, read)
        at = read.index("id")
        return {row[at]: out for row, out in zip(found, shaped, strict=True)}

    async def _joined_to_one(
        self, item: ToOne, rows: Sequence[Row], columns: Sequence[str], position: int
    ) -> dict[Any, Any]:
        """The targets of a to-one relation read in the rows' own statement (``joinable``)."""
        target_columns = sorted(item.target.columns())
        at = [columns.index(joined_name(item.foreign_key, column)) for column in target_columns]
        id_at = target_columns.index("id")
        found: dict[Any, tuple[Any, ...]] = {}
        for row in rows:
            key = row[position]
            if key not in found:
                found[key] = tuple([row[index] for index in at])
        if None in found or any(target[id_at] is None for target in found.values()):
            raise Fallback("a to-one relation points at no row")
        shaped = await self.objects(item.target, list(found.values()), target_columns)
        return dict(zip(found, shaped, strict=True))

    async def _members(
        self, item: Members, rows: Sequence[Row], columns: Sequence[str]
    ) -> dict[Any, Any]:
        relation, attribute = item.spec.relation, item.spec.attribute
        assert relation is not None and attribute is not None
        position = columns.index(attribute)
        parents = list(dict.fromkeys(row[position] for row in rows))
        target = item.target.model
        target_columns = sorted(item.target.columns())

        def build() -> tuple[Select[Any], list[str]]:
            statement, read = (
                self._query(target).order_by("id").grouped_statement(relation, target_columns)
            )
            assert read is not None
            return statement, read

        shape = ("members", relation, tuple(target_columns))
        found, read = await self._fetch(shape, build, {"fq_parents": parents})
        groups = _by_parent(parents, found)
        flat = [row for parent in parents for row in groups[parent]]
        shaped = iter(await self.objects(item.target, flat, read))
        return {parent: [next(shaped) for _ in groups[parent]] for parent in parents}

    async def _children(
        self, item: Children, rows: Sequence[Row], row_columns_: Sequence[str]
    ) -> dict[Any, Any]:
        spec = item.spec
        relation, attribute = spec.relation, spec.attribute
        assert relation is not None and attribute is not None
        position = row_columns_.index(attribute)
        parents = list(dict.fromkeys(row[position] for row in rows))
        if not parents:
            return {}
        model = spec.model
        args = ConnectionArgs.of(model, self._arguments(item.definition, item.node), self.limits)
        columns = row_columns(sorted(item.connection.columns()), args.order.names)
        joins = item.connection.joins()
        joined = joined_names(joins)

        def build() -> tuple[Select[Any], list[str]]:
            query = paged(args.filtered(self._query(model)), args, model)
            limit = bindparam("fq_limit", type_=Integer)
            statement, read = query.grouped_statement(
                relation,
                columns,
                limit_per_parent=limit,
                extend=lambda statement, rows: join_to_ones(statement, rows, joins),
            )
            assert read is not None
            return statement, [*read, *joined]

        shape = ("children", relation, page_shape(args), tuple(columns), tuple(joined))
        page = page_params(args)
        found, read = await self._once(
            (shape, tuple(parents), tuple(page.items())),
            lambda: self._fetch(shape, build, {"fq_parents": parents, **page}),
        )
        groups = _by_parent(parents, found)
        counts: dict[Any, int] = {}
        if item.connection.wants_total:

            def build_count() -> tuple[Select[Any], list[str]]:
                query = args.filtered(self._query(model))
                return query.count_grouped_statement(relation), ["parent", "count"]

            count_shape = ("count_grouped", relation, args.filter_key)
            counted, _ = await self._once(
                (count_shape, tuple(parents)),
                lambda: self._fetch(count_shape, build_count, {"fq_parents": parents}),
            )
            counts = {row[0]: int(row[1]) for row in counted}

        async def total(index: int) -> int:
            return counts.get(parents[index], 0)

        shaped = await self.connections(
            item.connection, args, [groups[p] for p in parents], read, total
        )
        return dict(zip(parents, shaped, strict=True))

    # -- connections ------------------------------------------------------------

    async def connections(
        self,
        plan: ConnectionPlan,
        args: ConnectionArgs,
        fetched: list[Sequence[Row]],
        columns: Sequence[str],
        total: Callable[[int], Awaitable[int]],
    ) -> list[dict[str, Any]]:
        """Shape pages fetched with ``limit + 1`` (one per parent) into connection objects."""
        request, order = args.request, args.order
        cursors = plan.wants_cursors
        at = [columns.index(name) for name in order.names]

        def cursor(row: Row) -> str:
            return encode_position(order, [row[index] for index in at])

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
            info: dict[str, Any] = {"has_next_page": has_next, "has_previous_page": has_previous}
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
                    out[key] = self._edges(detail, page, cursor, shaped_by_plan, start)
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
        self,
        plan: Any,
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


def _by_parent(parents: Sequence[Any], rows: Sequence[Row]) -> dict[Any, list[Row]]:
    """Rows of a grouped read (the parent's key last in each), by parent."""
    groups: dict[Any, list[Row]] = {parent: [] for parent in parents}
    for row in rows:
        groups[row[-1]].append(row)
    return groups


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
            join = item.foreign_key if isinstance(item, ToOne) else item.spec.attribute
            assert join is not None
            entries.append(f"{key}: {name}[r[{position[join]}]]")
    source = (
        f"def _shape(rows, {', '.join(relations)}):\n"
        f"    return [{{{', '.join(entries)}}} for r in rows]\n"
    )
    exec(compile(source, f"<fast path shaper {plan.model.__name__}>", "exec"), namespace)
    function: Callable[..., list[dict[str, Any]]] = namespace["_shape"]
    plan.shapers[columns] = function
    return function
