"""Maximum repeats of a field with sub-selections under one response key.

Validating that same-named fields can be merged compares them in pairs, so
a document repeating ``users { nodes { name } }`` a few hundred times (the
"field duplication" attack) costs seconds of CPU before anything runs. Leaf
fields repeat cheaply and are not counted; fragments count where they are
spread.
"""

from __future__ import annotations

from graphql import FieldNode, SelectionSetNode
from graphql.validation import ValidationRule

from schema.limits._walk import FragmentLookup, Walk, limit_rule


class _Keys(Walk[None, dict[str, int]]):
    """Response keys of the fields (with sub-selections) a selection set merges, counted."""

    def field(self, node: FieldNode, context: None) -> dict[str, int]:
        if node.selection_set is None:
            return self.nothing
        return {(node.alias or node.name).value: 1}

    def fold(self, values: list[dict[str, int]]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for value in values:
            for key, count in value.items():
                counts[key] = counts.get(key, 0) + count
        return counts


class _Repeats(Walk[None, int]):
    """The most times any response key with a sub-selection repeats in one selection set.

    Every selection set counts: the one walked and each nested in it, those of
    inline fragments and of spread fragments included.
    """

    def __init__(self, fragment: FragmentLookup) -> None:
        super().__init__(fragment)
        self._keys = _Keys(fragment)

    def selection(self, selection_set: SelectionSetNode | None, context: None) -> int:
        if selection_set is None:
            return 0
        here = max(self._keys.selection(selection_set, context).values(), default=0)
        return max(here, super().selection(selection_set, context))

    def field(self, node: FieldNode, context: None) -> int:
        return self.selection(node.selection_set, context)

    def fold(self, values: list[int]) -> int:
        return max(values, default=0)


def max_repeats_rule(limit: int) -> type[ValidationRule]:
    return limit_rule("repeats of one field", limit, _Repeats)
