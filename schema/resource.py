"""The binding of a GraphQL node type to its model and repository."""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, true

from fast_query import (
    BaseRepository,
    ColumnRule,
    Computed,
    Scopes,
    SoftDeletesMixin,
    Trashed,
    all_of,
    soft_delete_criteria,
)

ModelT = TypeVar("ModelT")


@dataclass(frozen=True, eq=False, slots=True)
class Resource(Generic[ModelT]):
    """What the generic fields need to know of one node type."""

    type_name: str
    model: type[ModelT]
    repository: type[BaseRepository[Any]]

    @property
    def soft_deletes(self) -> bool:
        return issubclass(self.model, SoftDeletesMixin)


_BY_NAME: dict[str, Resource[Any]] = {}
_BY_MODEL: dict[type[Any], Resource[Any]] = {}


def register(
    type_name: str, model: type[ModelT], repository: type[BaseRepository[Any]]
) -> Resource[ModelT]:
    resource = Resource(type_name, model, repository)
    _BY_NAME[type_name] = resource
    _BY_MODEL[model] = resource
    return resource


def by_name(type_name: str) -> Resource[Any] | None:
    return _BY_NAME.get(type_name)


def by_model(model: type[Any]) -> Resource[Any]:
    return _BY_MODEL[model]


def type_names() -> dict[type[Any], str]:
    """The GraphQL type name of every registered model."""
    return {model: resource.type_name for model, resource in _BY_MODEL.items()}


_SCOPES: dict[tuple[Any, ...], Scopes] = {}
_RULES_OF = attrgetter(
    "repository.scope",
    "repository.trashed_scope",
    "repository.can_update",
    "repository.can_delete",
)
#: The computed columns of every node type: whether the viewer may update or delete the row.
VIEWER_CAN = {"viewer_can_update": "can_update", "viewer_can_delete": "can_delete"}


def permission(model: type[Any], rule: ColumnRule | None) -> Computed:
    """Whether the write that ``rule`` guards is allowed on a row: never on a soft-deleted one
    (its update or delete is ``NOT_FOUND``). The one definition of ``viewerCanUpdate`` and
    ``viewerCanDelete``, for the fast path's ``SELECT`` and the resolvers' batched loader."""

    def compute(entity: Any) -> ColumnElement[Any]:
        live = soft_delete_criteria(model, Trashed.WITHOUT, entity)
        condition = all_of(live, None if rule is None else rule.where(entity))
        return true() if condition is None else condition

    return compute


def scopes() -> Scopes:
    """The row scope of every registered model, as its repository declares it.

    Read anew on each call (a test may give a repository another scope), and
    the same ``Scopes`` object while no scope changes: statement caches key on it.
    """
    declared = tuple((*_RULES_OF(r), tuple(r.repository.masks.items())) for r in _BY_MODEL.values())
    found = _SCOPES.get(declared)
    if found is None:
        _SCOPES.clear()
        resources = list(_BY_MODEL.values())
        computed = {
            r.model: {
                name: permission(r.model, getattr(r.repository, rule))
                for name, rule in VIEWER_CAN.items()
            }
            for r in resources
        }
        found = Scopes.of(r.repository for r in resources).computing(computed)
        _SCOPES[declared] = found
    return found
