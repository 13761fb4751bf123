"""Input validation: the contract's rules, every problem reported at once by argument path.

A node type's module describes its inputs with rules (``Text``, ``Email``,
``Body``, ``Reference``...); ``InputSpec.values`` checks an input against
them and returns the column values to write.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

import strawberry
from sqlalchemy import Exists, Select, bindparam, exists, select

from fast_query import RawSelect, Scopes, SelectTemplate, Trashed, compile_select
from models import normalize_email
from schema.errors import UserInputError
from schema.ids import parse_key
from schema.lru import Lru
from schema.resource import Resource
from schema.rows import Rows

# local@domain, a dot in the domain, no spaces; no deliverability check.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
MAX_EMAIL_LENGTH = 254


class Invalid(Exception):
    """One field's value breaks its rule; the message is for people."""


@dataclass(frozen=True, slots=True)
class Check:
    """What a rule may consult: the row being updated (if any); rules do not read the database."""

    model: type[Any]
    current_id: int | None


class Rule(Protocol):
    @property
    def column(self) -> str | None: ...

    @property
    def unique(self) -> bool: ...

    async def clean(self, value: Any, check: Check) -> Any: ...

    def describe(self, plural: str) -> str:
        """What the input field says of its values (``plural``: the rows' type, ``users``)."""
        ...


@dataclass(frozen=True, slots=True)
class Text:
    """Trimmed text of ``min``..``max`` code points."""

    min: int
    max: int
    unique: bool = False
    column: str | None = None
    description: str | None = None

    def describe(self, plural: str) -> str:
        unique = ", unique" if self.unique else ""
        default = f"{self.min} to {self.max:,} characters{unique}; stored trimmed."
        return self.description or default

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
    description: str | None = None

    def describe(self, plural: str) -> str:
        unique = ", unique" if self.unique else ""
        default = f"1 to {self.max:,} characters, not blank{unique}; stored as sent."
        return self.description or default

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
    description: str | None = None

    def describe(self, plural: str) -> str:
        unique = f", unique among all {plural}" if self.unique else ""
        default = f"A valid address (local@domain.tld){unique}; stored trimmed, lower-cased."
        return self.description or default

    async def clean(self, value: Any, check: Check) -> Any:
        email = normalize_email(str(value))
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
    description: str | None = None

    def describe(self, plural: str) -> str:
        default = f"The global ID of a live {self.resource.type_name.lower()} you can see."
        return self.description or default

    async def clean(self, value: Any, check: Check) -> Any:
        """The key of the ID; whether its row is live is checked with the other rows."""
        try:
            return parse_key(str(value), self.resource.type_name, "")
        except UserInputError as exc:
            raise Invalid(next(iter(exc.fields.values()))) from None


@dataclass(frozen=True, slots=True)
class Plain:
    """Any value the GraphQL type already checked (a Boolean, say); ``description`` says what."""

    description: str = "The value."
    column: str | None = None
    unique: bool = False

    def describe(self, plural: str) -> str:
        return self.description

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

    async def clean(
        self, data: Any, *, prefix: str = "input", current_id: int | None = None
    ) -> Cleaned:
        """``data`` checked against the rules without the database.

        Returns the column values, the problems found, and the row checks
        (references that must be live, values that must be free) that
        ``values`` runs, or that a single ``INSERT`` can make its condition.
        Fields left out of ``data`` (``UNSET``) are left out of the values.
        """
        check = Check(self.model, current_id)
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
            if isinstance(value, str) and "\x00" in value:
                # PostgreSQL cannot store NUL in text; refuse it on both databases alike.
                problems[path] = "must not contain the NUL character"
                continue
            try:
                values[self.column(name)] = await rule.clean(value, check)
            except Invalid as exc:
                problems[path] = str(exc)
        checks: list[tuple[str, RowCheck]] = []
        for name, rule in self.rules.items():
            column = self.column(name)
            path = _path(prefix, name)
            if path in problems or column not in values:
                continue
            if isinstance(rule, Reference):
                checks.append((path, RowCheck("live", rule.resource.model, "id", values[column])))
            elif rule.unique:
                checks.append(
                    (path, RowCheck("taken", self.model, column, values[column], current_id))
                )
        return Cleaned(values, problems, checks)

    async def values(
        self,
        data: Any,
        rows: Rows,
        *,
        prefix: str = "input",
        current_id: int | None = None,
    ) -> dict[str, Any]:
        """Column values for ``data``; ``UserInputError`` listing every invalid field.

        The rules first (``clean``), then every row check in one statement on
        ``rows``' session: a reference must name a live row the request sees.
        """
        cleaned = await self.clean(data, prefix=prefix, current_id=current_id)
        problems = dict(cleaned.problems)
        checks = cleaned.checks
        if checks:
            found = await run_checks(rows, [row_check for _path_, row_check in checks])
            for (path, row_check), exists in zip(checks, found, strict=True):
                if row_check.kind == "live" and not exists:
                    problems[path] = "not found"
                elif row_check.kind == "taken" and exists:
                    problems[path] = "already taken"
        if problems:
            raise UserInputError(problems)
        return cleaned.values


@dataclass(frozen=True, slots=True)
class Cleaned:
    """An input checked against its rules: see ``InputSpec.clean``."""

    values: dict[str, Any]
    problems: dict[str, str]
    checks: list[tuple[str, RowCheck]]


@dataclass(frozen=True, slots=True)
class RowCheck:
    """Whether a row exists: a live row with this key, or any row taking this value."""

    kind: str  # live | taken
    model: type[Any]
    column: str
    value: Any
    except_id: int | None = None


_CHECKS: Lru[RawSelect | SelectTemplate] = Lru()


async def run_checks(rows: Rows, checks: Sequence[RowCheck]) -> list[bool]:
    """Every check of an input in one statement (one round trip), compiled once per shape."""
    assert rows.session is not None
    dialect = rows.session.get_bind().dialect
    shape = (
        dialect.name,
        rows.scopes,
        *((c.kind, c.model, c.column, c.except_id is not None) for c in checks),
    )
    template = _CHECKS.get(
        shape, lambda: compile_select(_checks_statement(checks, rows.scopes), dialect)
    )
    params = {**rows.params, **check_params(checks)}
    found = await template.fetch(await rows.session.connection(), params)
    return [bool(value) for value in found[0]]


def _checks_statement(checks: Sequence[RowCheck], scopes: Scopes) -> Select[Any]:
    columns = [
        row_exists(check, index, scopes).label(f"check_{index}")
        for index, check in enumerate(checks)
    ]
    return cast("Select[Any]", select(*columns))


def row_exists(check: RowCheck, index: int, scopes: Scopes) -> Exists:
    """``EXISTS`` the row ``check`` looks for, its value bound as ``fq_check_<index>``.

    A reference (``live``) must name a live row the request may see (its row
    scope); a unique value (``taken``) is taken by any row at all.
    """
    table: Any = check.model
    condition = getattr(table, check.column) == bindparam(f"fq_check_{index}")
    found = exists().where(condition)
    if check.kind == "live":
        seen = scopes.criteria(table, Trashed.WITHOUT)
        if seen is not None:
            found = found.where(seen)
    elif check.except_id is not None:
        found = found.where(table.id != bindparam(f"fq_except_{index}"))
    return found


def check_params(checks: Sequence[RowCheck]) -> dict[str, Any]:
    """The values ``row_exists`` binds for ``checks``."""
    params: dict[str, Any] = {}
    for index, check in enumerate(checks):
        params[f"fq_check_{index}"] = check.value
        if check.except_id is not None:
            params[f"fq_except_{index}"] = check.except_id
    return params


# -- what the input fields say in the schema ------------------------------------------


def given(description: str) -> Any:
    """A required input field, with the rules its value must meet."""
    return strawberry.field(description=description)


def change(description: str) -> Any:
    """A field of an ``UpdateXInput``: left out, the column stays as it is."""
    return strawberry.field(
        default=strawberry.UNSET, description=f"{description} Left out: unchanged."
    )
