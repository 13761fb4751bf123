"""``Role``: named groups of users (many-to-many through ``user_roles``)."""

from __future__ import annotations

import strawberry

import models
from repositories import RoleRepository
from repositories.rules import ADMIN
from schema import crud, fields
from schema.authorization import CreateRule
from schema.derive import node, order, where
from schema.node import Node
from schema.resource import register
from schema.types.user import USER, User
from schema.validation import InputSpec, Text

ROLE = register("Role", models.Role, RoleRepository)
RoleOrder = order(ROLE, "id", "name", "created_at")
RoleFilter, RoleRelationFilter = where(ROLE, "id", "name", logical=False)
ROLE_INPUT = InputSpec(models.Role, {"name": Text(1, 50, unique=True)})


@node(ROLE, "A named group of users.")
class Role(Node):
    name: str = strawberry.field(description="The role's name (`admin`, `editor`...).")
    users = fields.children(models.Role.users, "The users who have this role.")


role = fields.lookup(ROLE, Role, "The role with this ID.")
roles = fields.listing(ROLE, Role, "Roles, a page at a time.")
create_role = crud.create(ROLE, Role, ROLE_INPUT, "Create a role (admins).", CreateRule(ADMIN))
assign_role = crud.attach(
    USER, User, "roles", ROLE, "Give a user a role (doing it twice is fine).", rule=ADMIN
)
revoke_role = crud.detach(
    USER, User, "roles", ROLE, "Take a role from a user (doing it twice is fine).", rule=ADMIN
)
