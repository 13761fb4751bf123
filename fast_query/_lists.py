"""``column IN <list>`` with the whole list bound as one parameter.

A plain ``IN (:v1, :v2, ...)`` grows with the list: each length is another
statement to compile and cache, and a long list hits the driver's limit on
parameters. Here the list is one value: an array on PostgreSQL
(``column = ANY(:values)``), JSON text on SQLite (``column IN (SELECT value
FROM json_each(:values))``). The construct is the same on both databases and
is compiled for each, so a condition can be built without knowing where it
will run, and a statement compiled once serves lists of any length.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ARRAY, BindParameter, Boolean, ColumnElement, String, bindparam
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql import operators
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import Grouping
from sqlalchemy.sql.operators import OperatorType
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeDecorator, TypeEngine

from fast_query.exceptions import InvalidQuery


class ValueList(TypeDecorator[Sequence[Any]]):
    """A list of ``item`` values bound as one parameter: an array, or JSON text on SQLite.

    Each value goes through ``item``'s own conversion first (a datetime
    becomes the text SQLite stores), so the list compares as ``IN`` would.
    """

    impl = String
    cache_ok = True

    def __init__(self, item: TypeEngine[Any]) -> None:
        super().__init__()
        self.item = item

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(ARRAY(_unsized(self.item)))
        return dialect.type_descriptor(String())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        values = list(value)
        if dialect.name == "postgresql":
            return values  # the array type converts each item
        convert = self.item.dialect_impl(dialect).bind_processor(dialect)
        if convert is not None:
            values = [None if item is None else convert(item) for item in values]
        # Unescaped text: json_each reads UTF-8 as it is, every character of it.
        return json.dumps(values, ensure_ascii=False, separators=(",", ":"))


def _unsized(item: TypeEngine[Any]) -> TypeEngine[Any]:
    """``item`` without a length: a cast to ``VARCHAR(n)[]`` would cut longer values short.

    A value cut to the column's length could equal a row it should not match.
    """
    if isinstance(item, TypeDecorator):
        inner = _unsized(item.impl_instance)
        if inner is item.impl_instance:
            return item
        copied = item.copy()
        copied.impl = inner
        return copied
    if isinstance(item, String) and item.length is not None:
        unsized = item.copy()
        unsized.length = None
        return unsized
    return item


def value_list(
    values: Iterable[Any] | BindParameter[Any], item: TypeEngine[Any], name: str | None = None
) -> BindParameter[Any]:
    """``values`` as one ``ValueList`` parameter of ``item`` values.

    A named ``bindparam("ids")`` stays a placeholder, its list given when the
    statement runs; any other iterable is read now and bound, under a unique
    name made from ``name``.
    """
    if not isinstance(values, BindParameter):
        return bindparam(name, list(values), type_=ValueList(item), unique=True)
    if isinstance(values.type, ValueList):
        return values
    if values.unique:
        raise InvalidQuery("a list parameter needs a name: bindparam('ids'), not a unique one")
    if values.required:
        return bindparam(values.key, type_=ValueList(item))
    return bindparam(values.key, values.value, type_=ValueList(item))


class ValuesIn(ColumnElement[bool]):
    """``column IN <list>`` (or ``NOT IN``), the list one parameter: see the module."""

    __visit_name__ = "fast_query_values_in"
    inherit_cache = True
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("values", InternalTraversal.dp_clauseelement),
        ("negated", InternalTraversal.dp_boolean),
    ]
    # A comparison: rendered as it is in a WHERE, never as "(...) = 1" on SQLite.
    _is_implicitly_boolean = True
    type = Boolean()

    def __init__(
        self, column: ColumnElement[Any], values: BindParameter[Any], negated: bool
    ) -> None:
        self.column = column
        self.values = values
        self.negated = negated

    def _negate(self) -> ColumnElement[bool]:
        return ValuesIn(self.column, self.values, not self.negated)

    def self_group(self, against: OperatorType | None = None) -> ColumnElement[Any]:
        if against is not None and operators.is_precedent(operators.eq, against):
            return Grouping(self)
        return self


@compiles(ValuesIn)
def _values_in_json(element: ValuesIn, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column.self_group(against=operators.in_op), **kw)
    values = compiler.process(element.values, **kw)
    test = "NOT IN" if element.negated else "IN"
    return f"{column} {test} (SELECT value FROM json_each({values}))"


@compiles(ValuesIn, "postgresql")
def _values_in_array(element: ValuesIn, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column.self_group(against=operators.eq), **kw)
    values = compiler.process(element.values, **kw)
    test = "!= ALL" if element.negated else "= ANY"
    return f"{column} {test} ({values})"


Column = ColumnElement[Any] | QueryableAttribute[Any]


def values_in(column: Column, values: Iterable[Any] | BindParameter[Any]) -> ColumnElement[bool]:
    """``column`` is one of ``values``, bound as one parameter whatever their number.

    It compares as ``column IN (...)`` does, a NULL column or value
    included; an empty list matches no row. ``values`` may be a named
    ``bindparam("ids")`` whose list comes when the statement runs.
    """
    return _values_in(column, values, negated=False)


def values_not_in(
    column: Column, values: Iterable[Any] | BindParameter[Any]
) -> ColumnElement[bool]:
    """``column`` is none of ``values`` (``NOT IN``); an empty list matches every row."""
    return _values_in(column, values, negated=True)


def _values_in(
    column: Column, values: Iterable[Any] | BindParameter[Any], *, negated: bool
) -> ValuesIn:
    expression = column.expression
    name = getattr(expression, "key", None)
    return ValuesIn(expression, value_list(values, expression.type, name), negated)
