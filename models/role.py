from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fast_query import Base, TimestampMixin
from models.user_role import user_roles

if TYPE_CHECKING:
    from models.user import User


class Role(TimestampMixin, Base):
    __tablename__ = "roles"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)

    users: Mapped[list[User]] = relationship(
        secondary=user_roles, back_populates="roles", lazy="raise", passive_deletes=True
    )
