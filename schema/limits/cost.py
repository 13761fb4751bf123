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
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    IntValueNode,
    ListValueNode,
    NamedTypeNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)

from schema.selections import FragmentLookup, Walk

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


class _Cost(Walk[ObjectLike, int]):
    """The cost of a selection set, given the type whose fields it selects."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
        default_page_size: int,
        max_page_size: int,
    ) -> None:
        super().__init__(fragments.get)
        self.schema = schema
        self.variables = variables
        self.default_page_size = default_page_size
        self.max_page_size = max_page_size
        # One row's cost, summed over a connection's fields and over an edge's.
        self._connection = _Sum(fragments.get, self._row)
        self._edge = _Sum(fragments.get, self._node)

    def fold(self, values: list[int]) -> int:
        return sum(values)

    def inside(self, condition: NamedTypeNode | None, parent: ObjectLike) -> ObjectLike:
        return (self._type(condition.name.value) if condition else None) or parent

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
        return self._connection.selection(selection_set, node_type)

    def _row(self, field: FieldNode, node_type: ObjectLike) -> int:
        if field.name.value == "nodes":
            return self.selection(field.selection_set, node_type)
        if field.name.value == "edges":
            return self._edge.selection(field.selection_set, node_type)
        return 0

    def _node(self, field: FieldNode, node_type: ObjectLike) -> int:
        if field.name.value != "node":
            return 0
        return self.selection(field.selection_set, node_type)

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


class _Sum(Walk[ObjectLike, int]):
    """``value`` summed over the fields of a selection set, fragments counted per spread.

    A fragment's sum is kept by its name alone: each ``_Sum`` serves one role
    (a connection's fields or an edge's), so fragments spreading fragments are
    measured in linear time.
    """

    def __init__(
        self, fragment: FragmentLookup, value: Callable[[FieldNode, ObjectLike], int]
    ) -> None:
        super().__init__(fragment)
        self._value = value

    def field(self, node: FieldNode, node_type: ObjectLike) -> int:
        return self._value(node, node_type)

    def fold(self, values: list[int]) -> int:
        return sum(values)
