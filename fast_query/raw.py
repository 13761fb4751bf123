"""SELECTs compiled once and run straight on the driver connection.

SQLAlchemy's execution path (compiled-cache lookup, execution context,
result metadata, row objects) costs a few hundred microseconds per
statement, several times what asyncpg needs to run it. A ``RawSelect``
compiles a statement once for a dialect, with named placeholders for what
changes between executions, and runs it on the driver (asyncpg or
aiosqlite) of a SQLAlchemy connection, applying SQLAlchemy's own bind and
result processors so values come back exactly as SQLAlchemy would give them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Select
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from fast_query.engine import announce
from fast_query.exceptions import InvalidQuery

Processor = Callable[[Any], Any]


class RawSelect:
    """One SELECT, compiled for one dialect; ``fetch`` runs it with new parameter values.

    Raises ``InvalidQuery`` for a statement whose SQL is only complete at
    execution (an ``IN`` list of literal values, say): run those with
    ``SelectTemplate``, which goes through SQLAlchemy.
    """

    __slots__ = ("_binders", "_defaults", "_names", "_readers", "_required", "dialect", "sql")

    def __init__(self, statement: Select[Any], dialect: Dialect) -> None:
        if dialect.driver not in ("asyncpg", "aiosqlite"):
            raise InvalidQuery(f"RawSelect runs on asyncpg or aiosqlite, not {dialect.driver}")
        compiled = statement.compile(dialect=dialect)
        if compiled.positiontup is None or "POSTCOMPILE" in compiled.string:
            raise InvalidQuery("the statement needs values rendered at execution time")
        self.dialect = dialect
        self.sql = compiled.string
        self._names = tuple(compiled.positiontup)
        self._defaults = compiled.construct_params(_check=False)
        # A placeholder with no value of its own (a row scope's ``bindparam("viewer")``)
        # must be given one: never run it as NULL, as SQLAlchemy would not either.
        self._required = frozenset(
            name for bind, name in compiled.bind_names.items() if bind.required
        )
        binders: dict[str, Processor] = {}
        for bind, name in compiled.bind_names.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                binders[name] = processor
        self._binders = binders
        self._readers: tuple[Processor | None, ...] = tuple(
            selected.type.dialect_impl(dialect).result_processor(dialect, None)
            for selected in statement.selected_columns
        )

    def values(self, params: Mapping[str, Any]) -> list[Any]:
        """The driver's positional values for ``params`` (unnamed binds keep their own)."""
        values = []
        for name in self._names:
            if name in params:
                value = params[name]
            elif name in self._required:
                raise InvalidQuery(f"no value for the bind parameter {name!r}")
            else:
                value = self._defaults[name]
            binder = self._binders.get(name)
            values.append(binder(value) if binder is not None and value is not None else value)
        return values

    async def fetch(
        self, connection: AsyncConnection, params: Mapping[str, Any] | None = None
    ) -> Sequence[Sequence[Any]]:
        """All rows, as sequences in the statement's column order."""
        values = self.values(params or {})
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        # Statement counters, loggers and tracers listen to these engine events:
        # they see these statements too (with no cursor and no execution context;
        # ``after_cursor_execute`` only when the statement succeeded, as SQLAlchemy).
        sync = connection.sync_connection
        announce(sync, "before_cursor_execute", self.sql, values)
        if self.dialect.driver == "asyncpg":
            rows: Sequence[Sequence[Any]] = await driver.fetch(self.sql, *values)
        else:
            # One trip to aiosqlite's thread, not three (execute, fetchall, close).
            rows = list(await driver.execute_fetchall(self.sql, values))
        announce(sync, "after_cursor_execute", self.sql, values)
        readers = self._readers
        if not any(readers):
            return rows
        return [
            tuple(value if read is None else read(value) for read, value in zip(readers, row))  # noqa: B905
            for row in rows
        ]


class SelectTemplate:
    """The same interface as ``RawSelect``, run through SQLAlchemy (any statement)."""

    __slots__ = ("statement",)

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement

    async def fetch(
        self, connection: AsyncConnection, params: Mapping[str, Any] | None = None
    ) -> Sequence[Sequence[Any]]:
        result = await connection.execute(self.statement, dict(params or {}))
        rows: Sequence[Sequence[Any]] = result.all()
        return rows


def compile_select(statement: Select[Any], dialect: Dialect) -> RawSelect | SelectTemplate:
    """A ``RawSelect`` where the statement allows one, else a ``SelectTemplate``."""
    try:
        return RawSelect(statement, dialect)
    except InvalidQuery:
        return SelectTemplate(statement)
