"""Generic fields: lookups, connections and relations, configured per node type.

Each factory returns a Strawberry field whose resolver signature (the GraphQL
arguments) is built from the types it is given, so a node type's module
declares its fields in a line each instead of writing resolvers.
"""

from __future__ import annotations

import enum
import inspect
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Annotated, Any

import strawberry
from sqlalchemy import ColumnElement
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import QueryableAttribute, RelationshipProperty

from fast_query import QueryBuilder, RecordNotFound, Trashed
from schema.context import Info, PageLimits
from schema.filters import filter_condition, filter_key
from schema.ids import parse_global_id
from schema.ordering import OrderSpec
from schema.pagination import Connection, PageRequest, fetch_connection
from schema.resource import Resource, type_names


@strawberry.enum(name="Trashed", description="Which soft-deleted rows to include.")
class TrashedFilter(enum.Enum):
    WITHOUT = "without"
    WITH = "with"
    ONLY = "only"


def _trashed(value: Any) -> Trashed:
    return Trashed(value.value) if isinstance(value, TrashedFilter) else Trashed.WITHOUT


_P = inspect.Parameter
ROOT = _P("root", _P.POSITIONAL_OR_KEYWORD)
INFO = _P("info", _P.POSITIONAL_OR_KEYWORD, annotation=Info)
#: The default of an argument that has none (a required argument).
REQUIRED: Any = _P.empty


def argument(name: str, annotation: Any, description: str, default: Any = strawberry.UNSET) -> _P:
    return _P(
        name,
        _P.KEYWORD_ONLY,
        annotation=Annotated[annotation, strawberry.argument(description=description)],
        default=default,
    )


def make_field(
    resolve: Callable[..., Any],
    parameters: list[_P],
    returns: Any,
    description: str,
    spec: FieldSpec | None = None,
) -> Any:
    resolve.__signature__ = inspect.Signature(parameters, return_annotation=returns)  # type: ignore[attr-defined]
    metadata = {FAST_PATH: spec} if spec is not None else None
    return strawberry.field(resolver=resolve, description=description, metadata=metadata)


def _page_arguments(filter_type: Any, order_type: Any, trashed: bool) -> list[_P]:
    arguments = [
        argument("first", int | None, "Return the first n rows (after `after`)."),
        argument("after", str | None, "Start after the row with this cursor."),
        argument("last", int | None, "Return the last n rows (before `before`)."),
        argument("before", str | None, "End before the row with this cursor."),
        argument("where", filter_type | None, "Only rows that match."),
        argument("order_by", list[order_type] | None, "Sort keys in turn; `id` breaks ties."),
    ]
    if trashed:
        arguments.append(_trashed_argument())
    return arguments


def _trashed_argument() -> _P:
    return argument(
        "trashed",
        TrashedFilter | None,
        "Soft-deleted rows: hidden (WITHOUT), included (WITH) or only them (ONLY).",
        TrashedFilter.WITHOUT,
    )


def lookup_key(resource: Resource[Any], value: str, argument: str = "id") -> int:
    """The key of a typed lookup's ID; an ID of another type is simply not found."""
    global_id = parse_global_id(value, argument)
    if global_id.type_name != resource.type_name:
        raise RecordNotFound(resource.type_name, value)
    return global_id.key


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """What a generic field reads, so the fast path can plan it without its resolver."""

    kind: str  # lookup | listing | children | parent | members | node_id | create
    model: type[Any]
    relation: QueryableAttribute[Any] | None = None
    attribute: str | None = None  # the parent's join key, or the foreign key of a parent field
    type_name: str | None = None
    input_spec: Any = None  # a create's ``validation.InputSpec``


FAST_PATH = "fast_path"


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
    def of(cls, model: type[Any], arguments: dict[str, Any], limits: PageLimits) -> ConnectionArgs:
        order = OrderSpec.of(arguments.get("order_by"))
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
        condition = filter_condition(model, where, type_names=type_names())
        return cls(model, where, condition, order, request, _trashed(arguments.get("trashed")))

    def filtered(self, query: QueryBuilder[Any]) -> QueryBuilder[Any]:
        """``query`` narrowed to the rows that count (filter and trashed), not yet paged."""
        query = query.trashed(self.trashed)
        return query if self.condition is None else query.where(self.condition)

    def paged(self, query: QueryBuilder[Any]) -> QueryBuilder[Any]:
        """The filtered query in fetch order, between the cursors (limit not applied)."""
        return self.request.apply(query, self.order)

    @property
    def filter_key(self) -> Hashable:
        return (filter_key(self.where), self.trashed)

    @property
    def page_key(self) -> Hashable:
        return (self.filter_key, self.order.signature, self.request.key())


def lookup(resource: Resource[Any], node: Any, description: str) -> Any:
    """``user(id: ID!, trashed: Trashed = WITHOUT): User``: one row, or NOT_FOUND."""

    async def resolve(info: Info, id: str, trashed: Any = None) -> Any:
        key = lookup_key(resource, id)
        repository = await info.context.service(resource.repository)
        row = await repository.find(key, trashed=_trashed(trashed))
        if row is None:
            raise RecordNotFound(resource.type_name, id)
        return row

    parameters = [INFO, argument("id", strawberry.ID, "The global ID.", REQUIRED)]
    if resource.soft_deletes:
        parameters.append(_trashed_argument())
    spec = FieldSpec("lookup", resource.model, type_name=resource.type_name)
    return make_field(resolve, parameters, node | None, description, spec)


def listing(
    resource: Resource[Any], node: Any, filter_type: Any, order_type: Any, description: str
) -> Any:
    """``users(first, after, last, before, where, orderBy, trashed)``: a root connection."""

    async def resolve(info: Info, **arguments: Any) -> Connection[Any]:
        args = ConnectionArgs.of(resource.model, arguments, info.context.limits)
        repository = await info.context.service(resource.repository)
        return await fetch_connection(args.filtered(repository.query()), args.order, args.request)

    parameters = [INFO, *_page_arguments(filter_type, order_type, resource.soft_deletes)]
    spec = FieldSpec("listing", resource.model, type_name=resource.type_name)
    return make_field(resolve, parameters, Connection[node], description, spec)


def join_attribute(relation: QueryableAttribute[Any]) -> str:
    """The parent attribute a to-many relationship joins on (``User.posts`` -> ``id``)."""
    prop = relation.property
    assert isinstance(prop, RelationshipProperty)
    (local, _remote), *_ = prop.synchronize_pairs
    mapper = sa_inspect(prop.parent.class_)
    return str(mapper.get_property_by_column(local).key)


def target_of(relation: QueryableAttribute[Any]) -> type[Any]:
    prop = relation.property
    assert isinstance(prop, RelationshipProperty)
    return prop.mapper.class_


def children(
    relation: QueryableAttribute[Any],
    node: Any,
    filter_type: Any,
    order_type: Any,
    description: str,
    *,
    trashed: bool = False,
) -> Any:
    """``user.posts(first, ..., where, orderBy)``: a connection paged per parent.

    All parents of one level share one statement that pages each parent on
    its own, and one grouped count when ``totalCount`` is asked.
    """
    parent_attribute = join_attribute(relation)
    target = target_of(relation)

    async def resolve(root: Any, info: Info, **arguments: Any) -> Connection[Any]:
        args = ConnectionArgs.of(target, arguments, info.context.limits)
        loaders = info.context.loaders
        query = args.filtered(loaders.query(target))
        parent = getattr(root, parent_attribute)
        rows = await loaders.grouped(
            relation, args.page_key, args.paged(query), args.request.limit + 1
        ).load(parent)

        def count_rows() -> Any:
            return loaders.grouped_count(relation, args.filter_key, query).load(parent)

        return args.request.connection(rows, args.order, count_rows)

    parameters = [ROOT, INFO, *_page_arguments(filter_type, order_type, trashed)]
    spec = FieldSpec("children", target, relation=relation, attribute=parent_attribute)
    return make_field(resolve, parameters, Connection[node], description, spec)


def parent(foreign_key: str, model: type[Any], node: Any, description: str) -> Any:
    """A to-one relation (``post.author``): batched by key, soft-deleted rows included."""

    def resolve(root: Any, info: Info) -> Any:
        return info.context.loaders.by_key(model, Trashed.WITH).load(getattr(root, foreign_key))

    spec = FieldSpec("parent", model, attribute=foreign_key)
    return make_field(resolve, [ROOT, INFO], node, description, spec)


def members(relation: QueryableAttribute[Any], node: Any, description: str) -> Any:
    """A plain to-many list (``user.roles``), in id order, batched per level."""
    parent_attribute = join_attribute(relation)
    target = target_of(relation)

    def resolve(root: Any, info: Info) -> Any:
        loaders = info.context.loaders
        query = loaders.query(target).order_by("id")
        return loaders.grouped(relation, "all", query).load(getattr(root, parent_attribute))

    spec = FieldSpec("members", target, relation=relation, attribute=parent_attribute)
    return make_field(resolve, [ROOT, INFO], list[node], description, spec)
