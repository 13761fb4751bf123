"""``Comment``: what users say about posts; deleted for good."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

import models
from repositories import CommentRepository
from repositories.rules import ADMIN
from schema import crud, fields
from schema.authorization import CreateRule
from schema.filters import DateTimeFilter, IDFilter, StringFilter
from schema.node import Node, node_id
from schema.ordering import OrderDirection
from schema.resource import register
from schema.types.post import POST
from schema.types.user import USER
from schema.validation import Body, InputSpec, Reference

if TYPE_CHECKING:
    from schema.types.post import Post, PostFilter
    from schema.types.user import User, UserFilter


COMMENT = register("Comment", models.Comment, CommentRepository)

UserRef = Annotated["User", strawberry.lazy("schema.types.user")]
UserFilterRef = Annotated["UserFilter", strawberry.lazy("schema.types.user")]
PostRef = Annotated["Post", strawberry.lazy("schema.types.post")]
PostFilterRef = Annotated["PostFilter", strawberry.lazy("schema.types.post")]


@strawberry.enum(description="Fields comments can be ordered by.")
class CommentOrderField(enum.Enum):
    ID = "id"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


@strawberry.input(description="One sort key for comments.")
class CommentOrder:
    field: CommentOrderField
    direction: OrderDirection = OrderDirection.ASC


@strawberry.input(description="Conditions on comments; all given ones must hold.")
class CommentFilter:
    id: IDFilter | None = strawberry.UNSET
    body: StringFilter | None = strawberry.UNSET
    created_at: DateTimeFilter | None = strawberry.UNSET
    author: UserFilterRef | None = strawberry.UNSET
    post: PostFilterRef | None = strawberry.UNSET
    and_: list[CommentFilter] | None = strawberry.field(name="and", default=strawberry.UNSET)
    or_: list[CommentFilter] | None = strawberry.field(name="or", default=strawberry.UNSET)
    not_: CommentFilter | None = strawberry.field(name="not", default=strawberry.UNSET)


@strawberry.input(description="Conditions on a list of comments (EXISTS / NOT EXISTS).")
class CommentRelationFilter:
    some: CommentFilter | None = strawberry.field(
        default=strawberry.UNSET, description="At least one comment matches."
    )
    none: CommentFilter | None = strawberry.field(
        default=strawberry.UNSET, description="No comment matches."
    )


@strawberry.type(description="A comment by a user on a post.")
class Comment(Node):
    id: strawberry.ID = node_id("Comment")
    body: str
    created_at: datetime
    updated_at: datetime
    viewer_can_update, viewer_can_delete = fields.viewer_can(COMMENT)
    post = fields.parent("post_id", models.Post, PostRef, "The post, even if soft-deleted.")
    author = fields.parent(
        "user_id", models.User, UserRef, "The comment's author, even if soft-deleted."
    )

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, (cls, models.Comment))


@strawberry.input(description="A new comment.")
class CreateCommentInput:
    post_id: strawberry.ID
    author_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="The author; left out, the viewer."
    )
    body: str


@strawberry.input(description="A comment's new text.")
class UpdateCommentInput:
    body: str


COMMENT_INPUT = InputSpec(
    models.Comment,
    {
        "post_id": Reference(POST, column="post_id"),
        "author_id": Reference(USER, column="user_id"),
        "body": Body(10_000),
    },
)

comment = fields.lookup(COMMENT, Comment, "The comment with this ID.")
comments = fields.listing(
    COMMENT, Comment, CommentFilter, CommentOrder, "Comments, a page at a time."
)
#: Any signed-in viewer comments as itself, on a post it sees; admins for anyone.
CREATES_COMMENT = CreateRule(owner="author_id", others=ADMIN)

create_comment = crud.create(
    COMMENT,
    Comment,
    CreateCommentInput,
    COMMENT_INPUT,
    "Create a comment (as the viewer) on a post the viewer sees.",
    CREATES_COMMENT,
)
update_comment = crud.update(
    COMMENT, Comment, UpdateCommentInput, COMMENT_INPUT, "Change a comment's text."
)
delete_comment = crud.delete(COMMENT, Comment, "Delete a comment for good: returns it as it was.")
