"""Ordering: ``orderBy`` inputs to a total order, with ``id`` as the final tie-breaker."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import strawberry

from fast_query import QueryBuilder

QueryT = TypeVar("QueryT", bound=QueryBuilder[Any])


@strawberry.enum(description="Sort direction.")
class OrderDirection(enum.Enum):
    ASC = "asc"
    DESC = "desc"


class OrderInput(Protocol):
    """A ``XOrder`` input: a ``field`` enum whose values are model attribute names."""

    @property
    def field(self) -> enum.Enum: ...

    @property
    def direction(self) -> OrderDirection: ...


@dataclass(frozen=True, slots=True)
class OrderSpec:
    """The keys a list is sorted by: (attribute, descending) pairs ending with ``id``."""

    keys: tuple[tuple[str, bool], ...]

    @classmethod
    def of(cls, order_by: Iterable[OrderInput] | None) -> OrderSpec:
        keys: list[tuple[str, bool]] = []
        seen: set[str] = set()
        for item in order_by or ():
            name = str(item.field.value)
            if name in seen:
                continue
            seen.add(name)
            keys.append((name, item.direction is OrderDirection.DESC))
            if name == "id":
                break  # the id is unique: nothing after it can change the order
        if not keys or keys[-1][0] != "id":
            keys.append(("id", keys[-1][1] if keys else False))
        return cls(tuple(keys))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.keys)

    @property
    def signature(self) -> str:
        """A short text naming the order, recorded in cursors (``title:a,id:a``)."""
        return ",".join(f"{name}:{'d' if desc else 'a'}" for name, desc in self.keys)

    def reversed(self) -> OrderSpec:
        return OrderSpec(tuple((name, not desc) for name, desc in self.keys))

    def apply(self, query: QueryT) -> QueryT:
        for name, desc in self.keys:
            query = query.order_by(name, "desc" if desc else "asc")
        return query

    def position(self, row: object) -> tuple[Any, ...]:
        return tuple(getattr(row, name) for name in self.names)
