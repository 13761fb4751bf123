"""The binding of a GraphQL node type to its model and repository."""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter
from typing import Any, Generic, TypeVar

from fast_query import BaseRepository, Scopes, SoftDeletesMixin

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
_SCOPE_OF = attrgetter("repository.scope")


def scopes() -> Scopes:
    """The row scope of every registered model, as its repository declares it.

    Read anew on each call (a test may give a repository another scope), and
    the same ``Scopes`` object while no scope changes: statement caches key on it.
    """
    declared = tuple(map(_SCOPE_OF, _BY_MODEL.values()))
    found = _SCOPES.get(declared)
    if found is None:
        _SCOPES.clear()
        found = _SCOPES[declared] = Scopes.of(r.repository for r in _BY_MODEL.values())
    return found
