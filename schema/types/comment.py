"""``Comment``: what users say about posts; deleted for good."""

from __future__ import annotations

import strawberry

import models
from repositories import CommentRepository
from repositories.rules import ADMIN
from schema import crud, fields
from schema.authorization import CreateRule
from schema.derive import node, order, update_input, where
from schema.node import Node
from schema.resource import register
from schema.types.post import POST
from schema.types.user import USER
from schema.validation import Body, InputSpec, Reference

COMMENT = register("Comment", models.Comment, CommentRepository)
CommentOrder = order(COMMENT, "id", "created_at", "updated_at")
CommentFilter, CommentRelationFilter = where(COMMENT, "id", "body", "created_at", "author", "post")
COMMENT_INPUT = InputSpec(
    models.Comment,
    {
        "post_id": Reference(
            POST, column="post_id", description="The post, which must be live and visible to you."
        ),
        "author_id": Reference(USER, column="user_id"),
        "body": Body(10_000),
    },
)
#: Any signed-in viewer comments as itself, on a post it sees; admins for anyone.
CREATES_COMMENT = CreateRule(owner="author_id", others=ADMIN)


@node(COMMENT, "A comment by a user on a post.")
class Comment(Node):
    body: str = strawberry.field(description="The text, as written.")
    post = fields.parent(models.Comment.post, "The post, even if soft-deleted.")
    author = fields.parent(models.Comment.author, "The comment's author, even if soft-deleted.")


comment = fields.lookup(COMMENT, Comment, "The comment with this ID.")
comments = fields.listing(COMMENT, Comment, "Comments, a page at a time.")
create_comment = crud.create(
    COMMENT,
    Comment,
    COMMENT_INPUT,
    "Create a comment (as the viewer) on a post the viewer sees.",
    CREATES_COMMENT,
)
update_comment = crud.update(
    COMMENT,
    Comment,
    COMMENT_INPUT,
    "Change a comment's text.",
    update_input(COMMENT_INPUT, "A comment's new text.", required=True),
)
delete_comment = crud.delete(COMMENT, Comment, "Delete a comment for good: returns it as it was.")
