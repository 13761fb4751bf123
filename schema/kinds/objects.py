"""Kinds whose value is rows of their model shaped as objects: how the fast path plans them."""

from __future__ import annotations

from graphql import FieldNode, GraphQLField, GraphQLObjectType

from schema.fastpath.plan import ObjectField, ObjectPlan, Planner, Relation, object_type
from schema.kinds.base import FieldKind


class ObjectRoot(FieldKind):
    """A root field answering one object of ``model`` (a lookup, a create)."""

    def plan_root(
        self, planner: Planner, type_: GraphQLObjectType, nodes: list[FieldNode]
    ) -> ObjectPlan:
        return planner.object(type_, self.model, nodes)


class ObjectRelation(FieldKind):
    """A relation whose value is one object of ``model``, or a list of them."""

    def plan_field(
        self, planner: Planner, key: str, definition: GraphQLField, nodes: list[FieldNode]
    ) -> ObjectField:
        target = planner.object(object_type(definition), self.model, nodes)
        return Relation(key, self, definition, nodes[0], target)
