"""Generic fields: lookups, connections and relations, configured per node type.

Each factory returns a Strawberry field whose resolver signature (the GraphQL
arguments) is built from the types it is given, so a node type's module
declares its fields in a line each instead of writing resolvers.
"""

from __future__ import annotations

import enum
import inspect
from collections.abc import Callable
from typing import Annotated, Any

import strawberry
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import QueryableAttribute, RelationshipProperty

from fast_query import RecordNotFound, Trashed
from schema.context import Info
from schema.filters import filter_condition, filter_key
from schema.ids import parse_global_id
from schema.ordering import OrderSpec
from schema.pagination import Connection, PageRequest, fetch_connection
from schema.resource import Resource, by_model, type_names


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
) -> Any:
    resolve.__signature__ = inspect.Signature(parameters, return_annotation=returns)  # type: ignore[attr-defined]
    return strawberry.field(resolver=resolve, description=description)


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
    return make_field(resolve, parameters, node | None, description)


def listing(
    resource: Resource[Any], node: Any, filter_type: Any, order_type: Any, description: str
) -> Any:
    """``users(first, after, last, before, where, orderBy, trashed)``: a root connection."""

    async def resolve(info: Info, **arguments: Any) -> Connection[Any]:
        order = OrderSpec.of(arguments.get("order_by"))
        request = _page_request(arguments, order, resource, info)
        repository = await info.context.service(resource.repository)
        query = repository.query().trashed(_trashed(arguments.get("trashed")))
        condition = filter_condition(
            resource.model, arguments.get("where"), type_names=type_names()
        )
        if condition is not None:
            query = query.where(condition)
        return await fetch_connection(query, order, request)

    parameters = [INFO, *_page_arguments(filter_type, order_type, resource.soft_deletes)]
    return make_field(resolve, parameters, Connection[node], description)


def _page_request(
    arguments: dict[str, Any], order: OrderSpec, resource: Resource[Any], info: Info
) -> PageRequest:
    return PageRequest.of(
        first=arguments.get("first"),
        after=arguments.get("after"),
        last=arguments.get("last"),
        before=arguments.get("before"),
        order=order,
        model=resource.model,
        limits=info.context.limits,
    )


def _relation(attribute: QueryableAttribute[Any]) -> tuple[RelationshipProperty[Any], str]:
    """The relationship behind ``attribute`` and the parent attribute it joins on."""
    prop = attribute.property
    assert isinstance(prop, RelationshipProperty)
    (local, _remote), *_ = prop.synchronize_pairs
    mapper = sa_inspect(prop.parent.class_)
    return prop, mapper.get_property_by_column(local).key


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

    All parents of one level share one windowed statement (``row_number()``
    per parent), and one grouped count when ``totalCount`` is asked.
    """
    prop, parent_attribute = _relation(relation)
    target = prop.mapper.class_

    async def resolve(root: Any, info: Info, **arguments: Any) -> Connection[Any]:
        resource = by_model(target)
        order = OrderSpec.of(arguments.get("order_by"))
        request = _page_request(arguments, order, resource, info)
        mode = _trashed(arguments.get("trashed"))
        where = arguments.get("where")
        condition = filter_condition(target, where, type_names=type_names())
        loaders = info.context.loaders
        query = loaders.query(target).trashed(mode)
        if condition is not None:
            query = query.where(condition)
        filtered = (filter_key(where), mode)
        parent = getattr(root, parent_attribute)
        rows = await loaders.grouped(
            relation,
            (filtered, order.signature, request.key()),
            request.apply(query, order),
            request.limit + 1,
        ).load(parent)

        def count_rows() -> Any:
            return loaders.grouped_count(relation, filtered, query).load(parent)

        return request.connection(rows, order, count_rows)

    parameters = [ROOT, INFO, *_page_arguments(filter_type, order_type, trashed)]
    return make_field(resolve, parameters, Connection[node], description)


def parent(foreign_key: str, model: type[Any], node: Any, description: str) -> Any:
    """A to-one relation (``post.author``): batched by key, soft-deleted rows included."""

    def resolve(root: Any, info: Info) -> Any:
        return info.context.loaders.by_key(model, Trashed.WITH).load(getattr(root, foreign_key))

    return make_field(resolve, [ROOT, INFO], node, description)


def members(relation: QueryableAttribute[Any], node: Any, description: str) -> Any:
    """A plain to-many list (``user.roles``), in id order, batched per level."""
    prop, parent_attribute = _relation(relation)
    target = prop.mapper.class_

    def resolve(root: Any, info: Info) -> Any:
        loaders = info.context.loaders
        query = loaders.query(target).order_by("id")
        return loaders.grouped(relation, "all", query).load(getattr(root, parent_attribute))

    return make_field(resolve, [ROOT, INFO], list[node], description)
