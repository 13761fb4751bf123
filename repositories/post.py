from __future__ import annotations

from fast_query import BaseRepository
from models import Post


class PostRepository(BaseRepository[Post]):
    model = Post
