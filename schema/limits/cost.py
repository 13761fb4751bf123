"""Cost: the number of objects a query could return.

An object field costs 1 plus its selection. A connection costs
``n × (1 + the cost of one node's selection)``, ``n`` being its ``first`` or
``last`` (the default page size when neither is given); ``edges``, ``node``,
``nodes`` and ``pageInfo`` cost nothing of their own. ``nodes(ids:)``
multiplies by the number of ids, and any other list of objects counts as 10.
Variables are read, so ``first: $n`` costs what ``$n`` asks for; the page
size is capped at the maximum, since a larger one is refused anyway.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)

PLAIN_LIST_SIZE = 10
ObjectLike = GraphQLObjectType | GraphQLInterfaceType


def query_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: dict[str, Any] | None,
    *,
    default_page_size: int,
    max_page_size: int,
) -> int:
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    values = dict(variables or {})
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        default = definition.default_value
        if name in values:
            continue
        if isinstance(default, IntValueNode):
            values[name] = int(default.value)
        elif isinstance(default, ListValueNode):
            values[name] = default.values
    cost = _Cost(schema, fragments, values, default_page_size, max_page_size)
    return cost.selection(operation.selection_set, root)


class _Cost:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
        default_page_size: int,
        max_page_size: int,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.default_page_size = default_page_size
        self.max_page_size = max_page_size
        self._memo: dict[str, int] = {}
        self._in_progress: set[str] = set()

    def selection(self, selection_set: SelectionSetNode | None, parent: ObjectLike) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self._type(condition.name.value) if condition else parent
                total += self.selection(selection.selection_set, target or parent)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.spread(selection.name.value, parent)
        return total

    def spread(self, name: str, parent: ObjectLike) -> int:
        if name in self._memo:
            return self._memo[name]
        definition = self.fragments.get(name)
        if definition is None or name in self._in_progress:
            return 0
        self._in_progress.add(name)
        try:
            target = self._type(definition.type_condition.name.value) or parent
            value = self.selection(definition.selection_set, target)
        finally:
            self._in_progress.discard(name)
        self._memo[name] = value
        return value

    def field(self, node: FieldNode, parent: ObjectLike) -> int:
        name = node.name.value
        if name.startswith("__"):
            return 0  # __typename is a leaf; introspection counts toward no limit
        definition = parent.fields.get(name)
        if definition is None:
            return 0
        named = get_named_type(definition.type)
        if not isinstance(named, (GraphQLObjectType, GraphQLInterfaceType)):
            return 0
        if _is_connection(named):
            return self._page_size(node) * (1 + self._one_node(node.selection_set, named))
        inner = 1 + self.selection(node.selection_set, named)
        field_type = definition.type
        if isinstance(field_type, GraphQLNonNull):
            field_type = field_type.of_type
        if isinstance(field_type, GraphQLList):
            return self._list_size(node) * inner
        return inner

    def _one_node(self, selection_set: SelectionSetNode | None, connection: ObjectLike) -> int:
        """The cost of one row's selection inside a connection (edges/node and nodes)."""
        node_type = get_named_type(connection.fields["nodes"].type)
        assert isinstance(node_type, (GraphQLObjectType, GraphQLInterfaceType))

        def node(field: FieldNode) -> int:
            if field.name.value != "node":
                return 0
            return self.selection(field.selection_set, node_type)

        def row(field: FieldNode) -> int:
            if field.name.value == "nodes":
                return self.selection(field.selection_set, node_type)
            if field.name.value == "edges":
                return self._sum(field.selection_set, "edge", node)
            return 0

        return self._sum(selection_set, "connection", row)

    def _sum(
        self, selection_set: SelectionSetNode | None, role: str, value: Callable[[FieldNode], int]
    ) -> int:
        """``value`` summed over the fields of a selection set, fragments counted per spread.

        A fragment's sum is memoized (by ``role``: a connection's or an edge's
        fields), so fragments spreading fragments are measured in linear time.
        """
        total = 0
        if selection_set is None:
            return total
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += value(selection)
            elif isinstance(selection, InlineFragmentNode):
                total += self._sum(selection.selection_set, role, value)
            elif isinstance(selection, FragmentSpreadNode):
                key = f"{role}:{selection.name.value}"
                if key not in self._memo:
                    definition = self.fragments.get(selection.name.value)
                    if definition is None or key in self._in_progress:
                        continue
                    self._in_progress.add(key)
                    try:
                        self._memo[key] = self._sum(definition.selection_set, role, value)
                    finally:
                        self._in_progress.discard(key)
                total += self._memo[key]
        return total

    def _page_size(self, node: FieldNode) -> int:
        for name in ("first", "last"):
            value = self._argument(node, name)
            if isinstance(value, int) and not isinstance(value, bool):
                return max(0, min(value, self.max_page_size))
        return self.default_page_size

    def _list_size(self, node: FieldNode) -> int:
        ids = self._argument(node, "ids")
        if isinstance(ids, list):
            return len(ids)
        return PLAIN_LIST_SIZE

    def _argument(self, node: FieldNode, name: str) -> Any:
        for argument in node.arguments or ():
            if argument.name.value != name:
                continue
            value = argument.value
            if isinstance(value, VariableNode):
                return self.variables.get(value.name.value)
            if isinstance(value, IntValueNode):
                return int(value.value)
            if isinstance(value, ListValueNode):
                return list(value.values)
        return None

    def _type(self, name: str) -> ObjectLike | None:
        found = self.schema.get_type(name)
        return found if isinstance(found, (GraphQLObjectType, GraphQLInterfaceType)) else None


def _is_connection(named: ObjectLike) -> bool:
    return named.name.endswith("Connection") and {"edges", "nodes", "pageInfo"} <= set(named.fields)
