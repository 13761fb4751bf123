"""The WHERE clause that starts a page after (or before) a row's position."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, false, or_, tuple_


def keyset_predicate(
    columns: Sequence[ColumnElement[Any]],
    descending: Sequence[bool],
    values: Sequence[Any],
    *,
    after: bool,
) -> ColumnElement[bool]:
    """Rows strictly after (or before) ``values`` in the order ``columns``/``descending``.

    With one direction throughout this is a row-value comparison, which
    PostgreSQL and SQLite answer from an index on the order columns. Mixed
    directions expand to ``k1 > v1 OR (k1 = v1 AND k2 > v2) ...``.
    """
    binds = [
        value if isinstance(value, ColumnElement) else bindparam(None, value, type_=column.type)
        for column, value in zip(columns, values, strict=True)
    ]
    if not columns:
        return false()
    if len(columns) == 1:
        greater = after != descending[0]
        return columns[0] > binds[0] if greater else columns[0] < binds[0]
    if len(set(descending)) == 1:
        greater = after != descending[0]
        left, right = tuple_(*columns), tuple_(*binds)
        return left > right if greater else left < right
    clauses: list[ColumnElement[bool]] = []
    for index, (column, desc) in enumerate(zip(columns, descending, strict=True)):
        greater = after != desc
        step = column > binds[index] if greater else column < binds[index]
        equal_prefix = [columns[i] == binds[i] for i in range(index)]
        clauses.append(and_(*equal_prefix, step))
    return or_(*clauses)
