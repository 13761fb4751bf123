"""The ``Query`` root: the viewer, Relay's node lookups, and each node type's lookup and list."""

from __future__ import annotations

import strawberry

from schema.node import node_field, nodes_field
from schema.types.auth import viewer
from schema.types.comment import comment, comments
from schema.types.post import post, posts
from schema.types.role import role, roles
from schema.types.user import user, users


@strawberry.type(description="Everything that can be read.")
class Query:
    viewer = viewer
    node = node_field
    nodes = nodes_field
    user = user
    users = users
    post = post
    posts = posts
    comment = comment
    comments = comments
    role = role
    roles = roles
