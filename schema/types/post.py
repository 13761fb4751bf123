"""``Post``: what users write; soft-deleted."""

from __future__ import annotations

import strawberry

import models
from repositories import PostRepository
from repositories.rules import ADMIN, EDITOR
from schema import crud, fields
from schema.authorization import CreateRule
from schema.derive import node, order, where
from schema.node import Node
from schema.resource import register
from schema.types.user import USER
from schema.validation import Body, InputSpec, Plain, Reference, Text

POST = register("Post", models.Post, PostRepository)
PostOrder = order(POST, "id", "title", "created_at", "updated_at")
PostFilter, PostRelationFilter = where(
    POST, "id", "title", "body", "published", "created_at", "author", "comments"
)
POST_INPUT = InputSpec(
    models.Post,
    {
        "author_id": Reference(USER, column="user_id"),
        "title": Text(1, 200),
        "body": Body(50_000),
        "published": Plain("Whether everyone may read it."),
    },
)
#: Any signed-in viewer writes as itself; editors and admins for anyone.
CREATES_POST = CreateRule(owner="author_id", others=EDITOR | ADMIN)


@node(POST, "A post written by a user.")
class Post(Node):
    title: str = strawberry.field(description="The title.")
    body: str = strawberry.field(description="The text, as written.")
    published: bool = strawberry.field(
        description="Whether everyone may read it (else its author, editors and admins)."
    )
    author = fields.parent(models.Post.author, "The post's author, even if soft-deleted.")
    comments = fields.children(models.Post.comments, "The post's comments.")


post = fields.lookup(POST, Post, "The post with this ID.")
posts = fields.listing(POST, Post, "Posts, a page at a time.")
create_post = crud.create(POST, Post, POST_INPUT, "Create a post (as the viewer).", CREATES_POST)
update_post = crud.update(POST, Post, POST_INPUT, "Change a post.")
delete_post = crud.delete(POST, Post, "Soft-delete a post: returns it with `deletedAt` set.")
restore_post = crud.restore(POST, Post, "Undo a post's soft delete.")
