"""Maximum repeats of a field with sub-selections under one response key.

Validating that same-named fields can be merged compares them in pairs, so
a document repeating ``users { nodes { name } }`` a few hundred times (the
"field duplication" attack) costs seconds of CPU before anything runs. Leaf
fields repeat cheaply and are not counted; fragments count where they are
spread.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from graphql.validation import ValidationRule

from schema.limits._walk import FragmentLookup
from schema.limits.errors import too_complex


class _Repeats:
    """The most times any response key with a sub-selection repeats in one selection set."""

    def __init__(self, fragment: FragmentLookup) -> None:
        self._fragment = fragment
        self._keys: dict[str, Counter[str]] = {}
        self._in_progress: set[str] = set()
        self._seen: set[int] = set()

    def keys(self, selection_set: SelectionSetNode | None) -> Counter[str]:
        """Response keys of the fields (with sub-selections) this selection set merges."""
        counts: Counter[str] = Counter()
        if selection_set is None:
            return counts
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.selection_set is not None:
                    counts[(selection.alias or selection.name).value] += 1
            elif isinstance(selection, InlineFragmentNode):
                counts.update(self.keys(selection.selection_set))
            elif isinstance(selection, FragmentSpreadNode):
                counts.update(self._spread(selection.name.value))
        return counts

    def _spread(self, name: str) -> Counter[str]:
        if name in self._keys:
            return self._keys[name]
        definition = self._fragment(name)
        if definition is None or name in self._in_progress:
            return Counter()
        self._in_progress.add(name)
        try:
            counted = self.keys(definition.selection_set)
        finally:
            self._in_progress.discard(name)
        self._keys[name] = counted
        return counted

    def worst(self, selection_set: SelectionSetNode | None) -> int:
        """The largest repeat count in this selection set or any nested in it."""
        if selection_set is None or id(selection_set) in self._seen:
            return 0
        self._seen.add(id(selection_set))
        counts = self.keys(selection_set)
        worst = max(counts.values(), default=0)
        for selection in selection_set.selections:
            if isinstance(selection, (FieldNode, InlineFragmentNode)):
                worst = max(worst, self.worst(selection.selection_set))
            elif isinstance(selection, FragmentSpreadNode):
                definition = self._fragment(selection.name.value)
                if definition is not None:
                    worst = max(worst, self.worst(definition.selection_set))
        return worst


def max_repeats_rule(limit: int) -> type[ValidationRule]:
    class MaxRepeatedFieldsRule(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            repeats = _Repeats(self.context.get_fragment).worst(node.selection_set)
            if repeats > limit:
                error = too_complex("repeats of one field", limit, repeats, nodes=[node])
                self.report_error(error)

    return MaxRepeatedFieldsRule
