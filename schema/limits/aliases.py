"""Maximum aliases: every alias counts, also inside fragments, once per spread."""

from __future__ import annotations

from graphql import FieldNode
from graphql.validation import ValidationRule

from schema.limits._walk import INTROSPECTION_FIELDS, Walk, limit_rule


class Aliases(Walk[None, int]):
    skip = INTROSPECTION_FIELDS

    def field(self, node: FieldNode, context: None) -> int:
        return (node.alias is not None) + self.selection(node.selection_set, context)

    def fold(self, values: list[int]) -> int:
        return sum(values)


def max_aliases_rule(limit: int) -> type[ValidationRule]:
    return limit_rule("number of aliases", limit, Aliases)
