"""Relay cursor connections with keyset paging.

A cursor is the position of a row in its order (the values of the order
keys), never an offset, so pages stay right while rows are inserted or
deleted ahead of them, and a page deep in a list costs what the first does.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, NamedTuple, TypeVar

import strawberry
from sqlalchemy.types import TypeDecorator, TypeEngine
from strawberry.types.unset import UnsetType

from fast_query import QueryBuilder
from schema.context import PageLimits
from schema.errors import UserInputError
from schema.ids import MAX_KEY, MIN_KEY
from schema.ordering import OrderSpec
from schema.scalars import parse_datetime, serialize_datetime

NodeT = TypeVar("NodeT")
RowT = TypeVar("RowT")
_CURSOR_VERSION = 1


@strawberry.type(description="Where a page sits in its connection (Relay).")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More rows follow this page.")
    has_previous_page: bool = strawberry.field(description="Rows come before this page.")
    start_cursor: str | None = strawberry.field(description="The cursor of the first row.")
    end_cursor: str | None = strawberry.field(description="The cursor of the last row.")


@strawberry.type(description="A node and its cursor.")
class Edge(Generic[NodeT]):
    cursor: str = strawberry.field(description="Pass as `after` or `before` to page from here.")
    node: NodeT = strawberry.field(description="The row.")


TotalCount = Callable[[], Awaitable[int]]


@strawberry.type(description="A page of a list, with Relay edges and cursors.")
class Connection(Generic[NodeT]):
    nodes: list[NodeT] = strawberry.field(description="The rows of this page.")
    page_info: PageInfo = strawberry.field(description="Cursors and whether more pages exist.")
    order: strawberry.Private[OrderSpec]
    count_rows: strawberry.Private[TotalCount]

    @strawberry.field(description="The rows of this page with their cursors.")  # type: ignore[untyped-decorator]
    def edges(self) -> list[Edge[NodeT]]:
        return [Edge(cursor=encode_cursor(self.order, node), node=node) for node in self.nodes]

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="Every row that matches the filter, ignoring the page."
    )
    async def total_count(self) -> int:
        return await self.count_rows()


# -- cursors ------------------------------------------------------------------


def encode_cursor(order: OrderSpec, row: object) -> str:
    return encode_position(order, order.position(row))


def encode_position(order: OrderSpec, position: Sequence[Any]) -> str:
    """The cursor of a row at ``position`` (its order keys' values) in ``order``."""
    values = [_to_json(value) for value in position]
    payload = json.dumps([_CURSOR_VERSION, order.signature, values], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode("ascii").rstrip("=")


def _to_json(value: Any) -> Any:
    return serialize_datetime(value) if isinstance(value, datetime) else value


def decode_cursor(
    cursor: str, order: OrderSpec, model: type[Any], argument: str
) -> tuple[Any, ...]:
    """The position a cursor holds; ``UserInputError`` when malformed or of another order."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        version, signature, values = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, TypeError, UnicodeError, binascii.Error, RecursionError):
        raise UserInputError({argument: "malformed cursor"}) from None
    if version != _CURSOR_VERSION or not isinstance(values, list):
        raise UserInputError({argument: "malformed cursor"})
    if signature != order.signature:
        raise UserInputError({argument: "the cursor was made for another order"})
    if len(values) != len(order.keys):
        raise UserInputError({argument: "malformed cursor"})
    try:
        return tuple(
            _from_json(value, _python_type(getattr(model, name).type))
            for value, name in zip(values, order.names, strict=True)
        )
    except (ValueError, TypeError, OverflowError):
        raise UserInputError({argument: "malformed cursor"}) from None


def _python_type(column_type: TypeEngine[Any]) -> type[Any]:
    # A TypeDecorator (UTCDateTime) does not know its Python type; its impl does.
    if isinstance(column_type, TypeDecorator):
        column_type = column_type.impl_instance
    return column_type.python_type


def _from_json(value: Any, python_type: type[Any]) -> Any:
    if python_type is datetime:
        return parse_datetime(value)
    if python_type is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise TypeError("expected an integer")
    if python_type is int and not MIN_KEY <= value <= MAX_KEY:
        raise ValueError("the integer is out of range")
    if python_type is str and (not isinstance(value, str) or "\x00" in value):
        raise TypeError("expected a string without NUL")
    if python_type is bool and not isinstance(value, bool):
        raise TypeError("expected a boolean")
    return value


# -- page requests ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PageRequest:
    """Validated ``first``/``after``/``last``/``before``: how many rows, which way, between what."""

    limit: int
    forward: bool
    after: tuple[Any, ...] | None
    before: tuple[Any, ...] | None

    @classmethod
    def of(
        cls,
        *,
        first: int | None | UnsetType,
        after: str | None | UnsetType,
        last: int | None | UnsetType,
        before: str | None | UnsetType,
        order: OrderSpec,
        model: type[Any],
        limits: PageLimits,
    ) -> PageRequest:
        problems: dict[str, str] = {}
        first_n = _page_size("first", first, limits, problems)
        last_n = _page_size("last", last, limits, problems)
        if first_n is not None and last_n is not None:
            problems["last"] = "cannot be combined with first"
        after_position = before_position = None
        try:
            if isinstance(after, str):
                after_position = decode_cursor(after, order, model, "after")
        except UserInputError as exc:
            problems.update(exc.fields)
        try:
            if isinstance(before, str):
                before_position = decode_cursor(before, order, model, "before")
        except UserInputError as exc:
            problems.update(exc.fields)
        if problems:
            raise UserInputError(problems)
        if last_n is not None:
            return cls(last_n, False, after_position, before_position)
        limit = limits.default_page_size if first_n is None else first_n
        return cls(limit, True, after_position, before_position)

    def key(self) -> tuple[Any, ...]:
        return (self.limit, self.forward, self.after, self.before)

    @property
    def fetch_limit(self) -> int:
        """The rows to fetch: one more than the page, to learn whether another page follows."""
        return self.limit + 1

    def apply(self, query: QueryBuilder[Any], order: OrderSpec) -> QueryBuilder[Any]:
        """Order the query in fetch direction and bound it by the cursors."""
        query = (order if self.forward else order.reversed()).apply(query)
        lower, upper = (self.after, self.before) if self.forward else (self.before, self.after)
        if lower is not None:
            query = query.after(lower)
        if upper is not None:
            query = query.before(upper)
        return query

    def window(self, rows: Sequence[RowT]) -> Window[RowT]:
        """The page in rows fetched with ``fetch_limit`` in fetch direction, in display order."""
        more = len(rows) > self.limit
        page = list(rows[: self.limit])
        if not self.forward:
            page.reverse()
            return Window(page, has_next=self.before is not None, has_previous=more)
        return Window(page, has_next=more, has_previous=self.after is not None)

    def connection(
        self, rows: Sequence[NodeT], order: OrderSpec, count_rows: TotalCount
    ) -> Connection[NodeT]:
        """The connection for rows fetched with ``fetch_limit`` in fetch direction."""
        window = self.window(rows)
        page = window.rows
        info = PageInfo(
            has_next_page=window.has_next,
            has_previous_page=window.has_previous,
            start_cursor=encode_cursor(order, page[0]) if page else None,
            end_cursor=encode_cursor(order, page[-1]) if page else None,
        )
        return Connection(nodes=page, page_info=info, order=order, count_rows=count_rows)


class Window(NamedTuple, Generic[RowT]):
    """One page of rows in display order, and whether rows lie beyond it either way.

    A named tuple: the fast path makes one per parent of a nested connection.
    """

    rows: list[RowT]
    has_next: bool
    has_previous: bool


def _page_size(
    name: str, value: int | None | UnsetType, limits: PageLimits, problems: dict[str, str]
) -> int | None:
    if not isinstance(value, int):
        return None
    if value < 0:
        problems[name] = "must not be negative"
    elif value > limits.max_page_size:
        problems[name] = f"must be at most {limits.max_page_size}"
    return value


async def fetch_connection(
    query: QueryBuilder[Any], order: OrderSpec, request: PageRequest
) -> Connection[Any]:
    """One page of a root list: ``limit + 1`` rows in one statement; the count only if asked."""
    rows = await request.apply(query, order).limit(request.fetch_limit).get()
    return request.connection(rows, order, query.count)
