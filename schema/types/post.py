"""``Post``: what users write; soft-deleted."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

import models
from repositories import PostRepository
from repositories.rules import ADMIN, EDITOR
from schema import crud, fields
from schema.authorization import CreateRule
from schema.filters import BooleanFilter, DateTimeFilter, IDFilter, StringFilter
from schema.node import Node, node_id
from schema.ordering import OrderDirection
from schema.resource import register
from schema.types.user import USER
from schema.validation import Body, InputSpec, Plain, Reference, Text

if TYPE_CHECKING:
    from schema.types.comment import Comment, CommentFilter, CommentOrder, CommentRelationFilter
    from schema.types.user import User, UserFilter


POST = register("Post", models.Post, PostRepository)

UserRef = Annotated["User", strawberry.lazy("schema.types.user")]
UserFilterRef = Annotated["UserFilter", strawberry.lazy("schema.types.user")]
CommentRef = Annotated["Comment", strawberry.lazy("schema.types.comment")]
CommentFilterRef = Annotated["CommentFilter", strawberry.lazy("schema.types.comment")]
CommentOrderRef = Annotated["CommentOrder", strawberry.lazy("schema.types.comment")]
CommentRelationFilterRef = Annotated[
    "CommentRelationFilter", strawberry.lazy("schema.types.comment")
]


@strawberry.enum(description="Fields posts can be ordered by.")
class PostOrderField(enum.Enum):
    ID = "id"
    TITLE = "title"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


@strawberry.input(description="One sort key for posts.")
class PostOrder:
    field: PostOrderField
    direction: OrderDirection = OrderDirection.ASC


@strawberry.input(description="Conditions on posts; all given ones must hold.")
class PostFilter:
    id: IDFilter | None = strawberry.UNSET
    title: StringFilter | None = strawberry.UNSET
    body: StringFilter | None = strawberry.UNSET
    published: BooleanFilter | None = strawberry.UNSET
    created_at: DateTimeFilter | None = strawberry.UNSET
    author: UserFilterRef | None = strawberry.UNSET
    comments: CommentRelationFilterRef | None = strawberry.UNSET
    and_: list[PostFilter] | None = strawberry.field(name="and", default=strawberry.UNSET)
    or_: list[PostFilter] | None = strawberry.field(name="or", default=strawberry.UNSET)
    not_: PostFilter | None = strawberry.field(name="not", default=strawberry.UNSET)


@strawberry.input(description="Conditions on a list of live posts (EXISTS / NOT EXISTS).")
class PostRelationFilter:
    some: PostFilter | None = strawberry.field(
        default=strawberry.UNSET, description="At least one post matches."
    )
    none: PostFilter | None = strawberry.field(
        default=strawberry.UNSET, description="No post matches."
    )


@strawberry.type(description="A post written by a user.")
class Post(Node):
    id: strawberry.ID = node_id("Post")
    title: str
    body: str
    published: bool
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = strawberry.field(description="Set when soft-deleted.")
    viewer_can_update, viewer_can_delete = fields.viewer_can(POST)
    author = fields.parent(
        "user_id", models.User, UserRef, "The post's author, even if soft-deleted."
    )
    comments = fields.children(
        models.Post.comments, CommentRef, CommentFilterRef, CommentOrderRef, "The post's comments."
    )

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, (cls, models.Post))


@strawberry.input(description="A new post.")
class CreatePostInput:
    author_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="The author; left out, the viewer."
    )
    title: str
    body: str
    published: bool | None = False


@strawberry.input(description="Changes to a post; fields left out stay as they are.")
class UpdatePostInput:
    title: str | None = strawberry.UNSET
    body: str | None = strawberry.UNSET
    published: bool | None = strawberry.UNSET


POST_INPUT = InputSpec(
    models.Post,
    {
        "author_id": Reference(USER, column="user_id"),
        "title": Text(1, 200),
        "body": Body(50_000),
        "published": Plain(),
    },
)

post = fields.lookup(POST, Post, "The post with this ID.")
posts = fields.listing(POST, Post, PostFilter, PostOrder, "Posts, a page at a time.")
#: Any signed-in viewer writes as itself; editors and admins for anyone.
CREATES_POST = CreateRule(owner="author_id", others=EDITOR | ADMIN)

create_post = crud.create(
    POST, Post, CreatePostInput, POST_INPUT, "Create a post (as the viewer).", CREATES_POST
)
update_post = crud.update(POST, Post, UpdatePostInput, POST_INPUT, "Change a post.")
delete_post = crud.delete(POST, Post, "Soft-delete a post: returns it with `deletedAt` set.")
restore_post = crud.restore(POST, Post, "Undo a post's soft delete.")
