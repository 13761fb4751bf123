"""Rows of many parents in one statement, with a limit that applies to each parent.

A single ``LIMIT`` over a batch of parents cuts the list at the wrong place
(the first parents take all the rows). On PostgreSQL each parent gets a
``LATERAL`` subquery (an index range scan each); elsewhere a ``row_number()``
window, partitioned by the parent key, numbers each parent's rows and keeps
the first ``n``. The parent keys travel as one parameter (``values_in``), so
the SQL text does not change with their number and no driver limit on
parameters applies.

``GroupedReads`` holds ``QueryBuilder``'s methods that read this way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    FromClause,
    Row,
    Select,
    bindparam,
    func,
    inspect,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute, RelationshipProperty, aliased

from fast_query._lists import value_list
from fast_query.base import Base
from fast_query.exceptions import InvalidQuery
from fast_query.predicates import values_in, where_all

if TYPE_CHECKING:
    from fast_query.query import ColumnRef, OrderKey, _State

ModelT = TypeVar("ModelT", bound=Base)

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


def parents_param(parent_ids: Sequence[Any] | None = None) -> BindParameter[Any]:
    """The parent keys as one parameter; without ids, a placeholder filled at execution."""
    if parent_ids is None:
        return bindparam(PARENTS)
    return bindparam(PARENTS, list(parent_ids))


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
    lateral: bool,
    extend: Extend | None = None,
) -> Select[Any]:
    """``base`` (the rows, filtered) per parent: ``(*row, parent)`` in parent then builder order.

    ``limit`` is an int, a bind parameter, or ``None`` for no limit;
    ``lateral`` (PostgreSQL only) applies it in a ``LATERAL`` subquery per parent.
    """
    if link.join is not None:
        base = base.join(*link.join)
    if lateral:
        keys = value_list(parents, link.parent_key.type)
        unnested = func.unnest(keys).table_valued("id").render_derived(name="_fq_parents")
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
    base = base.where(values_in(link.parent_key, parents))
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
) -> Select[Any]:
    """``(parent, count)`` for the parents that have matching rows."""
    statement = select(link.parent_key, func.count()).select_from(model)
    if link.join is not None:
        statement = statement.join(*link.join)
    statement = where_all(statement, values_in(link.parent_key, parents), criteria)
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


class GroupedReads(Generic[ModelT]):
    """``QueryBuilder``'s reads of many parents at once (``QueryBuilder`` inherits them)."""

    __slots__ = ()

    if TYPE_CHECKING:
        # What the builder provides.
        model: type[ModelT]
        _state: _State

        @property
        def criteria(self) -> ColumnElement[bool] | None: ...
        @property
        def orders(self) -> tuple[OrderKey, ...]: ...
        @property
        def session(self) -> AsyncSession: ...
        @property
        def dialect_name(self) -> str: ...
        @property
        def params(self) -> Mapping[str, Any]: ...
        def column(self, ref: ColumnRef) -> ColumnElement[Any]: ...

    async def get_grouped(
        self,
        relation: QueryableAttribute[Any],
        parent_ids: Sequence[Any],
        *,
        limit_per_parent: int | None = None,
    ) -> dict[Any, list[ModelT]]:
        """The matching rows of many parents at once, keyed by parent, in one statement.

        ``relation`` is the parent's to-many relationship that leads to this
        model (``User.posts``, or the many-to-many ``User.roles``). Rows keep
        the builder's order within each parent; ``limit_per_parent`` keeps the
        first *n* of every parent, where a plain ``LIMIT`` would starve the
        later parents: a ``LATERAL`` subquery per parent on PostgreSQL (an
        index range scan each), a ``row_number()`` window elsewhere.
        """
        return await self._grouped(relation, parent_ids, limit_per_parent, None)

    async def rows_grouped(
        self,
        relation: QueryableAttribute[Any],
        parent_ids: Sequence[Any],
        columns: Sequence[str],
        *,
        limit_per_parent: int | None = None,
    ) -> dict[Any, list[Row[Any]]]:
        """``get_grouped`` reading only ``columns``, as rows instead of objects."""
        return await self._grouped(relation, parent_ids, limit_per_parent, columns)

    def grouped_statement(
        self,
        relation: QueryableAttribute[Any],
        columns: Sequence[str] | None = None,
        *,
        limit_per_parent: Any = None,
        parent_ids: Sequence[Any] | None = None,
        extend: Extend | None = None,
    ) -> tuple[Select[Any], list[str] | None]:
        """The statement behind ``get_grouped``/``rows_grouped``, and the columns it reads.

        Rows come as ``(*columns, parent)`` (or ``(object, parent)`` without
        columns). Without ``parent_ids`` the keys are a placeholder named
        ``fq_parents``, filled when the statement runs, so one statement
        serves any parents; ``limit_per_parent`` may be a bind parameter too.
        ``extend(select, rows)`` adds to the SELECT of the grouped rows, to
        join a to-one relation's columns, say: ``rows.c`` holds the rows'
        ``columns`` (refer to no other), and the columns it adds come after
        them and before the parent. It applies to the rows a parent keeps,
        after its limit (a join inside a per-parent ``LATERAL`` would be
        planned once per parent).
        """
        link = parent_link(relation, self.model)
        if self._state.loads or self._state.counts:
            raise InvalidQuery("grouped reads do not combine with with_() or with_count()")
        orders = self.orders
        if columns is None:
            selected: list[Any] = [self.model]
            read: list[str] | None = None
        else:
            # The order columns ride along so the outer query can keep the order.
            wanted = [*columns, *(key.column.key for key in orders if key.column.key)]
            read = list(dict.fromkeys(wanted))
            selected = [self.column(name).label(name) for name in read]
        base = where_all(select(*selected).select_from(self.model), self.criteria)
        statement = grouped_select(
            self.model,
            link,
            base,
            [key.clause for key in orders],
            [(str(key.column.key), key.descending) for key in orders],
            parents_param(parent_ids),
            limit_per_parent,
            columns is None,
            limit_per_parent is not None and self.dialect_name == "postgresql",
            extend,
        )
        return statement, read

    async def _grouped(
        self,
        relation: QueryableAttribute[Any],
        parent_ids: Sequence[Any],
        limit: int | None,
        columns: Sequence[str] | None,
    ) -> dict[Any, list[Any]]:
        groups: dict[Any, list[Any]] = {parent: [] for parent in parent_ids}
        if not parent_ids:
            return groups
        statement, _read = self.grouped_statement(
            relation, columns, limit_per_parent=limit, parent_ids=parent_ids
        )
        if columns is None:
            for row in await self.session.execute(statement, self.params):
                groups.setdefault(row[-1], []).append(row[0])
        else:
            for row in await self._core_rows(statement):
                groups.setdefault(row[-1], []).append(row)
        return groups

    def count_grouped_statement(
        self, relation: QueryableAttribute[Any], parent_ids: Sequence[Any] | None = None
    ) -> Select[Any]:
        """``(parent, count)`` rows; without ids the keys are a ``fq_parents`` placeholder."""
        return count_grouped_select(
            self.model, parent_link(relation, self.model), self.criteria, parents_param(parent_ids)
        )

    async def count_grouped(
        self, relation: QueryableAttribute[Any], parent_ids: Sequence[Any]
    ) -> dict[Any, int]:
        """How many rows match for each parent (0 for parents without any), in one statement."""
        counts: dict[Any, int] = dict.fromkeys(parent_ids, 0)
        if not parent_ids:
            return counts
        for row in await self._core_rows(self.count_grouped_statement(relation, parent_ids)):
            counts[row[0]] = int(row[1])
        return counts

    async def _core_rows(self, statement: Select[Any]) -> list[Any]:
        """Run a column-only SELECT on the session's connection, skipping the ORM's machinery."""
        connection = await self.session.connection()
        return list((await connection.execute(statement, self.params)).all())
