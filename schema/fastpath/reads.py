"""The fast path's reads: statement templates, compiled once, run on the driver.

Each read (a lookup, a page of a list, a page per parent, a count, the rows
behind a to-one relation) is the query its field kind builds for the
resolvers, with placeholders for what changes between requests: the key,
the parents' keys, the page size, the cursor position and the row scopes'
parameters. The built statement is compiled once per shape
(``fast_query.RawSelect``) and kept, so a request pays neither for building
SQLAlchemy expressions nor for SQLAlchemy's execution machinery. Values that
change the SQL itself (a filter's literals, the order, the trashed mode, the
row scopes) are part of the shape.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

from sqlalchemy import FromClause, Select, inspect, select
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import aliased

from fast_query import RawSelect, SelectTemplate, compile_select
from schema.fastpath.plan import Joins
from schema.lru import Lru
from schema.rows import Rows

Template = tuple[RawSelect | SelectTemplate, list[str]]


class Templates:
    """Compiled statements by shape, shared by every request of an app (least used go)."""

    def __init__(self) -> None:
        self._compiled: Lru[Template] = Lru()

    def __len__(self) -> int:
        return len(self._compiled)

    def get(
        self,
        key: Hashable,
        dialect: Dialect,
        build: Callable[[], tuple[Select[Any], list[str]]],
    ) -> Template:
        """The compiled template for ``key`` and the columns its rows carry, built if new.

        Request values (a row scope's parameters, keys, page sizes) are bind
        parameters, so one template serves every request of a shape.
        """

        def compiled() -> Template:
            statement, columns = build()
            return compile_select(statement, dialect), columns

        return self._compiled.get((dialect.name, key), compiled)


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


def join_to_ones(
    statement: Select[Any], rows: FromClause, joins: Joins, source: Rows
) -> Select[Any]:
    """``statement`` with a ``LEFT JOIN`` per foreign key in ``joins`` and the targets' columns.

    ``rows`` holds the rows' columns (the model's table, or the subquery the
    rows come from). Every row keeps its place (a to-one join matches at
    most one row); a target joins only when the request sees it (the
    relation's soft-delete rule and the target's row scope, from ``source``).
    A target with a condition is joined as a derived table filtered on its
    own, so a scope's subquery is never correlated with the rows' tables.
    """
    for foreign_key, (kind, columns) in sorted(joins.items()):
        target = kind.model
        name = f"to_one_{foreign_key}"
        seen = source.criteria(target, kind.trashed)
        scopes = source.scopes
        joined: Any
        if seen is None:
            joined = aliased(target, name=name)
            found = {column: scopes.column(target, column, joined) for column in columns}
        else:
            selected = [scopes.column(target, column).label(column) for column in sorted(columns)]
            joined = select(*selected).where(seen).subquery(name)
            found = {column: joined.c[column] for column in columns}
        statement = statement.outerjoin(joined, found["id"] == rows.c[foreign_key])
        statement = statement.add_columns(
            *(found[column].label(joined_name(foreign_key, column)) for column in sorted(columns))
        )
    return statement


def table_of(model: type[Any]) -> FromClause:
    """The table a model's rows are read from."""
    table: FromClause = inspect(model).local_table
    return table
