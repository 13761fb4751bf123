"""One mutation field's transaction: all it did is committed, or none of it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession

from fast_query import UniqueViolation, transaction
from schema.context import Info
from schema.errors import UserInputError
from schema.validation import InputSpec


@asynccontextmanager
async def write(
    info: Info, session: AsyncSession, spec: InputSpec | None = None
) -> AsyncIterator[None]:
    """One mutation's transaction; unique violations (a race past validation) become input errors.

    The request's dataloaders are dropped afterwards so later fields see the new state.
    """
    try:
        async with transaction(session):
            yield
    except UniqueViolation as exc:
        column = exc.columns[0] if exc.columns else ""
        path = spec.path_of_column(column) if spec is not None else "input"
        raise UserInputError({path: "already taken"}) from exc
    finally:
        info.context.loaders.clear()
