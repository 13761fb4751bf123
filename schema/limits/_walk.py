"""Walking selection sets with fragments counted where they are spread.

Results for a fragment are computed once per document and reused at each
spread, so a document that spreads fragments into fragments (a "fragment
bomb") costs linear time to measure, not exponential.
"""

from __future__ import annotations

from collections.abc import Callable

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionSetNode,
)

INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})

FragmentLookup = Callable[[str], FragmentDefinitionNode | None]
Combine = Callable[[list[int]], int]


class Measure:
    """A number computed over a selection set: fields give values, siblings combine.

    Subclasses say what one field is worth (``field``) and how sibling
    values combine (``combine``: ``max`` for depth, ``sum`` for counts).
    """

    def __init__(self, fragment: FragmentLookup) -> None:
        self._fragment = fragment
        self._fragments: dict[str, int] = {}
        self._in_progress: set[str] = set()

    def field(self, node: FieldNode) -> int:
        raise NotImplementedError

    def combine(self, values: list[int]) -> int:
        return sum(values)

    def selection(self, selection_set: SelectionSetNode | None) -> int:
        if selection_set is None:
            return 0
        values: list[int] = []
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.name.value not in INTROSPECTION_FIELDS:
                    values.append(self.field(selection))
            elif isinstance(selection, InlineFragmentNode):
                values.append(self.selection(selection.selection_set))
            elif isinstance(selection, FragmentSpreadNode):
                values.append(self.spread(selection.name.value))
        return self.combine(values) if values else 0

    def spread(self, name: str) -> int:
        if name in self._fragments:
            return self._fragments[name]
        definition = self._fragment(name)
        if definition is None or name in self._in_progress:
            return 0  # unknown or cyclic fragments are validation errors of their own
        self._in_progress.add(name)
        try:
            value = self.selection(definition.selection_set)
        finally:
            self._in_progress.discard(name)
        self._fragments[name] = value
        return value
