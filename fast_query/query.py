"""A fluent, generative query builder over one mapped model.

Every method returns a new builder, so a base query can be shared and
extended safely; nothing touches the database until an awaited terminal
(``get``, ``first``, ``count``, ...) runs. The conditions it writes are in
``predicates``, its reads of many parents at once in ``_grouped``, its eager
loads and relation counts in ``_loading``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Concatenate, ParamSpec, Self, TypeVar, cast

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Row,
    Select,
    and_,
    func,
    literal,
    not_,
    or_,
    select,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute, joinedload, selectinload
from sqlalchemy.orm.interfaces import LoaderOption

from fast_query._grouped import GroupedReads, parents_param
from fast_query._keyset import keyset_predicate
from fast_query._loading import count_subquery, load_path
from fast_query.base import Base
from fast_query.exceptions import InvalidQuery, NoSessionBound, RecordNotFound
from fast_query.pagination import Page
from fast_query.predicates import (
    Trashed,
    all_of,
    like,
    relationship_of,
    values_in,
    values_not_in,
    where_all,
)
from fast_query.scope import NO_SCOPES, Scopes

ModelT = TypeVar("ModelT", bound=Base)
P = ParamSpec("P")

ColumnRef = str | QueryableAttribute[Any] | ColumnElement[Any]


@dataclass(frozen=True, slots=True)
class OrderKey:
    column: ColumnElement[Any]
    descending: bool = False

    @property
    def clause(self) -> ColumnElement[Any]:
        """``column ASC`` or ``column DESC``, for ``ORDER BY``."""
        return self.column.desc() if self.descending else self.column.asc()


@dataclass(frozen=True, slots=True)
class _State:
    criteria: ColumnElement[bool] | None = None
    orders: tuple[OrderKey, ...] = ()
    limit: int | BindParameter[int] | None = None
    offset: int | None = None
    after: tuple[Any, ...] | None = None
    before: tuple[Any, ...] | None = None
    loads: tuple[LoaderOption, ...] = ()
    joined: bool = False
    counts: tuple[str, ...] = ()
    trashed: Trashed = Trashed.WITHOUT
    columns: tuple[ColumnElement[Any], ...] = field(default=())
    for_update: bool = False


class QueryBuilder(GroupedReads[ModelT]):
    """Eloquent-style queries on one model, typed by that model.

    Terminals (``get``, ``count``...) run on ``session``. Without a session a
    builder still makes statements; ``dialect`` (``"postgresql"``,
    ``"sqlite"``) names the database those that differ by database are for.

    ``scopes`` says which rows exist: every read carries its model's row
    scope and soft-delete rule, and so do the related rows of ``where_has``,
    ``with_`` and ``with_count``. ``params`` are the values of the scopes'
    bind parameters, passed to every statement a terminal runs.
    """

    __slots__ = ("_dialect", "_params", "_scopes", "_session", "_state", "model")

    def __init__(
        self,
        model: type[ModelT],
        session: AsyncSession | None = None,
        *,
        dialect: str | None = None,
        scopes: Scopes = NO_SCOPES,
        params: Mapping[str, Any] | None = None,
        _state: _State = _State(),
    ) -> None:
        self.model = model
        self._session = session
        self._dialect = dialect
        self._scopes = scopes
        self._params: Mapping[str, Any] = (
            params if isinstance(params, MappingProxyType) else MappingProxyType(dict(params or {}))
        )
        self._state = _state

    def _with(self, **changes: Any) -> Self:
        return type(self)(
            self.model,
            self._session,
            dialect=self._dialect,
            scopes=self._scopes,
            params=self._params,
            _state=replace(self._state, **changes),
        )

    @property
    def scopes(self) -> Scopes:
        """The row scopes (and soft-delete rule) this builder's reads carry."""
        return self._scopes

    @property
    def params(self) -> Mapping[str, Any]:
        """The execution parameters of every statement it runs (the scopes' values)."""
        return self._params

    def column(self, ref: ColumnRef) -> ColumnElement[Any]:
        """The column ``ref`` names on this model (a name, attribute or expression)."""
        if isinstance(ref, str):
            if not self._scopes.has_column(self.model, ref):
                raise InvalidQuery(f"{self.model.__name__} has no column {ref!r}")
            return self._scopes.column(self.model, ref)
        if isinstance(ref, QueryableAttribute):
            return ref.expression
        return ref

    # -- filtering ----------------------------------------------------------------

    def _conditions(
        self, conditions: Sequence[ColumnElement[bool]], equals: dict[str, Any]
    ) -> ColumnElement[bool]:
        condition = all_of(
            *conditions, *(self.column(name) == value for name, value in equals.items())
        )
        if condition is None:
            raise InvalidQuery("where() needs at least one condition")
        return condition

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

    def where_in(self, column: ColumnRef, values: Iterable[Any] | BindParameter[Any]) -> Self:
        """``column`` is one of ``values``, bound as one parameter (``values_in``)."""
        return self.where(values_in(self.column(column), values))

    def where_key_in(self, column: ColumnRef, keys: Sequence[Any] | None = None) -> Self:
        """``column`` is one of ``keys``, bound as one parameter named ``fq_parents``.

        Without ``keys`` the parameter is a placeholder, its list given when
        the statement runs (``{"fq_parents": [...]}``).
        """
        return self.where(values_in(self.column(column), parents_param(keys)))

    def where_not_in(self, column: ColumnRef, values: Iterable[Any] | BindParameter[Any]) -> Self:
        """``column`` is none of ``values``, bound as one parameter (``values_not_in``)."""
        return self.where(values_not_in(self.column(column), values))

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
        of it; the related model's soft deletes and row scope apply.
        """
        return self.where(self.has_condition(relation, condition))

    def where_doesnt_have(self, relation: str, condition: Any = None) -> Self:
        """Rows with no related row (matching ``condition``): ``NOT EXISTS``."""
        return self.where(not_(self.has_condition(relation, condition)))

    def has_condition(self, relation: str, condition: Any = None) -> ColumnElement[bool]:
        """The ``EXISTS`` expression behind ``where_has``, for composing with ``or_``."""
        head, _, rest = relation.partition(".")
        prop = relationship_of(self.model, head)
        related: QueryBuilder[Any] = QueryBuilder(
            prop.mapper.class_, scopes=self._scopes, params=self._params
        )
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
        expression = self.column(column)
        if isinstance(column, str):  # a masked column sorts its hidden values as one
            expression = self._scopes.sort_column(self.model, column)
        key = OrderKey(expression, direction == "desc")
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
        loads = tuple(self._load(path, selectinload) for path in paths)
        return self._with(loads=(*self._state.loads, *loads))

    def with_joined(self, *paths: str) -> Self:
        """Eager-load relationships in the same statement with a LEFT OUTER JOIN."""
        loads = tuple(self._load(path, joinedload) for path in paths)
        return self._with(loads=(*self._state.loads, *loads), joined=True)

    def _load(self, path: str, strategy: Callable[..., Any]) -> LoaderOption:
        return load_path(self.model, path, strategy, self._scopes, self._params)

    def with_count(self, *relations: str) -> Self:
        """Add ``<relation>_count`` to each row, counted in the same statement."""
        for relation in relations:
            relationship_of(self.model, relation)
        return self._with(counts=(*self._state.counts, *relations))

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
        """Everything the WHERE clause says: filters, scopes, soft deletes and keyset bounds."""
        state = self._state
        return all_of(
            state.criteria,
            self._scopes.criteria(self.model, state.trashed),
            self._keyset(state.after, after=True),
            self._keyset(state.before, after=False),
        )

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
        return [key.clause for key in self._state.orders]

    @property
    def statement(self) -> Select[Any]:
        """The ``SELECT`` this builder stands for, for anything it does not cover."""
        state = self._state
        counts = [
            count_subquery(self.model, name, self._scopes).label(f"{name}_count")
            for name in state.counts
        ]
        statement = where_all(cast(Select[Any], select(self.model, *counts)), self.criteria)
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
        """The SQL with its values and ``params`` inlined, for reading and logging only."""
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
        statement = self.statement
        if self._params:
            statement = statement.params(dict(self._params))
        compiled = statement.compile(dialect=chosen, compile_kwargs={"literal_binds": True})
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
            result = await self.session.execute(self.statement, self._params)
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
        scalars = await self.session.scalars(self.statement, self._params)
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
        return int(await self.session.scalar(self.count_statement(), self._params) or 0)

    async def exists(self) -> bool:
        """Whether any row matches."""
        statement = where_all(select(literal(1)).select_from(self.model), self.criteria)
        return await self.session.scalar(statement.limit(1), self._params) is not None

    async def pluck(self, column: ColumnRef) -> list[Any]:
        """One column of every matching row, in the builder's order."""
        statement = self._columns_statement([self.column(column)])
        return list((await self.session.scalars(statement, self._params)).all())

    def _columns_statement(self, columns: Sequence[ColumnElement[Any]]) -> Select[Any]:
        """``SELECT columns`` with this builder's filters, order, limit and offset."""
        state = self._state
        statement = where_all(select(*columns).select_from(self.model), self.criteria)
        if state.orders:
            statement = statement.order_by(*self._order_clauses())
        return statement.limit(state.limit).offset(state.offset)

    async def rows(self, *columns: str) -> list[Row[Any]]:
        """Only ``columns`` of every matching row, as rows (no objects, no identity map)."""
        return await self._core_rows(self.rows_statement(*columns))

    def count_statement(self) -> Select[Any]:
        """``SELECT count(*)`` of the matching rows (order, limit and offset ignored)."""
        return where_all(select(func.count()).select_from(self.model), self.criteria)

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
