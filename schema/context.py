"""What every resolver reaches through ``info.context``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import strawberry

from schema.loaders import Loaders
from schema.rows import RowParams
from schema.viewer import Viewer

T = TypeVar("T")


class ServiceScope(Protocol):
    """The request's container scope (``server.container.Scope``)."""

    async def get(self, key: type[T]) -> T: ...


@dataclass(frozen=True, slots=True)
class FilterLimits:
    """What one filter may hold (settings ``GRAPHQL_MAX_FILTER_*``).

    The defaults refuse nothing the contract's limits let through: a list
    (``in``, ``notIn``) is one bound parameter however long, so a term is a
    condition, and a document under the token limit, or variables under
    their 10,000-value cap, hold fewer than ``terms`` of them. Each term
    binds at most one parameter of its own (a relation filter adds its row
    scope's), far below the 32,766 a statement takes. ``relations`` is the
    exception: see its note.
    """

    #: ``and``/``or``/``not`` and relation filters nested deeper than this are refused.
    #: graphql-core itself refuses input nested deeper than 200 objects and lists
    #: (99 ``and``s, 198 ``not``s), so this default refuses nothing it lets through.
    depth: int = 200
    #: Relation filters (``posts: {some: ...}``, ``author: {...}``: each an ``EXISTS``
    #: subquery) nested in one another. The contract sets no bound, but 40 nested
    #: ``EXISTS`` overflow Python's stack in SQLAlchemy's compiler and take PostgreSQL's
    #: planner seconds; 10 is the depth this guard has always allowed.
    relations: int = 10
    #: Conditions in one filter, lists counting once.
    terms: int = 10_000
    #: The longest ``contains``/``iContains``/``startsWith``/``endsWith`` value. They
    #: compare text, not a ``LIKE`` pattern (which SQLite caps at 50,000 bytes), so
    #: the default is the request body's own limit: a setting to lower, not a cap.
    pattern_length: int = 1024 * 1024


@dataclass(frozen=True, slots=True)
class PageLimits:
    """The request limits the fields enforce themselves: page sizes and filter sizes."""

    default_page_size: int = 20
    max_page_size: int = 100
    filters: FilterLimits = FilterLimits()


@dataclass(slots=True)
class Context:
    """One request's services: its container scope, dataloaders and limits."""

    scope: ServiceScope
    loaders: Loaders
    limits: PageLimits
    params: RowParams = field(default_factory=RowParams)
    request_id: str = ""

    @property
    def viewer(self) -> Viewer:
        return self.params.viewer

    async def service(self, key: type[T]) -> T:
        return await self.scope.get(key)


Info = strawberry.Info[Context, Any]
