from __future__ import annotations

from fast_query import BaseRepository
from fast_query.rules import IsTrue, Rule
from models import Post
from repositories.rules import ADMIN, EDITOR, owned_by_viewer

#: Its author, editors and admins manage a post: see it unpublished or trashed, change it.
MANAGES_POST: Rule = owned_by_viewer("user_id") | EDITOR | ADMIN
#: A published post is everyone's to read.
READS_POST: Rule = IsTrue("published") | MANAGES_POST


class PostRepository(BaseRepository[Post]):
    model = Post
    scope = READS_POST.scope()
    trashed_scope = MANAGES_POST.scope()
    can_update = MANAGES_POST
    can_delete = MANAGES_POST
