"""A small least-recently-used map of things built once per shape (statements, templates)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")

#: Shapes kept per application; past this, the least used go.
MAX_SHAPES = 1024


class Lru(Generic[V]):
    """``get(key, build)``: the value kept for ``key``, built and kept if new.

    Written here because ``functools.lru_cache`` keys a function's arguments,
    while the builders are closures over the request, not part of the key.
    """

    def __init__(self, size: int = MAX_SHAPES) -> None:
        self._size = size
        self._kept: OrderedDict[Hashable, V] = OrderedDict()

    def __len__(self) -> int:
        return len(self._kept)

    def get(self, key: Hashable, build: Callable[[], V]) -> V:
        found = self._kept.get(key)
        if found is not None:
            self._kept.move_to_end(key)
            return found
        found = self._kept[key] = build()
        if len(self._kept) > self._size:
            self._kept.popitem(last=False)
        return found
