"""Filter inputs (Prisma/Hasura style) and their translation into SQL conditions.

Each model's ``XFilter`` input names model attributes: a column takes a
scalar filter (``StringFilter``...), a to-one relationship takes the related
model's filter (``author: UserFilter``), a to-many one a relation filter
(``posts: {some: ..., none: ...}``). ``filter_condition`` walks any of them
generically, so a new model's filter is only its input class.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import strawberry
from sqlalchemy import ColumnElement, and_, not_, true
from sqlalchemy.orm import QueryableAttribute, RelationshipProperty
from strawberry.types.base import get_object_definition
from typing_extensions import TypeIs

from fast_query import (
    Scopes,
    all_of,
    conjunction,
    disjunction,
    text_contains,
    text_ends_with,
    text_starts_with,
    values_in,
    values_not_in,
)
from schema.context import FilterLimits
from schema.errors import UserInputError
from schema.ids import parse_key
from schema.kinds.base import relation_trashed

T = TypeVar("T")


_LOGICAL = {"and_", "or_", "not_"}


def _op(description: str, name: str | None = None) -> Any:
    """An optional filter field (an operator, or a condition on a field): left out, no condition."""
    return strawberry.field(name=name, default=strawberry.UNSET, description=description)


def where_field(description: str, name: str | None = None) -> Any:
    """A field of a model's ``XFilter``: a condition on one of its fields, or ``and``/``or``."""
    return _op(description, name)


def _given(value: T | None) -> TypeIs[T]:
    """Whether an optional input field was given a value (not left out, not null)."""
    return value is not None and value is not strawberry.UNSET


@strawberry.input(description="Conditions on an ID; every given one must hold.")
class IDFilter:
    eq: strawberry.ID | None = _op("Equal to this global ID.")
    ne: strawberry.ID | None = _op("Not equal to this global ID.")
    in_: list[strawberry.ID] | None = _op("One of these global IDs (`[]` matches nothing).", "in")
    not_in: list[strawberry.ID] | None = _op("None of these global IDs (`[]`: every row).")

    def condition(
        self, column: Any, type_name: str, path: str, limits: FilterLimits
    ) -> list[ColumnElement[bool]]:
        problems: dict[str, str] = {}

        def key(value: str, name: str) -> int | None:
            try:
                return parse_key(value, type_name, f"{path}.{name}")
            except UserInputError as exc:
                problems.update(exc.fields)
                return None

        parts: list[ColumnElement[bool]] = []
        if _given(self.eq):
            parts.append(column == key(self.eq, "eq"))
        if _given(self.ne):
            parts.append(column != key(self.ne, "ne"))
        if _given(self.in_):
            keys = [key(value, f"in.{index}") for index, value in enumerate(self.in_)]
            parts.append(values_in(column, keys))
        if _given(self.not_in):
            keys = [key(value, f"notIn.{index}") for index, value in enumerate(self.not_in)]
            parts.append(values_not_in(column, keys))
        if problems:
            raise UserInputError(problems)
        return parts


@strawberry.input(
    description="Conditions on a string; every given one must hold. `contains`, "
    "`startsWith` and `endsWith` are case-sensitive, `iContains` is not; "
    "`%`, `_` and `\\` match themselves."
)
class StringFilter:
    eq: str | None = _op("Equal to this text (case-sensitive).")
    ne: str | None = _op("Not equal to this text (case-sensitive; a null value matches neither).")
    in_: list[str] | None = _op("One of these texts (`[]` matches nothing).", "in")
    not_in: list[str] | None = _op("None of these texts (`[]`: every row).")
    contains: str | None = _op("Contains this text, case-sensitive.")
    i_contains: str | None = _op("Contains this text, in any case.", "iContains")
    starts_with: str | None = _op("Starts with this text, case-sensitive.")
    ends_with: str | None = _op("Ends with this text, case-sensitive.")
    is_null: bool | None = _op(
        "`true`: the value is null (or hidden from you); `false`: it is not."
    )

    def condition(
        self, column: Any, type_name: str, path: str, limits: FilterLimits
    ) -> list[ColumnElement[bool]]:
        problems = {
            f"{path}.{name}": "must not contain the NUL character"
            for name, value in self._values()
            if "\x00" in value
        }
        problems.update(
            (f"{path}.{name}", f"must be at most {limits.pattern_length} characters")
            for name, value in self._values()
            if name in _PATTERN_OPERATORS and len(value) > limits.pattern_length
        )
        if problems:
            # PostgreSQL refuses NUL in text (and SQLite cuts LIKE patterns at it).
            raise UserInputError(problems)
        parts: list[ColumnElement[bool]] = []
        if _given(self.eq):
            parts.append(column == self.eq)
        if _given(self.ne):
            parts.append(column != self.ne)
        if _given(self.in_):
            parts.append(values_in(column, self.in_))
        if _given(self.not_in):
            parts.append(values_not_in(column, self.not_in))
        if _given(self.contains):
            parts.append(text_contains(column, self.contains))
        if _given(self.i_contains):
            parts.append(text_contains(column, self.i_contains, case_sensitive=False))
        if _given(self.starts_with):
            parts.append(text_starts_with(column, self.starts_with))
        if _given(self.ends_with):
            parts.append(text_ends_with(column, self.ends_with))
        if _given(self.is_null):
            parts.append(column.is_(None) if self.is_null else column.is_not(None))
        return parts

    def _values(self) -> list[tuple[str, str]]:
        """Every string given, named by its path under the filter (``in.2``)."""
        values = []
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            name = _STRING_OPERATORS.get(field.name, field.name)
            if isinstance(value, str):
                values.append((name, value))
            elif isinstance(value, list):
                values += [(f"{name}.{index}", item) for index, item in enumerate(value)]
        return values


_STRING_OPERATORS = {
    "in_": "in",
    "not_in": "notIn",
    "i_contains": "iContains",
    "starts_with": "startsWith",
    "ends_with": "endsWith",
}
_PATTERN_OPERATORS = {"contains", "iContains", "startsWith", "endsWith"}


@strawberry.input(description="Conditions on a boolean.")
class BooleanFilter:
    eq: bool | None = _op("Is this value.")
    ne: bool | None = _op("Is not this value.")

    def condition(
        self, column: Any, type_name: str, path: str, limits: FilterLimits
    ) -> list[ColumnElement[bool]]:
        parts: list[ColumnElement[bool]] = []
        if _given(self.eq):
            parts.append(column.is_(self.eq))
        if _given(self.ne):
            parts.append(column.is_not(self.ne))
        return parts


@strawberry.input(description="Conditions on a date-time; every given one must hold.")
class DateTimeFilter:
    eq: datetime | None = _op("At exactly this moment (microseconds count).")
    ne: datetime | None = _op("Not at this moment.")
    gt: datetime | None = _op("After this moment.")
    gte: datetime | None = _op("At or after this moment.")
    lt: datetime | None = _op("Before this moment.")
    lte: datetime | None = _op("At or before this moment.")
    is_null: bool | None = _op("`true`: no value; `false`: a value.")

    def condition(
        self, column: Any, type_name: str, path: str, limits: FilterLimits
    ) -> list[ColumnElement[bool]]:
        operators: dict[str, Callable[[Any], ColumnElement[bool]]] = {
            "eq": column.__eq__,
            "ne": column.__ne__,
            "gt": column.__gt__,
            "gte": column.__ge__,
            "lt": column.__lt__,
            "lte": column.__le__,
        }
        parts = [
            build(getattr(self, name))
            for name, build in operators.items()
            if _given(getattr(self, name))
        ]
        if _given(self.is_null):
            parts.append(column.is_(None) if self.is_null else column.is_not(None))
        return parts


class _TooManyTerms(Exception):
    """The filter holds more conditions than ``FilterLimits.terms``."""


@dataclasses.dataclass(slots=True)
class _Translation:
    """One filter's translation: what it needs to know, and how many more terms it may hold."""

    type_names: dict[type[Any], str]
    scopes: Scopes
    limits: FilterLimits
    left: int

    def spend(self, count: int) -> None:
        self.left -= count
        if self.left < 0:
            raise _TooManyTerms


def filter_condition(
    model: type[Any],
    where: Any,
    *,
    type_names: dict[type[Any], str],
    scopes: Scopes,
    limits: FilterLimits,
    path: str = "where",
) -> ColumnElement[bool] | None:
    """The SQL condition of a filter input on ``model``; ``None`` for an empty filter.

    Args:
        type_names: the GraphQL type name of each model, for ID filters.
        scopes: the row scopes: a relation filter sees only the rows its
            relation reaches (``relation_trashed``) that the request may see.
        path: the argument path of ``where``, for error messages.
    """
    if not _given(where):
        return None
    translation = _Translation(type_names, scopes, limits, limits.terms)
    try:
        return _condition(model, where, translation, path, 0, 0)
    except _TooManyTerms:
        message = f"filters may hold at most {limits.terms} conditions"
        raise UserInputError({path: message}) from None


def _condition(
    model: type[Any],
    where: Any,
    translation: _Translation,
    path: str,
    depth: int,
    relations: int,
) -> ColumnElement[bool] | None:
    limits = translation.limits
    if depth > limits.depth:
        raise UserInputError({path: f"filters may nest at most {limits.depth} levels"})
    if relations > limits.relations:
        message = f"relation filters may nest at most {limits.relations} levels"
        raise UserInputError({path: message})
    definition = get_object_definition(where, strict=True)
    parts: list[ColumnElement[bool] | None] = []
    problems: dict[str, str] = {}
    for field in definition.fields:
        value = getattr(where, field.python_name)
        if not _given(value):
            continue
        field_path = f"{path}.{field.graphql_name or field.python_name}"
        try:
            condition = _field_condition(
                model, field.python_name, value, translation, field_path, depth, relations
            )
        except UserInputError as exc:
            problems.update(exc.fields)
            continue
        parts.append(condition)
    if problems:
        raise UserInputError(problems)
    return all_of(*parts)


def _field_condition(
    model: type[Any],
    name: str,
    value: Any,
    translation: _Translation,
    path: str,
    depth: int,
    relations: int,
) -> ColumnElement[bool] | None:
    def nested(
        target: type[Any], inner: Any, inner_path: str, relation: bool = False
    ) -> ColumnElement[bool]:
        condition = _condition(
            target, inner, translation, inner_path, depth + 1, relations + relation
        )
        return true() if condition is None else condition

    translation.spend(_term_count(value))
    if name in _LOGICAL:
        if name == "not_":
            return not_(nested(model, value, path))
        conditions = [nested(model, item, f"{path}.{i}") for i, item in enumerate(value)]
        return conjunction(conditions) if name == "and_" else disjunction(conditions)
    attribute: QueryableAttribute[Any] = getattr(model, name)
    prop = attribute.property
    if not isinstance(prop, RelationshipProperty):
        type_name = translation.type_names[model]
        # As the request sees it: a column masked for this viewer is NULL here too.
        column = translation.scopes.column(model, name)
        parts = value.condition(column, type_name, path, translation.limits)
        return all_of(*parts)
    target = prop.mapper.class_
    reached = translation.scopes.criteria(target, relation_trashed(to_many=bool(prop.uselist)))

    def related(condition: ColumnElement[bool]) -> ColumnElement[bool]:
        return condition if reached is None else and_(reached, condition)

    if not prop.uselist:
        return attribute.has(related(nested(target, value, path, relation=True)))
    conditions = []
    if _given(value.some):
        some = nested(target, value.some, f"{path}.some", relation=True)
        conditions.append(attribute.any(related(some)))
    if _given(value.none):
        none = nested(target, value.none, f"{path}.none", relation=True)
        conditions.append(not_(attribute.any(related(none))))
    return all_of(*conditions)


def _term_count(value: Any) -> int:
    """What one filter field adds: an ``and``/``or`` list's items, its operators, or itself.

    A value list (``in``, ``notIn``) is one term: it is bound as one parameter.
    """
    if isinstance(value, list):
        return len(value)
    if isinstance(value, (IDFilter, StringFilter, BooleanFilter, DateTimeFilter)):
        return sum(_given(getattr(value, field.name)) for field in dataclasses.fields(value))
    return 1


def filter_key(where: Any) -> Any:
    """A hashable value equal for equal filter inputs, to share dataloaders between them."""
    if dataclasses.is_dataclass(where) and not isinstance(where, type):
        return (
            type(where).__name__,
            tuple(
                (field.name, filter_key(getattr(where, field.name)))
                for field in dataclasses.fields(where)
                if _given(getattr(where, field.name))
            ),
        )
    if isinstance(where, list):
        return tuple(filter_key(item) for item in where)
    return where
