"""The page that ``paginate`` returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


# No slots: on Python 3.11 ``Page[User](...)`` fails with TypeError on a frozen,
# slotted generic dataclass (typing sets __orig_class__ through the frozen
# __setattr__, whose super() call names the class slots=True replaced).
@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of rows and the total they were taken from (offset pagination)."""

    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page)) if self.per_page else 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1
