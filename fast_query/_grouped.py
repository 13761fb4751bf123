"""Rows of many parents in one statement, with a limit that applies to each parent.

A single ``LIMIT`` over a batch of parents cuts the list at the wrong place
(the first parents take all the rows). Here a ``row_number()`` window,
partitioned by the parent key, numbers each parent's rows in the builder's
order, and only the first ``n`` of every partition are kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, FromClause
from sqlalchemy.orm import QueryableAttribute, RelationshipProperty

from fast_query.exceptions import InvalidQuery


@dataclass(frozen=True, slots=True)
class ParentLink:
    """How a child table reaches its parent's key through one relationship."""

    parent_key: ColumnElement[Any]
    join: tuple[FromClause, ColumnElement[bool]] | None


def parent_link(relation: QueryableAttribute[Any], child: type[Any]) -> ParentLink:
    """Read ``User.posts`` (or the many-to-many ``User.roles``) as a parent-key column."""
    prop = relation.property
    if not isinstance(prop, RelationshipProperty) or not prop.uselist:
        raise InvalidQuery(f"{relation} is not a to-many relationship")
    if prop.mapper.class_ is not child:
        raise InvalidQuery(f"{relation} does not lead to {child.__name__}")
    if len(prop.local_remote_pairs or ()) != 1 and prop.secondary is None:
        raise InvalidQuery(f"{relation} has a composite key")
    if prop.secondary is None:
        (_local, remote), *_ = prop.synchronize_pairs
        return ParentLink(parent_key=remote, join=None)
    (_local, parent_key), *_ = prop.synchronize_pairs
    assert prop.secondaryjoin is not None
    return ParentLink(parent_key=parent_key, join=(prop.secondary, prop.secondaryjoin))
