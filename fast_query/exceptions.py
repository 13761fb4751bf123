"""Errors raised by fast_query, framework-agnostic.

The tree::

    FastQueryError
    ├── RecordNotFound          a lookup that had to find one row found none
    ├── InvalidQuery            a builder call that cannot make valid SQL
    ├── NoSessionBound          a terminal on a builder that has no session
    └── IntegrityViolation      the database refused a write (a constraint)
        ├── UniqueViolation     ... a unique constraint; ``columns`` says which
        ├── ForeignKeyViolation ... a foreign key
        └── NotNullViolation    ... a NOT NULL column
"""

from __future__ import annotations

from collections.abc import Sequence


class FastQueryError(Exception):
    """Root of every error fast_query raises."""


class RecordNotFound(FastQueryError):
    """No row of ``model`` answers to ``id`` (or the row is soft-deleted)."""

    def __init__(self, model: str, id: object) -> None:
        self.model = model
        self.id = id
        super().__init__(f"{model} {id!r} not found")


class InvalidQuery(FastQueryError):
    """The builder was asked for something it cannot express."""


class NoSessionBound(FastQueryError):
    """A terminal method ran on a builder made without a session."""


class IntegrityViolation(FastQueryError):
    """A write broke a constraint; ``table``/``columns`` are known when the driver says."""

    def __init__(
        self,
        message: str,
        *,
        table: str | None = None,
        columns: Sequence[str] = (),
        constraint: str | None = None,
    ) -> None:
        self.table = table
        self.columns = tuple(columns)
        self.constraint = constraint
        super().__init__(message)


class UniqueViolation(IntegrityViolation):
    """A unique constraint refused the write."""


class ForeignKeyViolation(IntegrityViolation):
    """A foreign key refused the write."""


class NotNullViolation(IntegrityViolation):
    """A NOT NULL column got no value."""
