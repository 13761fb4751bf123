from __future__ import annotations

from fast_query import BaseRepository
from models import Comment


class CommentRepository(BaseRepository[Comment]):
    model = Comment
