"""Where one request's rows come from: the models' row scopes and the request's values for them.

Every read of the schema (lookups, lists, nested relations, ``node``,
relation filters, reference checks, the fast path) starts from ``Rows.query``
or ``Rows.criteria``, so a rule a repository adds to its row scope holds on
every path by construction. The scopes are data with named bind parameters;
``RowParams`` carries the request's values for them (the viewer's), so
statements built once serve every request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from fast_query import QueryBuilder, Scopes, Trashed
from schema.viewer import ANONYMOUS, Viewer


@dataclass(slots=True)
class RowParams:
    """The request's viewer and its values for the row scopes' parameters (a scoped service).

    ``values`` is one dict for the whole request, shared by its repositories
    and loaders: ``sign_in`` changes it in place when a mutation signs
    someone in, so the rest of the document runs as that viewer.
    """

    values: dict[str, Any] = field(default_factory=dict)
    viewer: Viewer = ANONYMOUS

    @classmethod
    def of(cls, viewer: Viewer) -> RowParams:
        return cls(viewer.params(), viewer)

    def sign_in(self, viewer: Viewer) -> None:
        self.viewer = viewer
        self.values.clear()
        self.values.update(viewer.params())


@dataclass(frozen=True, slots=True)
class SeenColumns:
    """How one request sees one model's loaded rows: masked columns ``NULL`` where hidden."""

    scopes: Scopes
    model: type[Any]
    params: Mapping[str, Any]

    def value(self, row: Any, name: str) -> Any:
        return self.scopes.value(self.model, name, row, self.params)

    def sort_value(self, name: str, value: Any) -> Any:
        """A seen value as the order sorts it (hidden values sort as one, before the rest)."""
        return self.scopes.sort_value(self.model, name, value)


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

    def seen(self, model: type[Any]) -> SeenColumns | None:
        """How this request sees ``model``'s masked columns; ``None`` when it has none."""
        if not self.scopes.masks(model):
            return None
        return SeenColumns(self.scopes, model, self.params)
