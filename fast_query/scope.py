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
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from sqlalchemy import BindParameter, ColumnElement
from sqlalchemy.sql.visitors import cloned_traverse

from fast_query.predicates import Trashed, all_of, soft_delete_criteria

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


class Scopes:
    """The row scope of each model, plus the soft-delete rule: the one place that says what exists.

    Made from the repositories (``Scopes.of``) or a mapping of model to
    ``RowScope``; immutable, so one instance serves every request.
    """

    __slots__ = ("_scopes",)

    def __init__(self, scopes: Mapping[type[Any], RowScope] | None = None) -> None:
        self._scopes: Mapping[type[Any], RowScope] = MappingProxyType(dict(scopes or {}))

    @classmethod
    def of(cls, repositories: Iterable[type[BaseRepository[Any]]]) -> Scopes:
        """The scopes the repositories set, by model (those without one add nothing)."""
        return cls(
            {
                repository.model: repository.scope
                for repository in repositories
                if repository.scope is not None
            }
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
            soft_delete_criteria(model, trashed, on), None if scope is None else scope.where(on)
        )

    def including(self, other: Scopes) -> Scopes:
        """These scopes and ``other``'s (``other``'s win); ``self`` when it adds nothing."""
        if all(self._scopes.get(model) is scope for model, scope in other._scopes.items()):
            return self
        return Scopes({**self._scopes, **other._scopes})

    def scope_of(self, model: type[Any]) -> RowScope | None:
        """``model``'s row scope, or ``None`` when only soft deletes limit its rows."""
        return self._scopes.get(model)

    def key(self, model: type[Any]) -> Hashable:
        """What about ``model``'s rows changes SQL, for statement-cache keys.

        The ``RowScope`` itself (compared by identity), or ``None``.
        """
        return self._scopes.get(model)

    def __repr__(self) -> str:
        models = ", ".join(sorted(model.__name__ for model in self._scopes))
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
