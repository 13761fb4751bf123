from __future__ import annotations

from fast_query import BaseRepository
from fast_query.rules import Reaches, Rule
from models import Comment
from repositories.post import READS_POST
from repositories.rules import ADMIN, MODERATOR, owned_by_viewer

#: A comment is visible when its post is (soft-deleted or not).
READS_COMMENT: Rule = Reaches("post", READS_POST)


class CommentRepository(BaseRepository[Comment]):
    model = Comment
    scope = READS_COMMENT.scope()
    can_update = owned_by_viewer("user_id") | ADMIN
    can_delete = (
        owned_by_viewer("user_id") | Reaches("post", owned_by_viewer("user_id")) | MODERATOR | ADMIN
    )
