"""The fast path's writes: built ``INSERT`` statements kept by shape (see ``schema.kinds.create``).

SQLAlchemy caches their compiled form; building one costs more than running it.
"""

from __future__ import annotations

from sqlalchemy import Insert

from schema.lru import Lru

Inserts = Lru[Insert]
