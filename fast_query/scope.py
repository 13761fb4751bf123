"""Which rows exist for a request, as data: row scopes and the soft-delete rule.

A repository's ``scope`` is a condition on its model, with named bind
parameters for what a request decides (a tenant, the viewer). Every read a
``QueryBuilder`` makes carries the scopes it was given: the rows it selects,
the related rows of ``where_has`` and eager loads, the counts of
``with_count``. The values come when a statement runs, so a statement built
once serves every request::

    class PostRepository(BaseRepository[Post]):
        model = Post
        scope = RowScope(lambda posts: posts.user_id == bindparam("viewer_id"))

    scopes = Scopes.of([PostRepository, UserRepository])
    posts = QueryBuilder(Post, session, scopes=scopes, params={"viewer_id": 7})

Beside the rows, a repository may say who may ask for soft-deleted rows
(``trashed_scope``: the soft-deleted rows a ``WITH``/``ONLY`` read shows)
and which columns some viewers see as ``NULL`` (``masks``: a column's rule;
filters and orders on the column see the same ``NULL``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from sqlalchemy import BindParameter, ColumnElement, String, case, func, literal, null, or_
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.visitors import cloned_traverse

from fast_query.exceptions import InvalidQuery
from fast_query.predicates import Trashed, all_of, soft_delete_criteria

_V = TypeVar("_V")

if TYPE_CHECKING:
    from fast_query.repository import BaseRepository


@dataclass(frozen=True, eq=False, slots=True)
class RowScope:
    """Conditions every read of one model carries beside soft deletes (a tenant, the viewer).

    ``where(entity)`` gets the model class or an aliased entity of it
    (``sqlalchemy.orm.aliased``) and returns a condition on it. Request
    values appear as named bind parameters (``bindparam("viewer_id")``)
    whose values come with the statement's execution parameters, so the SQL
    stays the same for every request and compiled statements stay cacheable.
    """

    where: Callable[[Any], ColumnElement[bool]]


class ColumnRule(Protocol):
    """Who sees a column's value (a ``fast_query.rules.Rule``): in SQL and on a loaded row."""

    def where(self, entity: Any) -> ColumnElement[bool]: ...

    def allows(self, row: Any, params: Mapping[str, Any]) -> bool: ...


#: A column computed from a row (on the model or an alias of it): a rule's answer, say.
Computed = Callable[[Any], ColumnElement[Any]]

#: Where a masked text column sorts a hidden value: before every value, as ``NULLS FIRST``.
#: Keyset paging compares positions, and ``NULL`` compares to nothing.
_HIDDEN_SORTS_AS = ""


class Scopes:
    """The row scope of each model, plus the soft-delete rule: the one place that says what exists.

    Made from the repositories (``Scopes.of``) or a mapping of model to
    ``RowScope``; immutable, so one instance serves every request.
    """

    __slots__ = ("_computed", "_masks", "_scopes", "_trashed")

    def __init__(
        self,
        scopes: Mapping[type[Any], RowScope] | None = None,
        *,
        trashed: Mapping[type[Any], RowScope] | None = None,
        masks: Mapping[type[Any], Mapping[str, ColumnRule]] | None = None,
        computed: Mapping[type[Any], Mapping[str, Computed]] | None = None,
    ) -> None:
        self._scopes: Mapping[type[Any], RowScope] = MappingProxyType(dict(scopes or {}))
        self._trashed: Mapping[type[Any], RowScope] = MappingProxyType(dict(trashed or {}))
        self._masks: Mapping[type[Any], Mapping[str, ColumnRule]] = MappingProxyType(
            {
                model: MappingProxyType(dict(rules))
                for model, rules in (masks or {}).items()
                if rules
            }
        )
        self._computed: Mapping[type[Any], Mapping[str, Computed]] = MappingProxyType(
            {model: MappingProxyType(dict(found)) for model, found in (computed or {}).items()}
        )
        for model, rules in self._masks.items():
            for name in rules:
                column = getattr(model, name, None)
                if column is None or not isinstance(column.type, String):
                    raise InvalidQuery(f"only text columns can be masked: {model.__name__}.{name}")

    @classmethod
    def of(cls, repositories: Iterable[type[BaseRepository[Any]]]) -> Scopes:
        """The scopes the repositories set, by model (those without one add nothing)."""
        chosen = list(repositories)
        return cls(
            {r.model: r.scope for r in chosen if r.scope is not None},
            trashed={r.model: r.trashed_scope for r in chosen if r.trashed_scope is not None},
            masks={r.model: r.masks for r in chosen if r.masks},
        )

    def criteria(
        self, model: type[Any], trashed: Trashed = Trashed.WITHOUT, entity: Any = None
    ) -> ColumnElement[bool] | None:
        """The rows of ``model`` that exist: ``trashed``'s soft-delete condition AND its scope.

        Both are read on ``entity``, the model itself by default or an aliased
        entity of it; ``None`` when neither applies.
        """
        on = model if entity is None else entity
        scope = self._scopes.get(model)
        return all_of(
            soft_delete_criteria(model, trashed, on),
            None if scope is None else scope.where(on),
            self._trashed_criteria(model, trashed, on),
        )

    def _trashed_criteria(
        self, model: type[Any], trashed: Trashed, on: Any
    ) -> ColumnElement[bool] | None:
        """Which soft-deleted rows a ``WITH``/``ONLY`` read may show (``trashed_scope``)."""
        rule = self._trashed.get(model)
        if rule is None or trashed in (Trashed.WITHOUT, Trashed.RELATED):
            return None
        if trashed is Trashed.ONLY:
            return rule.where(on)
        return or_(on.deleted_at.is_(None), rule.where(on))

    def including(self, other: Scopes) -> Scopes:
        """These scopes and ``other``'s (``other``'s win); ``self`` when it adds nothing."""
        if (
            all(self._scopes.get(m) is s for m, s in other._scopes.items())
            and all(self._trashed.get(m) is s for m, s in other._trashed.items())
            and all(self._masks.get(m) == s for m, s in other._masks.items())
            and all(self._computed.get(m) == s for m, s in other._computed.items())
        ):
            return self
        return Scopes(
            {**self._scopes, **other._scopes},
            trashed={**self._trashed, **other._trashed},
            masks={**self._masks, **other._masks},
            computed={**self._computed, **other._computed},
        )

    def computing(self, computed: Mapping[type[Any], Mapping[str, Computed]]) -> Scopes:
        """These scopes, with named computed columns (``viewer_can_update``) readable by name."""
        return Scopes(self._scopes, trashed=self._trashed, masks=self._masks, computed=computed)

    # -- masked columns --------------------------------------------------------

    def column(self, model: type[Any], name: str, entity: Any = None) -> ColumnElement[Any]:
        """Column ``name`` of ``model`` (on ``entity``) as the request sees it (masked: ``NULL``).

        What selects, filters and ``where(name=...)`` read, so a hidden value
        cannot be probed through a filter.
        """
        on = model if entity is None else entity
        compute = self._computed.get(model, {}).get(name)
        if compute is not None:
            return compute(on)
        attribute: Any = getattr(on, name)
        rule = self._masks.get(model, {}).get(name)
        if rule is None:
            column: ColumnElement[Any] = attribute.expression
            return column
        masked: ColumnElement[Any] = case((rule.where(on), attribute), else_=null())
        return masked

    def sort_column(self, model: type[Any], name: str, entity: Any = None) -> ColumnElement[Any]:
        """What orders by column ``name``: a masked one sorts hidden values first, as one value."""
        column = self.column(model, name, entity)
        if name not in self._masks.get(model, {}):
            return column
        return func.coalesce(column, literal(_HIDDEN_SORTS_AS, column.type))

    def value(self, model: type[Any], name: str, row: Any, params: Mapping[str, Any]) -> Any:
        """Column ``name`` of a loaded ``row`` as the request sees it (the rule, in Python)."""
        rule = self._masks.get(model, {}).get(name)
        if rule is None or rule.allows(row, params):
            return getattr(row, name)
        return None

    def sort_value(self, model: type[Any], name: str, value: Any) -> Any:
        """A seen value of column ``name`` as ``sort_column`` orders it (a cursor's position)."""
        if value is None and name in self._masks.get(model, {}):
            return _HIDDEN_SORTS_AS
        return value

    def has_column(self, model: type[Any], name: str) -> bool:
        """Whether ``column`` knows ``name`` on ``model``: a mapped column or a computed one."""
        return name in self._computed.get(model, {}) or isinstance(
            getattr(model, name, None), QueryableAttribute
        )

    def masks(self, model: type[Any]) -> Mapping[str, ColumnRule]:
        """The masked columns of ``model`` and their rules."""
        return self._masks.get(model, {})

    def scope_of(self, model: type[Any]) -> RowScope | None:
        """``model``'s row scope, or ``None`` when only soft deletes limit its rows."""
        return self._scopes.get(model)

    def key(self, model: type[Any]) -> Hashable:
        """What about ``model``'s rows changes SQL, for statement-cache keys.

        Its ``RowScope``, ``trashed_scope`` and masks (compared by identity).
        """
        return (
            self._scopes.get(model),
            self._trashed.get(model),
            tuple(map(id, self._masks.get(model, {}).values())),
            tuple(map(id, self._computed.get(model, {}).values())),
        )

    def __repr__(self) -> str:
        models = ", ".join(sorted({m.__name__ for m in (*self._scopes, *self._trashed)}))
        return f"Scopes({models})"


#: Soft deletes only: no model has a row scope.
NO_SCOPES = Scopes()


def bind_values(condition: ColumnElement[bool], params: Mapping[str, Any]) -> ColumnElement[bool]:
    """``condition`` with the values of ``params`` in its named bind parameters.

    For the statements SQLAlchemy runs on its own (a ``selectinload``'s),
    which do not get the execution parameters of the statement that caused them.
    """
    if not params:
        return condition

    def bind(parameter: BindParameter[Any]) -> None:
        if parameter.key in params:
            parameter.value = params[parameter.key]
            parameter.required = False

    return cloned_traverse(condition, {}, {"bindparam": bind})


class IdentityMemo(Generic[_V]):
    """What was made for the last tuple of declarations asked for, kept while the same
    objects are asked for again: compared by identity, cheaply, where hashing rule trees
    would walk them on every request. The key is held, so no id is reused meanwhile."""

    __slots__ = ("_key", "_value")

    def __init__(self) -> None:
        self._key: tuple[Any, ...] | None = None
        self._value: _V | None = None

    def get(self, key: tuple[Any, ...], make: Callable[[], _V]) -> _V:
        kept = self._key
        if (
            kept is not None
            and len(kept) == len(key)
            and all(a is b for a, b in zip(kept, key, strict=True))
        ):
            return self._value  # type: ignore[return-value]
        value = make()
        self._key, self._value = key, value
        return value
