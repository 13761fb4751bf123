from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fast_query import Base, SoftDeletesMixin, TimestampMixin
from models.user_role import user_roles

if TYPE_CHECKING:
    from models.comment import Comment
    from models.post import Post
    from models.role import Role


def normalize_email(email: str) -> str:
    """An email as ``users.email`` stores it, and as every look-up by email must spell it."""
    return email.strip().lower()


class User(TimestampMixin, SoftDeletesMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(255), unique=True)
    # An Argon2id hash (server.auth.passwords); null: the user cannot log in. Deferred
    # with raiseload: reads of users leave it out, and code that needs it asks for it.
    password_hash: Mapped[str | None] = mapped_column(
        String(255), deferred=True, deferred_raiseload=True
    )

    posts: Mapped[list[Post]] = relationship(
        back_populates="author", lazy="raise", passive_deletes=True
    )
    comments: Mapped[list[Comment]] = relationship(
        back_populates="author", lazy="raise", passive_deletes=True
    )
    roles: Mapped[list[Role]] = relationship(
        secondary=user_roles, back_populates="users", lazy="raise", passive_deletes=True
    )
