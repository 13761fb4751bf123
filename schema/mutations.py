"""The ``Mutation`` root: each field runs in a transaction of its own, in document order."""

from __future__ import annotations

import strawberry

from schema.types.auth import (
    change_password_field,
    login_field,
    logout_field,
    refresh_token_field,
    sign_up_field,
)
from schema.types.comment import create_comment, delete_comment, update_comment
from schema.types.post import create_post, delete_post, restore_post, update_post
from schema.types.role import assign_role, create_role, revoke_role
from schema.types.user import create_user, delete_user, restore_user, update_user


@strawberry.type(description="Everything that can be changed.")
class Mutation:
    create_user = create_user
    update_user = update_user
    delete_user = delete_user
    restore_user = restore_user
    create_post = create_post
    update_post = update_post
    delete_post = delete_post
    restore_post = restore_post
    create_comment = create_comment
    update_comment = update_comment
    delete_comment = delete_comment
    create_role = create_role
    assign_role = assign_role
    revoke_role = revoke_role
    sign_up = sign_up_field
    login = login_field
    refresh_token = refresh_token_field
    logout = logout_field
    change_password = change_password_field
