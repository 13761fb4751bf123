"""Row rules: small declarative conditions that compile to SQL and evaluate in Python.

A rule says which rows of a model pass (who may see them, update them,
delete them) from the row's own columns, its to-one relations and the
request's values, which it names as bind parameters (``viewer_id``, a
role flag such as ``viewer_is_admin``). Compiled (``where``) it is a
condition for any statement, a ``RowScope`` among them (``scope``), with
the values bound when the statement runs, so one statement serves every
request. Evaluated (``allows``) on a row and the same values, it answers the
same, which makes it its own test oracle.

    readable = IsTrue("published") | Equals("user_id", "viewer_id") | Flag("viewer_is_editor")
    PostRepository.scope = readable.scope()

SQL's three-valued logic is followed where a value is missing: a ``None``
request value equals nothing, as ``NULL`` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Boolean, ColumnElement, and_, bindparam, false, or_, true
from sqlalchemy.orm import RelationshipProperty

from fast_query.scope import RowScope


class Rule:
    """A condition on a row and the request's values (see the module's docstring)."""

    def where(self, entity: Any) -> ColumnElement[bool]:
        """The condition on ``entity`` (a model, or an aliased entity of it)."""
        raise NotImplementedError

    def allows(self, row: Any, params: Mapping[str, Any]) -> bool:
        """Whether ``row`` (an object with the model's attributes) passes, given ``params``."""
        raise NotImplementedError

    def scope(self) -> RowScope:
        """The rule as a repository's row scope."""
        return RowScope(self.where)

    def __or__(self, other: Rule) -> Rule:
        return AnyOf((self, other))

    def __and__(self, other: Rule) -> Rule:
        return AllOf((self, other))


@dataclass(frozen=True, slots=True)
class Anyone(Rule):
    """Every row passes."""

    def where(self, entity: Any) -> ColumnElement[bool]:
        return true()

    def allows(self, row: Any, params: Mapping[str, Any]) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class Nobody(Rule):
    """No row passes."""

    def where(self, entity: Any) -> ColumnElement[bool]:
        return false()

    def allows(self, row: Any, params: Mapping[str, Any]) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class Flag(Rule):
    """A yes/no request value (a role the viewer has): the same for every row."""

    param: str

    def where(self, entity: Any) -> ColumnElement[bool]:
        return bindparam(self.param, type_=Boolean()).is_(True)

    def allows(self, row: Any, params: Mapping[str, Any]) -> bool:
        return params[self.param] is True


@dataclass(frozen=True, slots=True)
class Equals(Rule):
    """The row's ``column`` equals a request value (the owner is the viewer); ``None`` never."""

    column: str
    param: str

    def where(self, entity: Any) -> ColumnElement[bool]:
        column: Any = getattr(entity, self.column)
        condition: ColumnElement[bool] = column == bindparam(self.param, type_=column.type)
        return condition

    def allows(self, row: Any, params: Mapping[str, Any]) -> bool:
        value, wanted = getattr(row, self.column), params[self.param]
        return value is not None and wanted is not None and value == wanted


@dataclass(frozen=True, slots=True)
class IsTrue(Rule):
    """The row's boolean ``column`` is true (``published``)."""

    column: str

    def where(self, entity: Any) -> ColumnElement[bool]:
        column: Any = getattr(entity, self.column)
        condition: ColumnElement[bool] = column.is_(True)
        return condition

    def allows(self, row: Any, params: Mapping[str, Any]) -> bool:
        return getattr(row, self.column) is True


@dataclass(frozen=True, slots=True)
class IsNull(Rule):
    """The row's ``column`` is null (``deleted_at``: the row is live)."""

    column: str

    def where(self, entity: Any) -> ColumnElement[bool]:
        column: Any = getattr(entity, self.column)
        condition: ColumnElement[bool] = column.is_(None)
        return condition

    def allows(self, row: Any, params: Mapping[str, Any]) -> bool:
        return getattr(row, self.column) is None


@dataclass(frozen=True, slots=True)
class Reaches(Rule):
    """The row's to-one ``relation`` leads to a row that passes ``rule`` (a comment's post)."""

    relation: str
    rule: Rule

    def where(self, entity: Any) -> ColumnElement[bool]:
        attribute: Any = getattr(entity, self.relation)
        prop = attribute.property
        if not isinstance(prop, RelationshipProperty) or prop.uselist:
            raise TypeError(f"{self.relation!r} is not a to-one relationship")
        condition: ColumnElement[bool] = attribute.has(self.rule.where(prop.mapper.class_))
        return condition

    def allows(self, row: Any, params: Mapping[str, Any]) -> bool:
        target = getattr(row, self.relation)
        return target is not None and self.rule.allows(target, params)


@dataclass(frozen=True, slots=True)
class AnyOf(Rule):
    """At least one of ``rules`` passes."""

    rules: tuple[Rule, ...]

    def where(self, entity: Any) -> ColumnElement[bool]:
        return or_(false(), *(rule.where(entity) for rule in self.rules))

    def allows(self, row: Any, params: Mapping[str, Any]) -> bool:
        return any(rule.allows(row, params) for rule in self.rules)

    def __or__(self, other: Rule) -> Rule:
        return AnyOf((*self.rules, other))


@dataclass(frozen=True, slots=True)
class AllOf(Rule):
    """Every one of ``rules`` passes."""

    rules: tuple[Rule, ...]

    def where(self, entity: Any) -> ColumnElement[bool]:
        return and_(true(), *(rule.where(entity) for rule in self.rules))

    def allows(self, row: Any, params: Mapping[str, Any]) -> bool:
        return all(rule.allows(row, params) for rule in self.rules)

    def __and__(self, other: Rule) -> Rule:
        return AllOf((*self.rules, other))
