"""Maximum aliases: every alias counts, also inside fragments, once per spread."""

from __future__ import annotations

from typing import Any

from graphql import FieldNode, OperationDefinitionNode
from graphql.validation import ValidationRule

from schema.limits._walk import Measure
from schema.limits.errors import too_complex


class Aliases(Measure):
    def field(self, node: FieldNode) -> int:
        return (node.alias is not None) + self.selection(node.selection_set)


def max_aliases_rule(limit: int) -> type[ValidationRule]:
    class MaxAliasesRule(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            count = Aliases(self.context.get_fragment).selection(node.selection_set)
            if count > limit:
                self.report_error(too_complex("number of aliases", limit, count, nodes=[node]))

    return MaxAliasesRule
