"""Conditions that stand on their own: soft deletes, LIKE, lists, and ANDing what applies.

They take columns or models, not a builder, so code that builds its own
statements (a compiled fast path, a reference check) writes the same SQL as
``QueryBuilder`` does.
"""

from __future__ import annotations

import enum
from typing import Any, Protocol, Self, TypeVar, cast

from sqlalchemy import ColumnElement, false, inspect
from sqlalchemy.orm import QueryableAttribute, RelationshipProperty

from fast_query._balanced import conjunction
from fast_query._lists import values_in, values_not_in
from fast_query.exceptions import InvalidQuery
from fast_query.mixins import SoftDeletesMixin

__all__ = [
    "Trashed",
    "all_of",
    "escape_like",
    "like",
    "relationship_of",
    "soft_delete_criteria",
    "values_in",
    "values_not_in",
    "where_all",
]


class Trashed(enum.Enum):
    """Which soft-deleted rows a query sees."""

    WITHOUT = "without"
    WITH = "with"
    ONLY = "only"
    #: The row a to-one relation leads to, soft-deleted or not, for whoever asks
    #: (``Post.author``): ``WITH`` without the rule on who may ask for trashed rows.
    RELATED = "related"


def soft_delete_criteria(
    model: type[Any], trashed: Trashed, entity: Any = None
) -> ColumnElement[bool] | None:
    """The condition ``trashed`` puts on ``model``, or ``None`` when it has none.

    ``entity`` is where the condition reads ``deleted_at``: the model itself
    by default, or an aliased entity of it (``sqlalchemy.orm.aliased``).
    """
    if trashed is Trashed.WITH or trashed is Trashed.RELATED:
        return None
    if not issubclass(model, SoftDeletesMixin):
        # Nothing of a model without soft deletes is ever trashed.
        return false() if trashed is Trashed.ONLY else None
    deleted_at: QueryableAttribute[Any] = (model if entity is None else entity).deleted_at
    return deleted_at.is_(None) if trashed is Trashed.WITHOUT else deleted_at.is_not(None)


def all_of(*conditions: ColumnElement[bool] | None) -> ColumnElement[bool] | None:
    """The AND of the conditions that are not ``None``; ``None`` when none is left."""
    parts = [condition for condition in conditions if condition is not None]
    return conjunction(parts) if parts else None


class Filterable(Protocol):
    """A statement with a WHERE clause: ``Select``, ``Exists``, ``Update``, ``Delete``."""

    def where(self, *whereclause: ColumnElement[bool]) -> Self: ...


StatementT = TypeVar("StatementT", bound=Filterable)


def where_all(statement: StatementT, *conditions: ColumnElement[bool] | None) -> StatementT:
    """``statement`` filtered by the conditions that are not ``None`` (unchanged without any)."""
    condition = all_of(*conditions)
    return statement if condition is None else statement.where(condition)


def escape_like(value: str, escape: str = "\\") -> str:
    """Escape ``%``, ``_`` and the escape character so they match themselves."""
    return (
        value.replace(escape, escape + escape).replace("%", escape + "%").replace("_", escape + "_")
    )


def like(column: ColumnElement[Any], pattern: str, *, case_sensitive: bool) -> ColumnElement[bool]:
    """``LIKE`` with ``\\`` as escape and the same case rules on PostgreSQL and SQLite.

    Engines from ``fast_query.create_engine`` make SQLite's ``LIKE``
    case-sensitive and its ``lower()`` Unicode-aware, so both backends agree.
    """
    if case_sensitive:
        return column.like(pattern, escape="\\")
    return column.ilike(pattern, escape="\\")


def relationship_of(model: type[Any], name: str) -> RelationshipProperty[Any]:
    """``model``'s relationship ``name``; ``InvalidQuery`` when it has none of that name."""
    relationships = inspect(model).relationships
    if name not in relationships:
        raise InvalidQuery(f"{model.__name__} has no relationship {name!r}")
    return cast(RelationshipProperty[Any], relationships[name])
