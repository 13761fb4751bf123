"""``limit_rule``: a walk over an operation's selection that must stay under a limit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import OperationDefinitionNode
from graphql.validation import ValidationRule

from schema.limits.errors import too_complex
from schema.selections import INTROSPECTION_FIELDS, FragmentLookup, Walk

__all__ = ["INTROSPECTION_FIELDS", "FragmentLookup", "Walk", "limit_rule"]


def limit_rule(
    what: str, limit: int, walk: Callable[[FragmentLookup], Walk[None, int]]
) -> type[ValidationRule]:
    """A rule refusing an operation whose selection, walked, is over ``limit``."""

    class LimitRule(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            actual = walk(self.context.get_fragment).selection(node.selection_set, None)
            if actual > limit:
                self.report_error(too_complex(what, limit, actual, nodes=[node]))

    return LimitRule
