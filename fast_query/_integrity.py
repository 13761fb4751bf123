"""Turn a driver's integrity error into a typed fast_query error.

This is the one place that reads driver errors: asyncpg reports the
constraint by name (resolved through the metadata), SQLite only in its
message, whose format is stable ("UNIQUE constraint failed: users.email").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import MetaData
from sqlalchemy.exc import IntegrityError

from fast_query.base import Base
from fast_query.exceptions import (
    ForeignKeyViolation,
    IntegrityViolation,
    NotNullViolation,
    UniqueViolation,
)

_SQLITE_COLUMNS = re.compile(r"constraint failed: (.+)$")
_PG_CODES = {"23505": UniqueViolation, "23503": ForeignKeyViolation, "23502": NotNullViolation}


@contextmanager
def integrity_errors(metadata: MetaData = Base.metadata) -> Iterator[None]:
    """Re-raise ``IntegrityError`` inside the block as an ``IntegrityViolation``."""
    try:
        yield
    except IntegrityError as exc:
        raise translate_integrity_error(exc, metadata) from exc


def translate_integrity_error(exc: IntegrityError, metadata: MetaData) -> IntegrityViolation:
    driver_error = exc.orig
    cause = getattr(driver_error, "__cause__", None)
    code = getattr(driver_error, "sqlstate", None) or getattr(cause, "sqlstate", None)
    if code is not None:
        return _from_postgres(str(code), cause or driver_error, metadata)
    return _from_sqlite(str(driver_error))


def _from_postgres(code: str, error: object, metadata: MetaData) -> IntegrityViolation:
    kind = _PG_CODES.get(code, IntegrityViolation)
    table = getattr(error, "table_name", None)
    constraint = getattr(error, "constraint_name", None)
    columns: tuple[str, ...] = ()
    column = getattr(error, "column_name", None)
    if column:
        columns = (column,)
    elif constraint:
        columns = _constraint_columns(metadata, table, constraint)
    return kind(
        f"{kind.__name__} on {table or '?'}{list(columns) or ''}",
        table=table,
        columns=columns,
        constraint=constraint,
    )


def _constraint_columns(metadata: MetaData, table: str | None, name: str) -> tuple[str, ...]:
    for candidate in metadata.tables.values():
        if table and candidate.name != table:
            continue
        for constraint in candidate.constraints:
            if constraint.name == name:
                return tuple(column.name for column in getattr(constraint, "columns", ()))
        for index in candidate.indexes:
            if index.name == name and index.unique:
                return tuple(column.name for column in index.columns)
    return ()


def _from_sqlite(message: str) -> IntegrityViolation:
    kind: type[IntegrityViolation] = IntegrityViolation
    if message.startswith("UNIQUE"):
        kind = UniqueViolation
    elif message.startswith("FOREIGN KEY"):
        kind = ForeignKeyViolation
    elif message.startswith("NOT NULL"):
        kind = NotNullViolation
    table: str | None = None
    columns: list[str] = []
    match = _SQLITE_COLUMNS.search(message)
    if match and kind is not ForeignKeyViolation:
        for qualified in match.group(1).split(","):
            table, _, column = qualified.strip().partition(".")
            columns.append(column)
    return kind(f"{kind.__name__} on {table or '?'}{columns or ''}", table=table, columns=columns)


__all__ = ["integrity_errors", "translate_integrity_error"]
