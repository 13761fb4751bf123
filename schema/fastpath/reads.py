"""The fast path's reads: statement templates, compiled once, run on the driver.

Each read (a lookup, a page of a list, a page per parent, a count, the rows
behind a to-one relation) is built with the same query builders the
resolvers use, but with placeholders for what changes between requests: the
key, the parents' keys, the page size and the cursor position. The built
statement is compiled once per shape (``fast_query.RawSelect``) and kept, so
a request pays neither for building SQLAlchemy expressions nor for
SQLAlchemy's execution machinery. Values that change the SQL itself (a
filter's literals, the order, the trashed mode) are part of the shape.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

from sqlalchemy import BindParameter, FromClause, Select, bindparam, inspect
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import aliased

from fast_query import BaseRepository, QueryBuilder, RawSelect, SelectTemplate, compile_select
from schema.fastpath.lru import Lru
from schema.fastpath.plan import Joins
from schema.fields import ConnectionArgs
from schema.pagination import PageRequest

Template = tuple[RawSelect | SelectTemplate, list[str]]


class Templates:
    """Compiled statements by shape, shared by every request of an app (least used go)."""

    def __init__(self) -> None:
        self._compiled: Lru[Template] = Lru()

    def get(
        self,
        key: Hashable | None,
        dialect: Dialect,
        build: Callable[[], tuple[Select[Any], list[str]]],
    ) -> Template:
        """The compiled template for ``key`` and the columns its rows carry, built if new.

        A ``None`` key builds and compiles a statement that is not kept (one
        that may depend on the request, see ``static_query``).
        """

        def compiled() -> Template:
            statement, columns = build()
            return compile_select(statement, dialect), columns

        if key is None:
            return compiled()
        return self._compiled.get((dialect.name, key), compiled)


def static_query(repository_class: type[Any]) -> bool:
    """Whether a repository class's ``query()`` is the generic one, the same for every request.

    A repository may narrow ``query()`` with request state (a tenant, a user):
    a statement built from it must not be kept for other requests.
    """
    return getattr(repository_class, "query", None) is BaseRepository.query


def placeholder_request(args: ConnectionArgs, model: type[Any]) -> PageRequest:
    """``args``' page request with placeholders for the page size and cursor positions."""
    request = args.request
    names = args.order.names

    def position(prefix: str, values: tuple[Any, ...] | None) -> tuple[Any, ...] | None:
        if values is None:
            return None
        return tuple(
            bindparam(f"fq_{prefix}_{index}", type_=getattr(model, name).type)
            for index, name in enumerate(names)
        )

    limit: BindParameter[Any] = bindparam("fq_limit")
    return PageRequest(
        limit,  # type: ignore[arg-type]
        request.forward,
        position("after", request.after),
        position("before", request.before),
    )


def page_params(args: ConnectionArgs) -> dict[str, Any]:
    """The values a page template's placeholders take for ``args``."""
    request = args.request
    params: dict[str, Any] = {"fq_limit": request.limit + 1}
    for prefix, values in (("after", request.after), ("before", request.before)):
        for index, value in enumerate(values or ()):
            params[f"fq_{prefix}_{index}"] = value
    return params


def page_shape(args: ConnectionArgs) -> Hashable:
    """What about a page changes its SQL: filter, trashed mode, order, direction, cursors."""
    request = args.request
    return (
        args.filter_key,
        args.order.signature,
        request.forward,
        request.after is not None,
        request.before is not None,
    )


def paged(query: QueryBuilder[Any], args: ConnectionArgs, model: type[Any]) -> QueryBuilder[Any]:
    """The filtered query in fetch order, bounded by cursor placeholders."""
    return placeholder_request(args, model).apply(query, args.order)


def row_columns(columns: Sequence[str], order_names: Sequence[str]) -> list[str]:
    """The columns a read selects: the plan's, then the order keys cursors need."""
    return list(dict.fromkeys([*columns, *order_names]))


def joined_name(foreign_key: str, column: str) -> str:
    """The label of a joined target's column: ``user_id>name`` (no model column has a ``>``)."""
    return f"{foreign_key}>{column}"


def joined_names(joins: Joins) -> list[str]:
    """The labels ``join_to_ones`` adds, in the order it adds them."""
    return [
        joined_name(foreign_key, column)
        for foreign_key, (_target, columns) in sorted(joins.items())
        for column in sorted(columns)
    ]


def join_to_ones(statement: Select[Any], rows: FromClause, joins: Joins) -> Select[Any]:
    """``statement`` with a ``LEFT JOIN`` per foreign key in ``joins`` and the targets' columns.

    ``rows`` holds the rows' columns (the model's table, or the subquery the
    rows come from). Every row keeps its place (a to-one join matches at
    most one row); soft-deleted targets are joined too, as the to-one
    fields show them.
    """
    for foreign_key, (target, columns) in sorted(joins.items()):
        alias = aliased(target, name=f"to_one_{foreign_key}")
        statement = statement.outerjoin(alias, alias.id == rows.c[foreign_key])
        statement = statement.add_columns(
            *(
                getattr(alias, column).label(joined_name(foreign_key, column))
                for column in sorted(columns)
            )
        )
    return statement


def table_of(model: type[Any]) -> FromClause:
    """The table a model's rows are read from."""
    table: FromClause = inspect(model).local_table
    return table
