"""Substring tests with no pattern: ``contains``, ``starts with``, ``ends with``.

``LIKE`` needs the text escaped into a pattern, and SQLite refuses patterns
over 50,000 bytes. These compare the text itself, bound as one parameter of
any length: ``strpos``/``left``/``right`` on PostgreSQL, ``instr``/``substr``
on SQLite, both counting characters. Case-insensitive tests compare
``lower()`` of both sides (engines from ``fast_query.create_engine`` make
SQLite's ``lower()`` Unicode-aware, as PostgreSQL's is).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ColumnElement, String, bindparam, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal

CONTAINS = "contains"
STARTS_WITH = "starts_with"
ENDS_WITH = "ends_with"


class TextMatch(ColumnElement[bool]):
    """``column`` contains, starts with or ends with ``text`` (compiled per database)."""

    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("text", InternalTraversal.dp_clauseelement),
        ("how", InternalTraversal.dp_string),
    ]

    def __init__(self, column: ColumnElement[Any], text: ColumnElement[Any], how: str) -> None:
        self.column = column
        self.text = text
        self.how = how

    @property
    def _from_objects(self) -> list[Any]:
        return list(self.column._from_objects)


def _match(column: ColumnElement[Any], text: str, how: str, case_sensitive: bool) -> TextMatch:
    value: ColumnElement[Any] = bindparam(None, text, type_=String(), unique=True)
    if not case_sensitive:
        column, value = func.lower(column), func.lower(value)
    return TextMatch(column, value, how)


def text_contains(
    column: ColumnElement[Any], text: str, *, case_sensitive: bool = True
) -> ColumnElement[bool]:
    """``column`` holds ``text`` somewhere (``%``, ``_`` and ``\\`` are plain characters)."""
    return _match(column, text, CONTAINS, case_sensitive)


def text_starts_with(column: ColumnElement[Any], text: str) -> ColumnElement[bool]:
    """``column`` begins with ``text``, case-sensitively."""
    return _match(column, text, STARTS_WITH, True)


def text_ends_with(column: ColumnElement[Any], text: str) -> ColumnElement[bool]:
    """``column`` ends with ``text``, case-sensitively."""
    return _match(column, text, ENDS_WITH, True)


@compiles(TextMatch)
def _postgresql(element: TextMatch, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    text = compiler.process(element.text, **kw)
    if element.how == CONTAINS:
        return f"strpos({column}, {text}) > 0"
    side = "left" if element.how == STARTS_WITH else "right"
    return f"{side}({column}, length({text})) = {text}"


@compiles(TextMatch, "sqlite")
def _sqlite(element: TextMatch, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    text = compiler.process(element.text, **kw)
    if element.how == CONTAINS:
        return f"instr({column}, {text}) > 0"
    if element.how == STARTS_WITH:
        return f"substr({column}, 1, length({text})) = {text}"
    # From the character where a match would start; past the start, no match.
    return f"substr({column}, length({column}) - length({text}) + 1) = {text}"
