"""The request's dataloaders: every relation of one level in one statement.

Resolvers of one level run concurrently; each asks a loader for its parent's
key, and the loader runs one query for all the keys it collected. The
queries come from the field kinds, built on the request's scoped ``Rows``;
loaders are keyed by what they load (relation, filter, order, page), so two
nested connections with the same arguments share one statement.

The loaders are aiodataloader's (the design's choice; measured against
Strawberry's own on a resolver-heavy nested query, the two were within the
run-to-run noise).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, TypeVar

from aiodataloader import DataLoader
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from fast_query import (
    QueryBuilder,
    Trashed,
)
from schema.resource import scopes
from schema.rows import RowParams, Rows

ModelT = TypeVar("ModelT")


class Loaders:
    """Dataloaders made on first use, dropped by ``clear()`` after each mutation."""

    def __init__(self, session: AsyncSession, params: RowParams) -> None:
        self.rows = Rows(scopes(), params.values, session)
        self._loaders: dict[Hashable, DataLoader[Any, Any]] = {}

    def clear(self) -> None:
        self._loaders.clear()

    def by_key(self, model: type[ModelT], trashed: Trashed) -> DataLoader[int, ModelT | None]:
        """Rows by primary key, soft-deleted ones as ``trashed`` says."""
        cache_key = ("by_key", model, trashed)
        loader = self._loaders.get(cache_key)
        if loader is None:
            query = self.rows.query(model, trashed)

            async def load(keys: Sequence[int]) -> list[ModelT | None]:
                rows = await query.where_in("id", keys).get()
                found = {row.id: row for row in rows}
                return [found.get(key) for key in keys]

            loader = self._loaders[cache_key] = DataLoader(batch_load_fn=load)
        return loader

    def permissions(self, model: type[Any]) -> DataLoader[int, dict[str, bool]]:
        """Whether the request may update and delete each row, by key: one statement per batch.

        The computed columns ``viewer_can_update``/``viewer_can_delete`` of the
        scopes (``schema.resource.permission``), as the fast path selects them,
        of the rows the request reaches (soft-deleted ones too: they answer false).
        """
        cache_key = ("permissions", model)
        loader = self._loaders.get(cache_key)
        if loader is None:
            query = self.rows.query(model, Trashed.RELATED)
            actions = ("update", "delete")
            names = [f"viewer_can_{action}" for action in actions]

            async def load(keys: Sequence[int]) -> list[dict[str, bool]]:
                read = await query.where_in("id", keys).rows("id", *names)
                found = {
                    row[0]: dict(zip(actions, map(bool, row[1:]), strict=True)) for row in read
                }
                denied = dict.fromkeys(actions, False)
                return [found.get(key, denied) for key in keys]

            loader = self._loaders[cache_key] = DataLoader(batch_load_fn=load)
        return loader

    def grouped(
        self,
        relation: QueryableAttribute[Any],
        key: Hashable,
        query: QueryBuilder[Any],
        limit_per_parent: int | None = None,
    ) -> DataLoader[int, list[Any]]:
        """Each parent's related rows of ``query`` (in its order, at most ``limit_per_parent``)."""
        cache_key = ("grouped", relation, key, limit_per_parent)
        loader = self._loaders.get(cache_key)
        if loader is None:

            async def load(parents: Sequence[int]) -> list[list[Any]]:
                groups = await query.get_grouped(
                    relation, parents, limit_per_parent=limit_per_parent
                )
                return [groups[parent] for parent in parents]

            loader = self._loaders[cache_key] = DataLoader(batch_load_fn=load)
        return loader

    def grouped_count(
        self, relation: QueryableAttribute[Any], key: Hashable, query: QueryBuilder[Any]
    ) -> DataLoader[int, int]:
        """How many rows of ``query`` each parent has."""
        cache_key = ("grouped_count", relation, key)
        loader = self._loaders.get(cache_key)
        if loader is None:

            async def load(parents: Sequence[int]) -> list[int]:
                counts = await query.count_grouped(relation, parents)
                return [counts[parent] for parent in parents]

            loader = self._loaders[cache_key] = DataLoader(batch_load_fn=load)
        return loader
