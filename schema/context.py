"""What every resolver reaches through ``info.context``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import strawberry

from schema.loaders import Loaders

T = TypeVar("T")


class ServiceScope(Protocol):
    """The request's container scope (``server.container.Scope``)."""

    async def get(self, key: type[T]) -> T: ...

    def provider(self, key: object) -> Callable[..., Any]:
        """What would make ``key`` here (a class, a factory), without making it."""
        ...


@dataclass(frozen=True, slots=True)
class PageLimits:
    default_page_size: int = 20
    max_page_size: int = 100


@dataclass(slots=True)
class Context:
    """One request's services: its container scope, dataloaders and limits."""

    scope: ServiceScope
    loaders: Loaders
    limits: PageLimits
    request_id: str = ""

    async def service(self, key: type[T]) -> T:
        return await self.scope.get(key)


Info = strawberry.Info[Context, Any]
