"""Column mixins: timestamps and soft deletes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine.interfaces import ExecutionContext
from sqlalchemy.orm import Mapped, mapped_column

from fast_query.types import UTCDateTime, utcnow


def _statement_now(context: ExecutionContext) -> datetime:
    """One timestamp per statement, so ``created_at`` equals ``updated_at`` on insert."""
    cache = context.__dict__
    now = cache.get("_fast_query_now")
    if now is None:
        now = cache["_fast_query_now"] = utcnow()
    return now


class TimestampMixin:
    """``created_at`` set on insert, ``updated_at`` on insert and every update (UTC)."""

    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), nullable=False, default=_statement_now, sort_order=100
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(),
        nullable=False,
        default=_statement_now,
        onupdate=_statement_now,
        sort_order=101,
    )


class SoftDeletesMixin:
    """A nullable ``deleted_at``; query builders hide rows that have it set.

    ``soft_delete`` and ``restore`` only change the instance; a repository or
    the session's flush writes them.
    """

    deleted_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), nullable=True, default=None, sort_order=102
    )

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def soft_delete(self) -> None:
        now = utcnow()
        self.deleted_at = now
        _touch(self, now)

    def restore(self) -> None:
        self.deleted_at = None
        _touch(self, utcnow())


def _touch(instance: object, now: datetime) -> None:
    """Set ``updated_at`` explicitly, so it equals ``deleted_at`` on a soft delete."""
    if isinstance(instance, TimestampMixin):
        instance.updated_at = now


def soft_deletes(model: type[object]) -> bool:
    return issubclass(model, SoftDeletesMixin)
