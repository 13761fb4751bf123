"""Ordering: ``orderBy`` inputs to a total order, with ``id`` as the final tie-breaker."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import strawberry

from fast_query import QueryBuilder

if TYPE_CHECKING:
    from schema.rows import SeenColumns

QueryT = TypeVar("QueryT", bound=QueryBuilder[Any])


@strawberry.enum(description="Sort direction.")
class OrderDirection(enum.Enum):
    ASC = strawberry.enum_value("asc", description="Smallest first (A to Z, oldest first).")
    DESC = strawberry.enum_value("desc", description="Largest first (Z to A, newest first).")


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
    #: How the request sees the rows' masked columns, for cursor positions (``None``: none).
    seen: SeenColumns | None = field(default=None, compare=False, repr=False)

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
        return OrderSpec(tuple((name, not desc) for name, desc in self.keys), self.seen)

    def seen_as(self, seen: SeenColumns | None) -> OrderSpec:
        """This order, with positions as a request that sees columns as ``seen`` does."""
        return self if seen is None else replace(self, seen=seen)

    def apply(self, query: QueryT) -> QueryT:
        for name, desc in self.keys:
            query = query.order_by(name, "desc" if desc else "asc")
        return query

    def position(self, row: object) -> tuple[Any, ...]:
        """A loaded row's place in this order (a masked column's value as the request sees it)."""
        seen = self.seen
        if seen is None:
            return tuple(getattr(row, name) for name in self.names)
        return tuple(seen.sort_value(name, seen.value(row, name)) for name in self.names)

    def sort_values(self, values: Sequence[Any]) -> list[Any]:
        """Seen values (as the fast path reads them) as this order sorts them."""
        seen = self.seen
        if seen is None:
            return list(values)
        return [
            seen.sort_value(name, value) for name, value in zip(self.names, values, strict=True)
        ]


def sort_key(description: str = "The key to sort by.") -> Any:
    """The ``field`` of an ``XOrder`` input."""
    return strawberry.field(description=description)


def sort_direction() -> Any:
    """The ``direction`` of an ``XOrder`` input."""
    return strawberry.field(
        default=OrderDirection.ASC,
        description="ASC (the default) or DESC. `id`, the final tie-breaker, follows the last "
        "key's direction.",
    )


def by(column: str, description: str) -> Any:
    """A value of an ``XOrderField`` enum: the model attribute it sorts by."""
    return strawberry.enum_value(column, description=description)
