"""``User``: people who write posts and comments; soft-deleted."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

import models
from repositories import UserRepository
from repositories.rules import ADMIN
from schema import crud, fields
from schema.accounts import PASSWORD
from schema.authorization import CreateRule
from schema.filters import DateTimeFilter, IDFilter, StringFilter
from schema.kinds.create import Create
from schema.node import Node, node_id
from schema.ordering import OrderDirection
from schema.resource import register
from schema.validation import Email, InputSpec, Text

if TYPE_CHECKING:
    from schema.types.comment import Comment, CommentFilter, CommentOrder
    from schema.types.post import Post, PostFilter, PostOrder, PostRelationFilter
    from schema.types.role import Role


USER = register("User", models.User, UserRepository)

PostRef = Annotated["Post", strawberry.lazy("schema.types.post")]
PostFilterRef = Annotated["PostFilter", strawberry.lazy("schema.types.post")]
PostOrderRef = Annotated["PostOrder", strawberry.lazy("schema.types.post")]
PostRelationFilterRef = Annotated["PostRelationFilter", strawberry.lazy("schema.types.post")]
CommentRef = Annotated["Comment", strawberry.lazy("schema.types.comment")]
CommentFilterRef = Annotated["CommentFilter", strawberry.lazy("schema.types.comment")]
CommentOrderRef = Annotated["CommentOrder", strawberry.lazy("schema.types.comment")]
RoleRef = Annotated["Role", strawberry.lazy("schema.types.role")]


@strawberry.enum(description="Fields users can be ordered by.")
class UserOrderField(enum.Enum):
    ID = "id"
    NAME = "name"
    EMAIL = "email"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


@strawberry.input(description="One sort key for users.")
class UserOrder:
    field: UserOrderField
    direction: OrderDirection = OrderDirection.ASC


@strawberry.input(description="Conditions on users; all given ones must hold.")
class UserFilter:
    id: IDFilter | None = strawberry.UNSET
    name: StringFilter | None = strawberry.UNSET
    email: StringFilter | None = strawberry.UNSET
    created_at: DateTimeFilter | None = strawberry.UNSET
    posts: PostRelationFilterRef | None = strawberry.UNSET
    and_: list[UserFilter] | None = strawberry.field(name="and", default=strawberry.UNSET)
    or_: list[UserFilter] | None = strawberry.field(name="or", default=strawberry.UNSET)
    not_: UserFilter | None = strawberry.field(name="not", default=strawberry.UNSET)


@strawberry.type(description="A person who writes posts and comments.")
class User(Node):
    id: strawberry.ID = node_id("User")
    name: str
    email: str | None = fields.masked(
        models.User, "email", "The user's email: null unless the viewer is this user or an admin."
    )
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = strawberry.field(description="Set when soft-deleted.")
    viewer_can_update, viewer_can_delete = fields.viewer_can(USER)
    posts = fields.children(
        models.User.posts, PostRef, PostFilterRef, PostOrderRef, "The user's posts.", trashed=True
    )
    comments = fields.children(
        models.User.comments, CommentRef, CommentFilterRef, CommentOrderRef, "The user's comments."
    )
    roles = fields.members(models.User.roles, RoleRef, "The user's roles, by id.")

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, (cls, models.User))


@strawberry.input(description="A new user.")
class CreateUserInput:
    name: str
    email: str
    password: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="8 to 128 characters; left out, the user cannot log in.",
    )


@strawberry.input(description="Changes to a user; fields left out stay as they are.")
class UpdateUserInput:
    name: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET


USER_INPUT = InputSpec(models.User, {"name": Text(1, 100), "email": Email()})

user = fields.lookup(USER, User, "The user with this ID.")
users = fields.listing(USER, User, UserFilter, UserOrder, "Users, a page at a time.")
# A password is a derived field: stored as its hash (schema.accounts.Password).
create_user = Create(USER, USER_INPUT, CreateRule(ADMIN), derived=[PASSWORD]).field(
    User, CreateUserInput, "Create a user (admins)."
)
update_user = crud.update(USER, User, UpdateUserInput, USER_INPUT, "Change a user.")
delete_user = crud.delete(USER, User, "Soft-delete a user: returns it with `deletedAt` set.")
restore_user = crud.restore(USER, User, "Undo a user's soft delete (admins).", ADMIN)
