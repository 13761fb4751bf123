"""Rows of many parents in one statement, with a limit that applies to each parent.

A single ``LIMIT`` over a batch of parents cuts the list at the wrong place
(the first parents take all the rows). On PostgreSQL each parent gets a
``LATERAL`` subquery (an index range scan each); elsewhere a ``row_number()``
window, partitioned by the parent key, numbers each parent's rows and keeps
the first ``n``. The parent keys travel as one parameter (an array on
PostgreSQL, a JSON list on SQLite), so the SQL text does not change with
their number and no driver limit on parameters applies.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ARRAY,
    BindParameter,
    ColumnElement,
    FromClause,
    Integer,
    Select,
    String,
    any_,
    bindparam,
    column,
    func,
    inspect,
    select,
    true,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import QueryableAttribute, RelationshipProperty, aliased
from sqlalchemy.types import TypeDecorator, TypeEngine

from fast_query.exceptions import InvalidQuery

PARENTS = "fq_parents"


@dataclass(frozen=True, slots=True)
class ParentLink:
    """How a child table reaches its parent's key through one relationship."""

    parent_key: ColumnElement[Any]
    join: tuple[FromClause, ColumnElement[bool]] | None


def parent_link(relation: QueryableAttribute[Any], child: type[Any]) -> ParentLink:
    """Read ``User.posts`` (or the many-to-many ``User.roles``) as a parent-key column."""
    prop = relation.property
    if not isinstance(prop, RelationshipProperty) or not prop.uselist:
        raise InvalidQuery(f"{relation} is not a to-many relationship")
    if prop.mapper.class_ is not child:
        raise InvalidQuery(f"{relation} does not lead to {child.__name__}")
    if len(prop.local_remote_pairs or ()) != 1 and prop.secondary is None:
        raise InvalidQuery(f"{relation} has a composite key")
    if prop.secondary is None:
        (_local, remote), *_ = prop.synchronize_pairs
        return ParentLink(parent_key=remote, join=None)
    (_local, parent_key), *_ = prop.synchronize_pairs
    assert prop.secondaryjoin is not None
    return ParentLink(parent_key=parent_key, join=(prop.secondary, prop.secondaryjoin))


class KeyList(TypeDecorator[Sequence[Any]]):
    """A list of integer keys bound as one parameter: an array, or JSON text on SQLite."""

    impl = String
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(ARRAY(Integer()))
        return dialect.type_descriptor(String())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        keys = [int(key) for key in value]
        return keys if dialect.name == "postgresql" else json.dumps(keys)


def parents_param(parent_ids: Sequence[Any] | None = None) -> BindParameter[Any]:
    """The parent keys as one parameter; without ids, a placeholder filled at execution."""
    if parent_ids is None:
        return bindparam(PARENTS, type_=KeyList())
    return bindparam(PARENTS, list(parent_ids), type_=KeyList())


def key_in(key: ColumnElement[Any], keys: BindParameter[Any], dialect: str) -> ColumnElement[bool]:
    """``key`` is one of ``keys`` (a ``KeyList`` parameter)."""
    if dialect == "postgresql":
        return key == any_(keys)
    values: Select[Any] = select(column("value")).select_from(func.json_each(keys))
    return key.in_(values.scalar_subquery())


#: ``extend(select, rows)``: see ``QueryBuilder.grouped_statement``.
Extend = Callable[[Select[Any], FromClause], Select[Any]]


def grouped_select(
    model: type[Any],
    link: ParentLink,
    base: Select[Any],
    order: Sequence[ColumnElement[Any]],
    order_keys: Sequence[tuple[str, bool]],
    parents: BindParameter[Any],
    limit: Any,
    entity: bool,
    dialect: str,
    extend: Extend | None = None,
) -> Select[Any]:
    """``base`` (the rows, filtered) per parent: ``(*row, parent)`` in parent then builder order.

    ``limit`` is an int, a bind parameter, or ``None`` for no limit.
    """
    if link.join is not None:
        base = base.join(*link.join)
    if limit is not None and dialect == "postgresql":
        unnested = func.unnest(parents).table_valued("id").render_derived(name="_fq_parents")
        per_parent = (
            base.where(link.parent_key == unnested.c.id)
            .order_by(*order)
            .limit(limit)
            .lateral("_fq_rows")
        )
        rows = select(*_read_from(per_parent, model, entity)).select_from(unnested)
        rows = rows.join(per_parent, true())
        if extend is not None:
            rows = extend(rows, per_parent)
        return rows.add_columns(unnested.c.id.label("_fq_parent")).order_by(
            unnested.c.id, *_reorder(order_keys, per_parent)
        )
    if extend is not None:
        base = extend(base, inspect(model).local_table)
    base = base.add_columns(link.parent_key.label("_fq_parent"))
    base = base.where(key_in(link.parent_key, parents, dialect))
    if limit is None:
        return base.order_by(link.parent_key, *order)
    number = func.row_number().over(partition_by=link.parent_key, order_by=list(order) or None)
    inner = base.add_columns(number.label("_fq_row")).subquery("_fq_grouped")
    return (
        select(*_read_from(inner, model, entity), inner.c._fq_parent)
        .where(inner.c._fq_row <= limit)
        .order_by(inner.c._fq_parent, inner.c._fq_row)
    )


def count_grouped_select(
    model: type[Any],
    link: ParentLink,
    criteria: ColumnElement[bool] | None,
    parents: BindParameter[Any],
    dialect: str,
) -> Select[Any]:
    """``(parent, count)`` for the parents that have matching rows."""
    statement = select(link.parent_key, func.count()).select_from(model)
    if link.join is not None:
        statement = statement.join(*link.join)
    statement = statement.where(key_in(link.parent_key, parents, dialect))
    if criteria is not None:
        statement = statement.where(criteria)
    return statement.group_by(link.parent_key)


def _read_from(source: Any, model: type[Any], entity: bool) -> list[Any]:
    """What to select from a subquery of ``model``: the entity, or all its columns."""
    if entity:
        return [aliased(model, source)]
    return [column for column in source.c if column.key not in ("_fq_parent", "_fq_row")]


def _reorder(order_keys: Sequence[tuple[str, bool]], source: Any) -> list[ColumnElement[Any]]:
    """The builder's order, on the columns of a subquery that selected them."""
    clauses = []
    for key, descending in order_keys:
        found = source.c.get(key)
        if found is not None:
            clauses.append(found.desc() if descending else found.asc())
    return clauses
