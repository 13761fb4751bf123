"""The declarative base every model derives from."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import MetaData, inspect
from sqlalchemy.orm import DeclarativeBase

from fast_query.types import UTCDateTime

#: Constraint names that do not depend on the backend, so migrations stay stable.
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with stable constraint names and UTC datetimes."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}

    def __repr__(self) -> str:
        identity = inspect(self).identity
        key = identity[0] if identity and len(identity) == 1 else identity
        return f"<{type(self).__name__} {key!r}>"
