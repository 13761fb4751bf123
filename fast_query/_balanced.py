"""AND/OR of many conditions as a balanced tree, so no database parses it too deep.

SQLite parses ``a AND b AND c ...`` into a tree as deep as the list is long
and refuses one deeper than 1,000 ("Expression tree is too large"), and
SQLAlchemy flattens nested ``and_``/``or_`` (parentheses included) back
into one list. ``Parenthesized`` is a group it keeps, so halves nest and
the tree is log2(n) deep on both databases.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Boolean, ColumnElement, and_, false, or_, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal

#: Lists up to this long stay flat (one level per item is well under every limit).
FLAT = 64


class Parenthesized(ColumnElement[bool]):
    """``(condition)``: a group that ``and_``/``or_`` do not flatten into their own list."""

    inherit_cache = True
    type = Boolean()
    # A condition in its own right: SQLite gets "(a AND b)", not "(a AND b) = 1".
    _is_implicitly_boolean = True

    def __init__(self, condition: ColumnElement[bool]) -> None:
        self.condition = condition

    # The condition is part of the statement's cache key and of its traversals
    # (bind parameters, correlation), as a Grouping's element is.
    _traverse_internals = [("condition", InternalTraversal.dp_clauseelement)]

    @property
    def _from_objects(self) -> list[Any]:
        return list(self.condition._from_objects)


@compiles(Parenthesized)
def _compile(element: Parenthesized, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({compiler.process(element.condition, **kw)})"


def conjunction(conditions: Sequence[ColumnElement[bool]]) -> ColumnElement[bool]:
    """Every condition holds (``true`` for none), however many there are."""
    return _balanced(and_, conditions, true())


def disjunction(conditions: Sequence[ColumnElement[bool]]) -> ColumnElement[bool]:
    """At least one condition holds (``false`` for none), however many there are."""
    return _balanced(or_, conditions, false())


def _balanced(
    combine: Callable[..., ColumnElement[bool]],
    conditions: Sequence[ColumnElement[bool]],
    empty: ColumnElement[bool],
) -> ColumnElement[bool]:
    if not conditions:
        return empty
    if len(conditions) <= FLAT:
        return combine(*conditions) if len(conditions) > 1 else conditions[0]
    middle = len(conditions) // 2
    halves = (conditions[:middle], conditions[middle:])
    return combine(*(Parenthesized(_balanced(combine, half, empty)) for half in halves))
