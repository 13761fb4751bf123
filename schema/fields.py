"""Generic fields, configured per node type: each a field kind (``schema.kinds``) made a field.

A node type's module declares its fields in a line each instead of writing
resolvers: the kind builds the resolver's GraphQL arguments from the types
it is given, and the fast path plans the same field from its kind.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import QueryableAttribute

from schema.kinds.columns import MaskedColumn, ViewerCan
from schema.kinds.connections import Children, Listing
from schema.kinds.lookup import Lookup
from schema.kinds.relations import Members, Parent
from schema.resource import Resource


def lookup(resource: Resource[Any], node: Any, description: str) -> Any:
    """``user(id: ID!, trashed: Trashed = WITHOUT): User``: one row, or NOT_FOUND."""
    return Lookup(resource).field(node, description)


def listing(
    resource: Resource[Any], node: Any, filter_type: Any, order_type: Any, description: str
) -> Any:
    """``users(first, after, last, before, where, orderBy, trashed)``: a root connection."""
    return Listing(resource).field(node, filter_type, order_type, description)


def children(
    relation: QueryableAttribute[Any],
    node: Any,
    filter_type: Any,
    order_type: Any,
    description: str,
    *,
    trashed: bool = False,
) -> Any:
    """``user.posts(first, ..., where, orderBy)``: a connection paged per parent."""
    kind = Children(relation, trashed_argument=trashed)
    return kind.field(node, filter_type, order_type, description)


def parent(foreign_key: str, model: type[Any], node: Any, description: str) -> Any:
    """A to-one relation (``post.author``): batched by key, soft-deleted rows included."""
    return Parent(foreign_key, model).field(node, description)


def members(relation: QueryableAttribute[Any], node: Any, description: str) -> Any:
    """A plain to-many list (``user.roles``), in id order, batched per level."""
    return Members(relation).field(node, description)


def masked(model: type[Any], name: str, description: str) -> Any:
    """A column some viewers see as ``null`` (its repository's ``masks`` say who sees it)."""
    return MaskedColumn(model, name).field(description)


def viewer_can(resource: Resource[Any]) -> tuple[Any, Any]:
    """``viewerCanUpdate`` and ``viewerCanDelete``: the repository's write rules, per row."""
    return (
        ViewerCan(resource, "update").field("Whether the viewer may change this row."),
        ViewerCan(resource, "delete").field("Whether the viewer may delete this row."),
    )
