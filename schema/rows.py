"""Where one request's rows come from: the models' row scopes and the request's values for them.

Every read of the schema (lookups, lists, nested relations, ``node``,
relation filters, reference checks, the fast path) starts from ``Rows.query``
or ``Rows.criteria``, so a rule a repository adds to its row scope holds on
every path by construction. The scopes are data with named bind parameters;
``RowParams`` carries the request's values for them, so statements built
once serve every request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from fast_query import QueryBuilder, Scopes, Trashed


@dataclass(frozen=True, slots=True)
class RowParams:
    """The request's values for the bind parameters of the row scopes (a scoped service)."""

    values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Rows:
    """The rows one request may read: scoped queries on its session or for its database."""

    scopes: Scopes
    params: Mapping[str, Any]
    session: AsyncSession | None = None
    dialect: str | None = None

    def query(self, model: type[Any], trashed: Trashed = Trashed.WITHOUT) -> QueryBuilder[Any]:
        """The rows of ``model`` this request sees (``trashed`` picks the soft-deleted ones)."""
        builder: QueryBuilder[Any] = QueryBuilder(
            model, self.session, dialect=self.dialect, scopes=self.scopes, params=self.params
        )
        return builder.trashed(trashed)

    def criteria(
        self, model: type[Any], trashed: Trashed = Trashed.WITHOUT, entity: Any = None
    ) -> ColumnElement[bool] | None:
        """The condition ``query`` puts on ``model`` (on ``entity``, an alias of it, if given)."""
        return self.scopes.criteria(model, trashed, entity)
