"""Maximum depth: the root field counts as 1."""

from __future__ import annotations

from typing import Any

from graphql import FieldNode, OperationDefinitionNode
from graphql.validation import ValidationRule

from schema.limits._walk import Measure
from schema.limits.errors import too_complex


class Depth(Measure):
    def field(self, node: FieldNode) -> int:
        return 1 + self.selection(node.selection_set)

    def combine(self, values: list[int]) -> int:
        return max(values)


def max_depth_rule(limit: int) -> type[ValidationRule]:
    class MaxDepthRule(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            depth = Depth(self.context.get_fragment).selection(node.selection_set)
            if depth > limit:
                self.report_error(too_complex("depth", limit, depth, nodes=[node]))

    return MaxDepthRule
