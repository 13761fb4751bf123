"""The association table behind ``User.roles`` and ``Role.users``."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, Table

from fast_query import Base

user_roles = Table(
    "user_roles",
    Base.metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", Integer, ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True),
    # The primary key serves lookups by user; this one serves Role.users.
    Index(None, "role_id"),
)
