"""Generic fields, configured per node type: each a field kind (``schema.kinds``) made a field.

A node type's module declares its fields in a line each instead of writing
resolvers: the kind builds the resolver's GraphQL arguments from the types
it is given, and the fast path plans the same field from its kind.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import QueryableAttribute, RelationshipProperty

from fast_query import SoftDeletesMixin
from schema import derive
from schema.kinds.base import relationship, target_of
from schema.kinds.columns import MaskedColumn
from schema.kinds.connections import Children, Listing
from schema.kinds.lookup import Lookup
from schema.kinds.relations import Members, Parent
from schema.resource import Resource
from schema.roots import query


def lookup(resource: Resource[Any], node: Any, description: str) -> Any:
    """``user(id: ID!, trashed: Trashed = WITHOUT): User``: one row, or NOT_FOUND."""
    return query(Lookup(resource).field(node, description))


def listing(
    resource: Resource[Any],
    node: Any,
    description: str,
    *,
    filter_type: Any = None,
    order_type: Any = None,
) -> Any:
    """``users(first, after, last, before, where, orderBy, trashed)``: a root connection.

    Its filter and order are the model's (``derive.where``, ``derive.order``) unless given.
    """
    model = resource.model
    filter_type = filter_type or derive.related(model, "Filter")
    order_type = order_type or derive.related(model, "Order")
    return query(Listing(resource).field(node, filter_type, order_type, description))


def children(
    relation: QueryableAttribute[Any], description: str, *, trashed: bool | None = None
) -> Any:
    """``user.posts(first, ..., where, orderBy)``: a connection paged per parent.

    Node, filter and order types are the target model's. It takes a ``trashed``
    argument when its rows are the parent's own and may be soft-deleted (a
    user's posts); rows linked through a table of their own (a role's users)
    are listed live only, unless ``trashed`` says otherwise.
    """
    prop = relationship(relation)
    target = prop.mapper.class_
    if trashed is None:
        trashed = issubclass(target, SoftDeletesMixin) and prop.secondary is None
    kind = Children(relation, trashed_argument=trashed)
    origin = _origin(prop)
    node, filter_type, order_type = (derive.related(target, of, origin) for of in derive.READS)
    return kind.field(node, filter_type, order_type, description)


def parent(relation: QueryableAttribute[Any], description: str) -> Any:
    """A to-one relation (``post.author``): batched by key, soft-deleted rows included."""
    prop = relationship(relation)
    (column,) = prop.local_columns
    foreign_key = prop.parent.get_property_by_column(column).key
    target = prop.mapper.class_
    return Parent(foreign_key, target).field(
        derive.related(target, "Node", _origin(prop)), description
    )


def members(relation: QueryableAttribute[Any], description: str, *, node: Any = None) -> Any:
    """A plain to-many list (``user.roles``), in id order, batched per level."""
    node = node or derive.related(target_of(relation), "Node", _origin(relationship(relation)))
    return Members(relation).field(node, description)


def _origin(prop: RelationshipProperty[Any]) -> str:
    """``User.posts``: the relation a field follows, for errors."""
    return f"{prop.parent.class_.__name__}.{prop.key}"


def masked(model: type[Any], name: str, description: str) -> Any:
    """A column some viewers see as ``null`` (its repository's ``masks`` say who sees it)."""
    return MaskedColumn(model, name).field(description)
