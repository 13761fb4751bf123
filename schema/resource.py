"""The binding of a GraphQL node type to its model and repository."""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, false, func, true

from fast_query import (
    BaseRepository,
    ColumnRule,
    Computed,
    IdentityMemo,
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


class RegistrationError(Exception):
    """A node type the schema cannot serve: its registration is missing or wrong (start-up)."""


_BY_NAME: dict[str, Resource[Any]] = {}
_BY_MODEL: dict[type[Any], Resource[Any]] = {}


def register(
    type_name: str, model: type[ModelT], repository: type[BaseRepository[Any]]
) -> Resource[ModelT]:
    """Bind node type ``type_name`` to its model and repository: the one registration.

    The container provides every registered repository per request
    (``server.services``), and ``schema.registrations`` checks at start-up
    that every node type and relation of the schema has one.
    """
    if not (isinstance(repository, type) and issubclass(repository, BaseRepository)):
        raise RegistrationError(f"{type_name}: {repository!r} is not a repository class")
    if getattr(repository, "model", None) is not model:
        raise RegistrationError(
            f"{type_name}: {repository.__name__} is the repository of "
            f"{_name(getattr(repository, 'model', None))}, not of {_name(model)}"
        )
    for known in (_BY_NAME.get(type_name), _BY_MODEL.get(model)):
        if known is not None and (known.type_name, known.model) != (type_name, model):
            raise RegistrationError(
                f"{type_name} ({_name(model)}): {known.type_name} ({_name(known.model)}) "
                "is registered already; a name and a model belong to one node type"
            )
    resource = Resource(type_name, model, repository)
    _BY_NAME[type_name] = resource
    _BY_MODEL[model] = resource
    return resource


def _name(model: Any) -> str:
    return f"model {model.__name__}" if isinstance(model, type) else repr(model)


def resources() -> tuple[Resource[Any], ...]:
    """Every registered node type, in the order the type modules registered them."""
    return tuple(_BY_NAME.values())


def by_name(type_name: str) -> Resource[Any] | None:
    return _BY_NAME.get(type_name)


def by_model(model: type[Any]) -> Resource[Any]:
    return _BY_MODEL[model]


def type_names() -> dict[type[Any], str]:
    """The GraphQL type name of every registered model."""
    return {model: resource.type_name for model, resource in _BY_MODEL.items()}


_SCOPES: IdentityMemo[Scopes] = IdentityMemo()
#: What a registration declares that the scopes are made from.
_DECLARED_BY = attrgetter(
    "repository.scope",
    "repository.trashed_scope",
    "repository.can_update",
    "repository.can_delete",
    "repository.masks",
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
        # An anonymous viewer's id is NULL, and ``user_id = NULL`` is unknown: false here.
        return true() if condition is None else func.coalesce(condition, false())

    return compute


def scopes() -> Scopes:
    """The row scope of every registered model, as its repository declares it.

    Read anew on each call (a test may give a repository another scope), and
    the same ``Scopes`` object while no scope changes: statement caches key on it.
    """
    resources = list(_BY_MODEL.values())
    declared = tuple([x for r in resources for x in (r, *_DECLARED_BY(r))])

    def make() -> Scopes:
        computed = {
            r.model: {
                name: permission(r.model, getattr(r.repository, rule))
                for name, rule in VIEWER_CAN.items()
            }
            for r in resources
        }
        return Scopes.of(r.repository for r in resources).computing(computed)

    return _SCOPES.get(declared, make)
