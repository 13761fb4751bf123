"""``Role``: named groups of users (many-to-many through ``user_roles``)."""

from __future__ import annotations

import enum
from datetime import datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING, Annotated, Any, cast

import strawberry

import models
from repositories import RoleRepository, UserRepository
from repositories.rules import ADMIN
from schema import crud, fields
from schema.authorization import CreateRule, require
from schema.context import Info
from schema.filters import IDFilter, StringFilter
from schema.node import Node, node_id
from schema.ordering import OrderDirection
from schema.resource import register
from schema.transaction import write
from schema.types.user import USER
from schema.validation import InputSpec, Reference, Text

if TYPE_CHECKING:
    from schema.types.user import User, UserFilter, UserOrder


ROLE = register("Role", models.Role, RoleRepository)

UserRef = Annotated["User", strawberry.lazy("schema.types.user")]
UserFilterRef = Annotated["UserFilter", strawberry.lazy("schema.types.user")]
UserOrderRef = Annotated["UserOrder", strawberry.lazy("schema.types.user")]


@strawberry.enum(description="Fields roles can be ordered by.")
class RoleOrderField(enum.Enum):
    ID = "id"
    NAME = "name"
    CREATED_AT = "created_at"


@strawberry.input(description="One sort key for roles.")
class RoleOrder:
    field: RoleOrderField
    direction: OrderDirection = OrderDirection.ASC


@strawberry.input(description="Conditions on roles; all given ones must hold.")
class RoleFilter:
    id: IDFilter | None = strawberry.UNSET
    name: StringFilter | None = strawberry.UNSET


@strawberry.type(description="A named group of users.")
class Role(Node):
    id: strawberry.ID = node_id("Role")
    name: str
    created_at: datetime
    updated_at: datetime
    users = fields.children(
        models.Role.users, UserRef, UserFilterRef, UserOrderRef, "The users who have this role."
    )

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, (cls, models.Role))


@strawberry.input(description="A new role.")
class CreateRoleInput:
    name: str


ROLE_INPUT = InputSpec(models.Role, {"name": Text(1, 50, unique=True)})
MEMBERSHIP = InputSpec(models.User, {"user_id": Reference(USER), "role_id": Reference(ROLE)})

role = fields.lookup(ROLE, Role, "The role with this ID.")
roles = fields.listing(ROLE, Role, RoleFilter, RoleOrder, "Roles, a page at a time.")
create_role = crud.create(
    ROLE, Role, CreateRoleInput, ROLE_INPUT, "Create a role (admins).", CreateRule(ADMIN)
)


async def _membership(info: Info, user_id: str, role_id: str, *, assign: bool) -> Any:
    require(info.context.params.values, ADMIN)
    users = await info.context.service(UserRepository)
    async with write(info, users.session):
        keys = await MEMBERSHIP.values(
            SimpleNamespace(user_id=user_id, role_id=role_id), info.context.loaders.rows, prefix=""
        )
        if assign:
            await users.assign_role(keys["user_id"], keys["role_id"])
        else:
            await users.revoke_role(keys["user_id"], keys["role_id"])
        return await users.find(keys["user_id"])


async def resolve_assign_role(
    info: Info, user_id: strawberry.ID, role_id: strawberry.ID
) -> UserRef | None:
    return cast("User | None", await _membership(info, user_id, role_id, assign=True))


async def resolve_revoke_role(
    info: Info, user_id: strawberry.ID, role_id: strawberry.ID
) -> UserRef | None:
    return cast("User | None", await _membership(info, user_id, role_id, assign=False))


assign_role = strawberry.field(
    resolver=resolve_assign_role, description="Give a user a role (doing it twice is fine)."
)
revoke_role = strawberry.field(
    resolver=resolve_revoke_role, description="Take a role from a user (doing it twice is fine)."
)
