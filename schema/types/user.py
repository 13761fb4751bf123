"""``User``: people who write posts and comments; soft-deleted."""

from __future__ import annotations

import strawberry

import models
from repositories import UserRepository
from repositories.rules import ADMIN
from schema import crud, fields
from schema.accounts import PASSWORD
from schema.authorization import CreateRule
from schema.derive import node, order, where
from schema.node import Node
from schema.resource import register
from schema.validation import Email, InputSpec, Text

USER = register("User", models.User, UserRepository)
UserOrder = order(
    USER,
    *("id", "name", "email", "created_at", "updated_at"),
    email="The email; emails hidden from you sort as one value, first.",
)
UserFilter, UserRelationFilter = where(
    USER,
    *("id", "name", "email", "created_at", "posts"),
    email="Conditions on the email (null where hidden from you).",
    posts="Conditions on the user's live posts.",
)
USER_INPUT = InputSpec(models.User, {"name": Text(1, 100), "email": Email()})


@node(USER, "A person who writes posts and comments.")
class User(Node):
    name: str = strawberry.field(description="The user's name.")
    email: str | None = fields.masked(
        models.User, "email", "The user's email: null unless the viewer is this user or an admin."
    )
    posts = fields.children(models.User.posts, "The user's posts.")
    comments = fields.children(models.User.comments, "The user's comments.")
    roles = fields.members(models.User.roles, "The user's roles, by id.")


user = fields.lookup(USER, User, "The user with this ID.")
users = fields.listing(USER, User, "Users, a page at a time.")
# A password is a derived field: stored as its hash (schema.accounts.Password).
create_user = crud.create(
    USER, User, USER_INPUT, "Create a user (admins).", CreateRule(ADMIN), derived=[PASSWORD]
)
update_user = crud.update(USER, User, USER_INPUT, "Change a user.")
delete_user = crud.delete(USER, User, "Soft-delete a user: returns it with `deletedAt` set.")
restore_user = crud.restore(USER, User, "Undo a user's soft delete (admins).", ADMIN)
