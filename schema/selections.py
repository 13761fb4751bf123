"""Walking a selection set with its fragments: the one walk the limits and the planner share.

A fragment's value is computed once per walk and reused at each spread, so a
document that spreads fragments into fragments (a "fragment bomb") costs
linear time to walk, not exponential. An unknown fragment, or one spread
inside itself, is worth nothing here: those are validation errors of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    NamedTypeNode,
    SelectionSetNode,
)

INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})

FragmentLookup = Callable[[str], FragmentDefinitionNode | None]

Context = TypeVar("Context")
Value = TypeVar("Value")


class Walk(Generic[Context, Value]):
    """A ``Value`` folded over a selection set: fields give values, siblings fold into one.

    Subclasses say what one field is worth (``field``) and how sibling values
    fold (``fold``: into a new value, since fragments share theirs; folding
    none gives ``nothing``, the value of no selection: ``0``, ``{}``). A
    ``Context`` travels down to the fields (the cost's parent type; ``None``
    where nothing needs it); ``inside`` gives it within a fragment's type
    condition. Fields named in ``skip`` count for nothing.
    """

    skip: frozenset[str] = frozenset()

    def __init__(self, fragment: FragmentLookup) -> None:
        self._fragment = fragment
        self._fragments: dict[str, Value] = {}
        self._in_progress: set[str] = set()
        self.nothing = self.fold([])

    def field(self, node: FieldNode, context: Context) -> Value:
        raise NotImplementedError

    def fold(self, values: list[Value]) -> Value:
        raise NotImplementedError

    def inside(self, condition: NamedTypeNode | None, context: Context) -> Context:
        return context

    def applies(self, condition: NamedTypeNode | None, context: Context) -> bool:
        """Whether a fragment with this type condition is walked at all (every one, here)."""
        return True

    def selection(self, selection_set: SelectionSetNode | None, context: Context) -> Value:
        if selection_set is None:
            return self.nothing
        values: list[Value] = []
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.name.value not in self.skip:
                    values.append(self.field(selection, context))
            elif isinstance(selection, InlineFragmentNode):
                if self.applies(selection.type_condition, context):
                    inner = self.inside(selection.type_condition, context)
                    values.append(self.selection(selection.selection_set, inner))
            elif isinstance(selection, FragmentSpreadNode):
                values.append(self.spread(selection.name.value, context))
        return self.fold(values) if values else self.nothing

    def spread(self, name: str, context: Context) -> Value:
        """The fragment's value, walked at its first spread and kept (by name) for the others."""
        if name in self._fragments:
            return self._fragments[name]
        definition = self._fragment(name)
        if definition is None or name in self._in_progress:
            return self.nothing
        if not self.applies(definition.type_condition, context):
            return self.nothing
        self._in_progress.add(name)
        try:
            inner = self.inside(definition.type_condition, context)
            value = self.selection(definition.selection_set, inner)
        finally:
            self._in_progress.discard(name)
        self._fragments[name] = value
        return value
