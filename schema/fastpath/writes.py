"""The fast path's one write: a generic create as a single ``INSERT ... SELECT ... RETURNING``.

The resolvers create a row in a transaction of four round trips (``BEGIN``,
the input's row checks, the ORM's ``INSERT``, ``COMMIT``). When the input
passes its rules, the same row checks can be the ``WHERE`` of an ``INSERT
... SELECT``: the row is written only if every referenced row is live and
every unique value free, in one statement that commits on its own. When it
writes nothing (a check failed) the resolvers run the mutation and report
exactly what is wrong; nothing was written by the first attempt.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Insert, and_, bindparam, insert, select, true

from schema.fastpath.lru import Lru
from schema.fastpath.reads import table_of
from schema.validation import RowCheck, row_exists


def insert_statement(
    model: type[Any], names: Sequence[str], checks: Sequence[RowCheck], returning: Sequence[str]
) -> Insert:
    """``INSERT INTO model (names) SELECT :fq_value_<name>... WHERE <checks> RETURNING ...``.

    Columns left out (timestamps, say) get their defaults, as the ORM gives them.
    """
    table: Any = table_of(model)
    values = select(
        *(bindparam(f"fq_value_{name}", type_=table.c[name].type).label(name) for name in names)
    )
    conditions = [
        row_exists(check, index) if check.kind == "live" else ~row_exists(check, index)
        for index, check in enumerate(checks)
    ]
    values = values.where(and_(true(), *conditions))
    return (
        insert(table)
        .from_select(list(names), values)
        .returning(*(table.c[column] for column in returning))
    )


#: Built ``INSERT`` statements by shape (SQLAlchemy caches their compiled form;
#: building one costs more than running it).
Inserts = Lru[Insert]
