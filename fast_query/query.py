"""A fluent, generative query builder over one mapped model.

Every method returns a new builder, so a base query can be shared and
extended safely; nothing touches the database until an awaited terminal
(``get``, ``first``, ``count``, ...) runs.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Concatenate, Generic, ParamSpec, Self, TypeVar, cast

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Row,
    Select,
    and_,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import (
    QueryableAttribute,
    RelationshipProperty,
    joinedload,
    selectinload,
)
from sqlalchemy.orm.strategy_options import _AbstractLoad
from sqlalchemy.sql.expression import ScalarSelect

from fast_query._grouped import (
    Extend,
    count_grouped_select,
    grouped_select,
    key_in,
    parent_link,
    parents_param,
)
from fast_query._keyset import keyset_predicate
from fast_query.base import Base
from fast_query.exceptions import InvalidQuery, NoSessionBound, RecordNotFound
from fast_query.mixins import SoftDeletesMixin
from fast_query.pagination import Page

ModelT = TypeVar("ModelT", bound=Base)
P = ParamSpec("P")

ColumnRef = str | QueryableAttribute[Any] | ColumnElement[Any]
Condition = "Callable[[QueryBuilder[Any]], QueryBuilder[Any]] | ColumnElement[bool] | None"


class Trashed(enum.Enum):
    """Which soft-deleted rows a query sees."""

    WITHOUT = "without"
    WITH = "with"
    ONLY = "only"


@dataclass(frozen=True, slots=True)
class OrderKey:
    column: ColumnElement[Any]
    descending: bool = False


def escape_like(value: str, escape: str = "\\") -> str:
    """Escape ``%``, ``_`` and the escape character so they match themselves."""
    return (
        value.replace(escape, escape + escape).replace("%", escape + "%").replace("_", escape + "_")
    )


def soft_delete_criteria(model: type[Any], trashed: Trashed) -> ColumnElement[bool] | None:
    """The condition ``trashed`` puts on ``model``, or ``None`` when it has none."""
    if trashed is Trashed.WITH:
        return None
    if not issubclass(model, SoftDeletesMixin):
        # Nothing of a model without soft deletes is ever trashed.
        return false() if trashed is Trashed.ONLY else None
    deleted_at: QueryableAttribute[Any] = model.deleted_at
    return deleted_at.is_(None) if trashed is Trashed.WITHOUT else deleted_at.is_not(None)


def relationship_of(model: type[Any], name: str) -> RelationshipProperty[Any]:
    from sqlalchemy import inspect

    relationships = inspect(model).relationships
    if name not in relationships:
        raise InvalidQuery(f"{model.__name__} has no relationship {name!r}")
    return cast(RelationshipProperty[Any], relationships[name])


@dataclass(frozen=True, slots=True)
class _State:
    criteria: ColumnElement[bool] | None = None
    orders: tuple[OrderKey, ...] = ()
    limit: int | BindParameter[int] | None = None
    offset: int | None = None
    after: tuple[Any, ...] | None = None
    before: tuple[Any, ...] | None = None
    loads: tuple[_AbstractLoad, ...] = ()
    joined: bool = False
    counts: tuple[str, ...] = ()
    trashed: Trashed = Trashed.WITHOUT
    columns: tuple[ColumnElement[Any], ...] = field(default=())
    for_update: bool = False


class QueryBuilder(Generic[ModelT]):
    """Eloquent-style queries on one model, typed by that model.

    Terminals (``get``, ``count``...) run on ``session``. Without a session a
    builder still makes statements; ``dialect`` (``"postgresql"``,
    ``"sqlite"``) names the database those that differ by database are for.
    """

    __slots__ = ("_dialect", "_session", "_state", "model")

    def __init__(
        self,
        model: type[ModelT],
        session: AsyncSession | None = None,
        *,
        dialect: str | None = None,
        _state: _State = _State(),
    ) -> None:
        self.model = model
        self._session = session
        self._dialect = dialect
        self._state = _state

    def _with(self, **changes: Any) -> Self:
        return type(self)(
            self.model, self._session, dialect=self._dialect, _state=replace(self._state, **changes)
        )

    def column(self, ref: ColumnRef) -> ColumnElement[Any]:
        """The column ``ref`` names on this model (a name, attribute or expression)."""
        if isinstance(ref, str):
            attribute = getattr(self.model, ref, None)
            if not isinstance(attribute, QueryableAttribute):
                raise InvalidQuery(f"{self.model.__name__} has no column {ref!r}")
            return attribute.expression
        if isinstance(ref, QueryableAttribute):
            return ref.expression
        return ref

    # -- filtering ----------------------------------------------------------------

    def _conditions(
        self, conditions: Sequence[ColumnElement[bool]], equals: dict[str, Any]
    ) -> ColumnElement[bool]:
        parts = [*conditions, *(self.column(name) == value for name, value in equals.items())]
        if not parts:
            raise InvalidQuery("where() needs at least one condition")
        return and_(*parts) if len(parts) > 1 else parts[0]

    def where(self, *conditions: ColumnElement[bool], **equals: Any) -> Self:
        """AND conditions: SQLAlchemy expressions and ``column=value`` equalities."""
        condition = self._conditions(conditions, equals)
        current = self._state.criteria
        return self._with(criteria=condition if current is None else and_(current, condition))

    def or_where(self, *conditions: ColumnElement[bool], **equals: Any) -> Self:
        """OR the conditions with everything filtered so far (the soft-delete scope stays)."""
        condition = self._conditions(conditions, equals)
        current = self._state.criteria
        return self._with(criteria=condition if current is None else or_(current, condition))

    def where_in(self, column: ColumnRef, values: Iterable[Any]) -> Self:
        values = list(values)
        return self.where(self.column(column).in_(values) if values else false())

    def where_key_in(self, column: ColumnRef, keys: Sequence[Any] | None = None) -> Self:
        """``column`` is one of the integer ``keys``, bound as one parameter.

        An array on PostgreSQL, a JSON list on SQLite: the SQL is the same for
        any number of keys, and no driver limit on parameters applies.
        Without ``keys`` the parameter is a placeholder named ``fq_parents``.
        """
        return self.where(key_in(self.column(column), parents_param(keys), self.dialect_name))

    def where_not_in(self, column: ColumnRef, values: Iterable[Any]) -> Self:
        values = list(values)
        return self.where(self.column(column).not_in(values) if values else true())

    def where_null(self, column: ColumnRef) -> Self:
        return self.where(self.column(column).is_(None))

    def where_not_null(self, column: ColumnRef) -> Self:
        return self.where(self.column(column).is_not(None))

    def where_between(self, column: ColumnRef, low: Any, high: Any) -> Self:
        return self.where(self.column(column).between(low, high))

    def where_like(self, column: ColumnRef, pattern: str) -> Self:
        """Case-sensitive ``LIKE`` on both databases; ``\\`` escapes wildcards."""
        return self.where(like(self.column(column), pattern, case_sensitive=True))

    def where_ilike(self, column: ColumnRef, pattern: str) -> Self:
        """Case-insensitive ``LIKE`` on both databases; ``\\`` escapes wildcards."""
        return self.where(like(self.column(column), pattern, case_sensitive=False))

    def where_has(self, relation: str, condition: Any = None) -> Self:
        """Rows with at least one related row (matching ``condition``): ``EXISTS``.

        ``relation`` may be dotted (``"posts.comments"``). ``condition`` is an
        expression on the related model or a function that refines a builder
        of it; the related model's soft-delete scope applies.
        """
        return self.where(self.has_condition(relation, condition))

    def where_doesnt_have(self, relation: str, condition: Any = None) -> Self:
        """Rows with no related row (matching ``condition``): ``NOT EXISTS``."""
        return self.where(not_(self.has_condition(relation, condition)))

    def has_condition(self, relation: str, condition: Any = None) -> ColumnElement[bool]:
        """The ``EXISTS`` expression behind ``where_has``, for composing with ``or_``."""
        head, _, rest = relation.partition(".")
        prop = relationship_of(self.model, head)
        related: QueryBuilder[Any] = QueryBuilder(prop.mapper.class_)
        if rest:
            related = related.where_has(rest, condition)
        elif callable(condition):
            related = condition(related)
        elif condition is not None:
            related = related.where(condition)
        criteria = related.criteria
        attribute: Any = getattr(self.model, head)
        test = attribute.any if prop.uselist else attribute.has
        return cast(ColumnElement[bool], test(criteria) if criteria is not None else test())

    # -- soft deletes ---------------------------------------------------------

    def with_trashed(self) -> Self:
        return self._with(trashed=Trashed.WITH)

    def only_trashed(self) -> Self:
        return self._with(trashed=Trashed.ONLY)

    def trashed(self, mode: Trashed) -> Self:
        return self._with(trashed=mode)

    # -- locking --------------------------------------------------------------

    def lock_for_update(self) -> Self:
        """Lock the rows read until the transaction ends, as a write that reads first needs.

        Once the lock is held, a concurrent transaction that changed a row has
        committed, and a row it took out of the filter (a soft delete) is not
        found; the objects read are refreshed from the rows. On PostgreSQL it
        is ``FOR NO KEY UPDATE``: writers of a row queue, inserts that only
        reference it (a foreign key) do not. SQLite has no row locks; its
        write transactions already run one at a time.
        """
        return self._with(for_update=True)

    # -- ordering and paging --------------------------------------------------

    def order_by(self, column: ColumnRef, direction: str = "asc") -> Self:
        direction = direction.lower()
        if direction not in ("asc", "desc"):
            raise InvalidQuery(f"order direction must be 'asc' or 'desc', not {direction!r}")
        key = OrderKey(self.column(column), direction == "desc")
        return self._with(orders=(*self._state.orders, key))

    def latest(self, column: ColumnRef = "created_at") -> Self:
        return self.order_by(column, "desc")

    def oldest(self, column: ColumnRef = "created_at") -> Self:
        return self.order_by(column, "asc")

    def reorder(self) -> Self:
        """Drop every ordering so far."""
        return self._with(orders=())

    def limit(self, count: int | BindParameter[int] | None) -> Self:
        """At most ``count`` rows; a bind parameter leaves the number to execution time."""
        if isinstance(count, int) and count < 0:
            raise InvalidQuery("limit must not be negative")
        return self._with(limit=count)

    def offset(self, count: int | None) -> Self:
        if count is not None and count < 0:
            raise InvalidQuery("offset must not be negative")
        return self._with(offset=count)

    def after(self, position: Sequence[Any]) -> Self:
        """Keyset paging: rows that come after ``position`` in the current order.

        ``position`` holds one value per ``order_by`` key, taken from the last
        row of the previous page; end the order with a unique key (the id).
        """
        return self._with(after=self._position(position))

    def before(self, position: Sequence[Any]) -> Self:
        """Keyset paging: rows that come before ``position`` in the current order."""
        return self._with(before=self._position(position))

    def _position(self, position: Sequence[Any]) -> tuple[Any, ...]:
        if len(position) != len(self._state.orders) or not position:
            raise InvalidQuery(
                f"a keyset position needs one value per order key "
                f"({len(self._state.orders)}), got {len(position)}"
            )
        return tuple(position)

    @property
    def orders(self) -> tuple[OrderKey, ...]:
        return self._state.orders

    # -- eager loading --------------------------------------------------------

    def with_(self, *paths: str) -> Self:
        """Eager-load relationships with one ``SELECT ... IN`` per level (``"posts.comments"``)."""
        loads = tuple(self._load_path(path, selectinload) for path in paths)
        return self._with(loads=(*self._state.loads, *loads))

    def with_joined(self, *paths: str) -> Self:
        """Eager-load relationships in the same statement with a LEFT OUTER JOIN."""
        loads = tuple(self._load_path(path, joinedload) for path in paths)
        return self._with(loads=(*self._state.loads, *loads), joined=True)

    def _load_path(self, path: str, strategy: Callable[..., _AbstractLoad]) -> _AbstractLoad:
        model: type[Any] = self.model
        load: _AbstractLoad | None = None
        for name in path.split("."):
            prop = relationship_of(model, name)
            attribute: Any = getattr(model, name)
            target = prop.mapper.class_
            scope = soft_delete_criteria(target, Trashed.WITHOUT)
            if scope is not None and prop.uselist:
                attribute = attribute.and_(scope)
            load = (
                strategy(attribute) if load is None else getattr(load, strategy.__name__)(attribute)
            )
            model = target
        assert load is not None
        return load

    def with_count(self, *relations: str) -> Self:
        """Add ``<relation>_count`` to each row, counted in the same statement."""
        for relation in relations:
            relationship_of(self.model, relation)
        return self._with(counts=(*self._state.counts, *relations))

    def _count_subquery(self, relation: str) -> ScalarSelect[int]:
        prop = relationship_of(self.model, relation)
        target = prop.mapper.class_
        counted = select(func.count())
        if prop.secondary is not None:
            assert prop.secondaryjoin is not None
            counted = counted.select_from(prop.secondary.join(target, prop.secondaryjoin))
        else:
            counted = counted.select_from(target)
        counted = counted.where(prop.primaryjoin)
        scope = soft_delete_criteria(target, Trashed.WITHOUT)
        if scope is not None:
            counted = counted.where(scope)
        return counted.correlate(self.model).scalar_subquery()

    # -- scopes ---------------------------------------------------------------

    def apply(
        self,
        scope: Callable[Concatenate[Self, P], Self],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> Self:
        """Apply a reusable scope: a function that takes and returns a builder."""
        return scope(self, *args, **kwargs)

    # -- statements -----------------------------------------------------------

    @property
    def criteria(self) -> ColumnElement[bool] | None:
        """Everything the WHERE clause says: filters, soft-delete scope and keyset bounds."""
        state = self._state
        parts = [
            part
            for part in (
                state.criteria,
                soft_delete_criteria(self.model, state.trashed),
                self._keyset(state.after, after=True),
                self._keyset(state.before, after=False),
            )
            if part is not None
        ]
        if not parts:
            return None
        return and_(*parts) if len(parts) > 1 else parts[0]

    def _keyset(
        self, position: tuple[Any, ...] | None, *, after: bool
    ) -> ColumnElement[bool] | None:
        if position is None:
            return None
        orders = self._state.orders
        return keyset_predicate(
            [key.column for key in orders],
            [key.descending for key in orders],
            position,
            after=after,
        )

    def _order_clauses(self) -> list[ColumnElement[Any]]:
        return [
            key.column.desc() if key.descending else key.column.asc() for key in self._state.orders
        ]

    @property
    def statement(self) -> Select[Any]:
        """The ``SELECT`` this builder stands for, for anything it does not cover."""
        state = self._state
        counts = [self._count_subquery(name).label(f"{name}_count") for name in state.counts]
        statement = cast(Select[Any], select(self.model, *counts))
        criteria = self.criteria
        if criteria is not None:
            statement = statement.where(criteria)
        if state.orders:
            statement = statement.order_by(*self._order_clauses())
        if state.limit is not None:
            statement = statement.limit(state.limit)
        if state.offset is not None:
            statement = statement.offset(state.offset)
        if state.loads:
            statement = statement.options(*state.loads)
        if state.for_update:
            statement = statement.with_for_update(key_share=True).execution_options(
                populate_existing=True
            )
        return statement

    def to_sql(self, dialect: str | Dialect | None = None) -> str:
        """The SQL with its values inlined, for reading and logging (never execute it)."""
        chosen: Dialect | None
        if isinstance(dialect, str):
            from sqlalchemy.dialects import registry

            # The "named" paramstyle: a "format" one (psycopg's) would print
            # every literal "%" doubled, as its driver needs but a reader must not see.
            chosen = registry.load(dialect)(paramstyle="named")
        elif dialect is None and self._session is not None and self._session.bind is not None:
            chosen = self._session.bind.dialect
        else:
            chosen = dialect
        compiled = self.statement.compile(dialect=chosen, compile_kwargs={"literal_binds": True})
        return str(compiled)

    @property
    def dialect_name(self) -> str:
        """The database the statements are for: the session's, else the one given."""
        if self._session is None and self._dialect is not None:
            return self._dialect
        return self.session.get_bind().dialect.name

    # -- terminals ------------------------------------------------------------

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise NoSessionBound(
                f"QueryBuilder({self.model.__name__}) has no session; "
                "make it with a session or through a repository"
            )
        return self._session

    async def get(self) -> list[ModelT]:
        """Every matching row."""
        if self._state.counts:
            result = await self.session.execute(self.statement)
            if self._state.joined:
                result = result.unique()
            rows: list[ModelT] = []
            names = [f"{name}_count" for name in self._state.counts]
            for row in result:
                instance = row[0]
                for name, value in zip(names, row[1:], strict=True):
                    setattr(instance, name, value)
                rows.append(instance)
            return rows
        scalars = await self.session.scalars(self.statement)
        if self._state.joined:
            scalars = scalars.unique()
        return list(scalars.all())

    async def first(self) -> ModelT | None:
        """The first matching row, or ``None``."""
        rows = await self.limit(1).get()
        return rows[0] if rows else None

    async def first_or_fail(self) -> ModelT:
        """The first matching row; ``RecordNotFound`` when there is none."""
        row = await self.first()
        if row is None:
            raise RecordNotFound(self.model.__name__, None)
        return row

    async def count(self) -> int:
        """How many rows match, ignoring order, limit and offset."""
        return int(await self.session.scalar(self.count_statement()) or 0)

    async def exists(self) -> bool:
        statement = select(literal(1)).select_from(self.model)
        criteria = self.criteria
        if criteria is not None:
            statement = statement.where(criteria)
        return await self.session.scalar(statement.limit(1)) is not None

    async def pluck(self, column: ColumnRef) -> list[Any]:
        """One column of every matching row, in the builder's order."""
        statement = self._columns_statement([self.column(column)])
        return list((await self.session.scalars(statement)).all())

    def _columns_statement(self, columns: Sequence[ColumnElement[Any]]) -> Select[Any]:
        """``SELECT columns`` with this builder's filters, order, limit and offset."""
        state = self._state
        statement = select(*columns).select_from(self.model)
        criteria = self.criteria
        if criteria is not None:
            statement = statement.where(criteria)
        if state.orders:
            statement = statement.order_by(*self._order_clauses())
        return statement.limit(state.limit).offset(state.offset)

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

    async def rows(self, *columns: str) -> list[Row[Any]]:
        """Only ``columns`` of every matching row, as rows (no objects, no identity map)."""
        return await self._core_rows(self.rows_statement(*columns))

    async def _core_rows(self, statement: Select[Any]) -> list[Any]:
        """Run a column-only SELECT on the session's connection, skipping the ORM's machinery."""
        connection = await self.session.connection()
        return list((await connection.execute(statement)).all())

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
        if columns is None:
            selected: list[Any] = [self.model]
            read: list[str] | None = None
        else:
            # The order columns ride along so the outer query can keep the order.
            wanted = [*columns, *(k.column.key for k in self._state.orders if k.column.key)]
            read = list(dict.fromkeys(wanted))
            selected = [self.column(name).label(name) for name in read]
        base = select(*selected).select_from(self.model)
        criteria = self.criteria
        if criteria is not None:
            base = base.where(criteria)
        order_keys = [(str(key.column.key), key.descending) for key in self._state.orders]
        statement = grouped_select(
            self.model,
            link,
            base,
            self._order_clauses(),
            order_keys,
            parents_param(parent_ids),
            limit_per_parent,
            columns is None,
            self.dialect_name,
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
            for row in await self.session.execute(statement):
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
            self.model,
            parent_link(relation, self.model),
            self.criteria,
            parents_param(parent_ids),
            self.dialect_name,
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

    def count_statement(self) -> Select[Any]:
        """``SELECT count(*)`` of the matching rows (order, limit and offset ignored)."""
        statement = select(func.count()).select_from(self.model)
        criteria = self.criteria
        return statement if criteria is None else statement.where(criteria)

    def rows_statement(self, *columns: str) -> Select[Any]:
        """The statement behind ``rows``: the named columns, labelled by their names."""
        return self._columns_statement([self.column(name).label(name) for name in columns])

    async def paginate(self, page: int = 1, per_page: int = 15) -> Page[ModelT]:
        """Offset pagination (page numbers); use ``after``/``before`` for long lists."""
        if page < 1 or per_page < 0:
            raise InvalidQuery("page starts at 1 and per_page must not be negative")
        total = await self.count()
        items = await self.offset((page - 1) * per_page).limit(per_page).get()
        return Page(items=items, total=total, page=page, per_page=per_page)


def like(column: ColumnElement[Any], pattern: str, *, case_sensitive: bool) -> ColumnElement[bool]:
    """``LIKE`` with ``\\`` as escape and the same case rules on PostgreSQL and SQLite.

    Engines from ``fast_query.create_engine`` make SQLite's ``LIKE``
    case-sensitive and its ``lower()`` Unicode-aware, so both backends agree.
    """
    if case_sensitive:
        return column.like(pattern, escape="\\")
    return column.ilike(pattern, escape="\\")
