"""Maximum depth: the root field counts as 1."""

from __future__ import annotations

from graphql import FieldNode
from graphql.validation import ValidationRule

from schema.limits._walk import INTROSPECTION_FIELDS, Walk, limit_rule


class Depth(Walk[None, int]):
    skip = INTROSPECTION_FIELDS

    def field(self, node: FieldNode, context: None) -> int:
        return 1 + self.selection(node.selection_set, context)

    def fold(self, values: list[int]) -> int:
        return max(values, default=0)


def max_depth_rule(limit: int) -> type[ValidationRule]:
    return limit_rule("depth", limit, Depth)
