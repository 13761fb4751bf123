"""Input validation: the contract's rules, every problem reported at once by argument path.

A node type's module describes its inputs with rules (``Text``, ``Email``,
``Body``, ``Reference``...); ``InputSpec.values`` checks an input against
them and returns the column values to write.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from fast_query import QueryBuilder
from schema.errors import UserInputError
from schema.ids import parse_key
from schema.resource import Resource

# local@domain, a dot in the domain, no spaces; no deliverability check.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
MAX_EMAIL_LENGTH = 254


class Invalid(Exception):
    """One field's value breaks its rule; the message is for people."""


@dataclass(frozen=True, slots=True)
class Check:
    """What a rule may consult: the session, and the row being updated (if any)."""

    session: AsyncSession
    model: type[Any]
    current_id: int | None


class Rule(Protocol):
    @property
    def column(self) -> str | None: ...

    @property
    def unique(self) -> bool: ...

    async def clean(self, value: Any, check: Check) -> Any: ...


@dataclass(frozen=True, slots=True)
class Text:
    """Trimmed text of ``min``..``max`` code points."""

    min: int
    max: int
    unique: bool = False
    column: str | None = None

    async def clean(self, value: Any, check: Check) -> Any:
        text = str(value).strip()
        if not text:
            raise Invalid("must not be blank")
        if not self.min <= len(text) <= self.max:
            raise Invalid(f"must be {self.min} to {self.max} characters")
        return text


@dataclass(frozen=True, slots=True)
class Body:
    """Text stored as sent: not blank, at most ``max`` code points."""

    max: int
    unique: bool = False
    column: str | None = None

    async def clean(self, value: Any, check: Check) -> Any:
        text = str(value)
        if not text.strip():
            raise Invalid("must not be blank")
        if len(text) > self.max:
            raise Invalid(f"must be at most {self.max} characters")
        return text


@dataclass(frozen=True, slots=True)
class Email:
    """A trimmed, lower-cased ``local@domain.tld`` of at most 254 characters."""

    unique: bool = True
    column: str | None = None

    async def clean(self, value: Any, check: Check) -> Any:
        email = str(value).strip().lower()
        if len(email) > MAX_EMAIL_LENGTH:
            raise Invalid(f"must be at most {MAX_EMAIL_LENGTH} characters")
        if not _EMAIL.fullmatch(email):
            raise Invalid("must be a valid email address")
        return email


@dataclass(frozen=True, slots=True)
class Reference:
    """The global ID of a live row of ``resource``; stored as its key in ``column``."""

    resource: Resource[Any]
    column: str | None = None
    unique: bool = False

    async def clean(self, value: Any, check: Check) -> Any:
        try:
            key = parse_key(str(value), self.resource.type_name, "")
        except UserInputError as exc:
            raise Invalid(next(iter(exc.fields.values()))) from None
        query: QueryBuilder[Any] = QueryBuilder(self.resource.model, check.session)
        if not await query.where(id=key).exists():
            raise Invalid("not found")
        return key


@dataclass(frozen=True, slots=True)
class Plain:
    """Any value the GraphQL type already checked (a Boolean, say)."""

    column: str | None = None
    unique: bool = False

    async def clean(self, value: Any, check: Check) -> Any:
        return value


def _path(prefix: str, name: str) -> str:
    """The argument path of a field: ``input.authorId``, or ``userId`` without a prefix."""
    return f"{prefix}.{camel(name)}" if prefix else camel(name)


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@dataclass(frozen=True, slots=True)
class InputSpec:
    """The rules of one input type, by Python field name."""

    model: type[Any]
    rules: Mapping[str, Rule] = field(default_factory=dict)

    def column(self, name: str) -> str:
        return self.rules[name].column or name

    def path_of_column(self, column: str, prefix: str = "input") -> str:
        for name in self.rules:
            if self.column(name) == column:
                return _path(prefix, name)
        return prefix

    async def values(
        self,
        data: Any,
        session: AsyncSession,
        *,
        prefix: str = "input",
        current_id: int | None = None,
    ) -> dict[str, Any]:
        """Column values for ``data``; ``UserInputError`` listing every invalid field.

        Fields left out of ``data`` (``UNSET``) are left out of the result,
        which is what an update wants.
        """
        check = Check(session, self.model, current_id)
        values: dict[str, Any] = {}
        problems: dict[str, str] = {}
        for name, rule in self.rules.items():
            value = getattr(data, name, strawberry.UNSET)
            if value is strawberry.UNSET:
                continue
            path = _path(prefix, name)
            if value is None:
                problems[path] = "must not be null"
                continue
            try:
                values[self.column(name)] = await rule.clean(value, check)
            except Invalid as exc:
                problems[path] = str(exc)
        for name, rule in self.rules.items():
            column = self.column(name)
            path = _path(prefix, name)
            if (
                rule.unique
                and path not in problems
                and column in values
                and await self._taken(check, column, values[column])
            ):
                problems[path] = "already taken"
        if problems:
            raise UserInputError(problems)
        return values

    async def _taken(self, check: Check, column: str, value: Any) -> bool:
        query: QueryBuilder[Any] = QueryBuilder(self.model, check.session).with_trashed()
        query = query.where(**{column: value})
        if check.current_id is not None:
            query = query.where(query.column("id") != check.current_id)
        return await query.exists()
