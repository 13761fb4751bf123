from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fast_query import Base, SoftDeletesMixin, TimestampMixin

if TYPE_CHECKING:
    from models.comment import Comment
    from models.user import User


class Post(TimestampMixin, SoftDeletesMixin, Base):
    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    published: Mapped[bool] = mapped_column(default=False, server_default=false())

    author: Mapped[User] = relationship(back_populates="posts", lazy="raise")
    comments: Mapped[list[Comment]] = relationship(
        back_populates="post", lazy="raise", passive_deletes=True
    )
