"""Planning: a validated query document as a tree of what to read and how to shape it.

A plan exists only for documents made of what the generic fields describe
(columns, global IDs, to-one relations, lists, connections and their
pageInfo/edges/totalCount, ``__typename``), with fragments and inline
fragments. Anything else (directives, interfaces such as ``node``,
introspection, custom resolvers) raises ``Unsupported`` and the request goes
through the resolvers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from graphql import (
    BREAK,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    NamedTypeNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    Visitor,
    visit,
)
from sqlalchemy import inspect as sa_inspect

from schema.kinds.base import STRAWBERRY_DEFINITION, FieldKind, Unsupported, kind_of
from schema.scalars import serialize_datetime
from schema.selections import FragmentLookup, Walk

__all__ = ["STRAWBERRY_DEFINITION", "Planner", "Unsupported"]


@dataclass(frozen=True, slots=True)
class Scalar:
    key: str
    column: str
    serialize: Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class Constant:
    key: str
    value: Any


@dataclass(frozen=True, slots=True)
class GlobalId:
    key: str
    type_name: str


@dataclass(frozen=True, slots=True)
class Relation:
    """A relation field of an object: its kind reads it for all the objects' rows at once."""

    key: str
    kind: FieldKind
    definition: GraphQLField
    node: FieldNode
    target: Any  # ObjectPlan, or ConnectionPlan for a connection


ObjectField = Scalar | Constant | GlobalId | Relation


@dataclass(slots=True)
class ObjectPlan:
    """How to shape one row of ``model`` into a response object."""

    model: type[Any]
    fields: list[ObjectField] = field(default_factory=list)
    #: Compiled shaping functions by the columns rows arrive with (see ``run.shaper``).
    shapers: dict[tuple[str, ...], Callable[..., list[dict[str, Any]]]] = field(
        default_factory=dict, repr=False
    )
    joins_kept: Joins | None = field(default=None, repr=False)

    def joins(self) -> Joins:
        """The to-one relations read in this object's statement (see ``joinable``), kept."""
        if self.joins_kept is None:
            self.joins_kept = joinable([self])
        return self.joins_kept

    @property
    def columns_only(self) -> bool:
        """Whether the objects need no relation of their own."""
        return all(isinstance(item, (Scalar, GlobalId, Constant)) for item in self.fields)

    def columns(self) -> set[str]:
        needed = {"id"}
        for item in self.fields:
            if isinstance(item, Scalar):
                needed.add(item.column)
            elif isinstance(item, Relation):
                needed.add(item.kind.parent_column)
        return needed


@dataclass(frozen=True, slots=True)
class EdgePlan:
    """``edges { cursor node {...} __typename }``: (key, what) in response order."""

    items: list[tuple[str, str, Any]]


@dataclass(slots=True)
class ConnectionPlan:
    """The response shape of a connection: (key, kind, detail) in response order.

    Kinds: ``nodes`` (an ``ObjectPlan``), ``edges`` (an ``EdgePlan``),
    ``pageInfo`` (``[(key, attribute)]``), ``totalCount``, ``typename``.
    """

    model: type[Any]
    outputs: list[tuple[str, str, Any]] = field(default_factory=list)
    joins_kept: Joins | None = field(default=None, repr=False)

    def joins(self) -> Joins:
        """The to-one relations read in the rows' statement (see ``joinable``), kept."""
        if self.joins_kept is None:
            self.joins_kept = joinable(self.object_plans())
        return self.joins_kept

    def object_plans(self) -> list[ObjectPlan]:
        plans: list[ObjectPlan] = []
        for _key, kind, detail in self.outputs:
            if kind == "nodes":
                plans.append(detail)
            elif kind == "edges":
                plans.extend(plan for _k, what, plan in detail.items if what == "node")
        return plans

    def columns(self) -> set[str]:
        needed = {"id"}
        for plan in self.object_plans():
            needed |= plan.columns()
        return needed

    @property
    def wants_total(self) -> bool:
        return any(kind == "totalCount" for _key, kind, _detail in self.outputs)

    @property
    def wants_cursors(self) -> bool:
        """Whether pageInfo's start or end cursor is selected (edge cursors are separate)."""
        return any(
            attribute in ("start_cursor", "end_cursor")
            for _key, kind, detail in self.outputs
            if kind == "pageInfo"
            for _info_key, attribute in detail
        )


@dataclass(frozen=True, slots=True)
class RootField:
    """A root field: its kind reads it (``None`` for ``__typename``)."""

    key: str
    kind: FieldKind | None
    definition: GraphQLField | None
    node: FieldNode | None
    plan: ObjectPlan | ConnectionPlan | None


@dataclass(frozen=True, slots=True)
class OperationPlan:
    fields: list[RootField]
    root_type: str = "Query"
    #: Whether running the plan takes a single statement (see ``reads_once``).
    single_read: bool = False

    @property
    def writes(self) -> bool:
        return self.root_type == "Mutation"


#: To-one relations read in their rows' statement: foreign key -> (its kind, target columns).
Joins = dict[str, tuple[FieldKind, frozenset[str]]]


def joinable(plans: Sequence[ObjectPlan]) -> Joins:
    """The to-one relations of these objects worth reading in their rows' statement.

    A relation whose target shapes only its own columns is one ``LEFT JOIN``
    away: joined, it costs no statement (``posts { author { name } }`` is one
    statement, not two). Targets with relations of their own keep their
    batched read. Fields on one foreign key (aliases) share one join.
    """
    joins: dict[str, tuple[FieldKind, set[str]]] = {}
    for plan in plans:
        for item in plan.fields:
            if joined(item):
                _kind, columns = joins.setdefault(item.kind.parent_column, (item.kind, set()))
                columns.update(item.target.columns())
    return {key: (kind, frozenset(columns)) for key, (kind, columns) in joins.items()}


def joined(item: ObjectField) -> TypeGuard[Relation]:
    """Whether a field is a relation read in its rows' own statement (see ``joinable``)."""
    return (
        isinstance(item, Relation)
        and item.kind.joins_into_rows
        and isinstance(item.target, ObjectPlan)
        and item.target.columns_only
    )


def reads_once(fields: Sequence[RootField]) -> bool:
    """Whether these root fields run at most one statement: one field, its to-ones joined, no
    count (or only ``__typename``)."""
    roots = [field.plan for field in fields if field.kind is not None]
    if not roots:
        return True
    if len(roots) != 1:
        return False
    [root] = roots
    if isinstance(root, ConnectionPlan):
        if root.wants_total:
            return False
        objects = root.object_plans()
    else:
        assert root is not None
        objects = [root]
    return all(
        not isinstance(item, Relation) or joined(item)
        for object_plan in objects
        for item in object_plan.fields
    )


def plan_operation(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
) -> OperationPlan:
    if has_directives(operation, fragments):
        raise Unsupported("directives")  # what they keep depends on the variables
    planner = Planner(schema, fragments)
    if operation.operation is OperationType.QUERY and schema.query_type is not None:
        return planner.root(schema.query_type, operation.selection_set)
    if operation.operation is OperationType.MUTATION and schema.mutation_type is not None:
        return planner.mutation(schema.mutation_type, operation.selection_set)
    raise Unsupported("subscriptions")


_PAGE_INFO = {
    "hasNextPage": "has_next_page",
    "hasPreviousPage": "has_previous_page",
    "startCursor": "start_cursor",
    "endCursor": "end_cursor",
}


class Planner:
    """Plans one document: each field's kind plans its part (``FieldKind.plan_*``)."""

    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode]):
        self.schema = schema
        self.fragments = fragments

    def collect(
        self, type_: GraphQLObjectType, selection_sets: Iterable[SelectionSetNode | None]
    ) -> dict[str, list[FieldNode]]:
        """Fields by response key, as execution merges them (first occurrence orders).

        A fragment is walked once per collection however often it is spread
        (``schema.selections.Walk``): a fragment spreading another twice,
        twenty levels deep, is collected in linear time, not in 2**20 visits.
        """
        walk = _Fields(self.fragments.get, type_)
        return walk.fold([walk.selection(selection_set, None) for selection_set in selection_sets])

    def root(self, type_: GraphQLObjectType, selection_set: SelectionSetNode) -> OperationPlan:
        """A query of the kinds that read at the root (lookups and listings)."""
        fields = self._roots(type_, selection_set)
        return OperationPlan(fields, single_read=reads_once(fields))

    def mutation(self, type_: GraphQLObjectType, selection_set: SelectionSetNode) -> OperationPlan:
        """A mutation of one field whose kind writes in one statement, else the resolvers'."""
        fields = self._roots(type_, selection_set, writes=True)
        if sum(field.kind is not None for field in fields) != 1:
            raise Unsupported("several mutation fields")  # each its own transaction, in turn
        return OperationPlan(fields, "Mutation")

    def _roots(
        self, type_: GraphQLObjectType, selection_set: SelectionSetNode, *, writes: bool = False
    ) -> list[RootField]:
        fields: list[RootField] = []
        for key, nodes in self.collect(type_, [selection_set]).items():
            name = nodes[0].name.value
            if name == "__typename":
                fields.append(RootField(key, None, None, None, None))
                continue
            definition = type_.fields.get(name)
            kind = kind_of(definition)
            if definition is None or kind is None or kind.writes != writes:
                raise Unsupported(f"root field {name}")
            plan = kind.plan_root(self, object_type(definition), nodes)
            fields.append(RootField(key, kind, definition, nodes[0], plan))
        return fields

    def object(
        self, type_: GraphQLObjectType, model: type[Any], nodes: list[FieldNode]
    ) -> ObjectPlan:
        plan = ObjectPlan(model)
        columns = sa_inspect(model).columns
        for key, field_nodes in self.collect(type_, [n.selection_set for n in nodes]).items():
            name = field_nodes[0].name.value
            if name == "__typename":
                plan.fields.append(Constant(key, type_.name))
                continue
            definition = type_.fields[name]
            kind = kind_of(definition)
            if kind is None:
                plan.fields.append(self._scalar(key, definition, columns))
            else:
                plan.fields.append(kind.plan_field(self, key, definition, field_nodes))
        return plan

    def _scalar(self, key: str, definition: GraphQLField, columns: Any) -> Scalar:
        strawberry_field = definition.extensions.get(STRAWBERRY_DEFINITION)
        if strawberry_field is None or strawberry_field.base_resolver is not None:
            raise Unsupported("a field with a resolver of its own")
        column = strawberry_field.python_name
        named = _unwrap(definition.type)
        if column not in columns or not isinstance(named, GraphQLScalarType):
            raise Unsupported(f"field {column}")
        serialize = serialize_datetime if named.name == "DateTime" else None
        if named.name not in ("String", "Boolean", "Int", "Float", "DateTime"):
            raise Unsupported(f"scalar {named.name}")
        return Scalar(key, column, serialize)

    def connection(
        self, type_: GraphQLObjectType, model: type[Any], nodes: list[FieldNode]
    ) -> ConnectionPlan:
        plan = ConnectionPlan(model)
        for key, field_nodes in self.collect(type_, [n.selection_set for n in nodes]).items():
            name = field_nodes[0].name.value
            if name == "__typename":
                plan.outputs.append((key, "typename", type_.name))
            elif name == "nodes":
                target = object_type(type_.fields["nodes"])
                plan.outputs.append((key, "nodes", self.object(target, model, field_nodes)))
            elif name == "edges":
                edge_type = object_type(type_.fields["edges"])
                plan.outputs.append((key, "edges", self._edges(edge_type, model, field_nodes)))
            elif name == "pageInfo":
                page_info_type = object_type(type_.fields["pageInfo"])
                items: list[tuple[str, str]] = []
                selections = [n.selection_set for n in field_nodes]
                for info_key, info_nodes in self.collect(page_info_type, selections).items():
                    info_name = info_nodes[0].name.value
                    items.append(
                        (
                            info_key,
                            "__typename" if info_name == "__typename" else _PAGE_INFO[info_name],
                        )
                    )
                plan.outputs.append((key, "pageInfo", items))
            elif name == "totalCount":
                plan.outputs.append((key, "totalCount", None))
            else:
                raise Unsupported(f"connection field {name}")
        return plan

    def _edges(
        self, edge_type: GraphQLObjectType, model: type[Any], nodes: list[FieldNode]
    ) -> EdgePlan:
        items: list[tuple[str, str, Any]] = []
        for key, field_nodes in self.collect(edge_type, [n.selection_set for n in nodes]).items():
            name = field_nodes[0].name.value
            if name == "__typename":
                items.append((key, "typename", edge_type.name))
            elif name == "cursor":
                items.append((key, "cursor", None))
            elif name == "node":
                target = object_type(edge_type.fields["node"])
                items.append((key, "node", self.object(target, model, field_nodes)))
            else:
                raise Unsupported(f"edge field {name}")
        return EdgePlan(items)


class _Fields(Walk[None, dict[str, list[FieldNode]]]):
    """The fields a selection merges for objects of one type, by response key."""

    def __init__(self, fragment: FragmentLookup, type_: GraphQLObjectType) -> None:
        self.type_names = {type_.name, *(interface.name for interface in type_.interfaces)}
        super().__init__(fragment)

    def field(self, node: FieldNode, context: None) -> dict[str, list[FieldNode]]:
        return {node.alias.value if node.alias else node.name.value: [node]}

    def fold(self, values: list[dict[str, list[FieldNode]]]) -> dict[str, list[FieldNode]]:
        # Each node once: a fragment's fields come back at each of its spreads.
        merged: dict[str, list[FieldNode]] = {}
        seen: set[int] = set()
        for value in values:
            for key, nodes in value.items():
                kept = merged.setdefault(key, [])
                for node in nodes:
                    if id(node) not in seen:
                        seen.add(id(node))
                        kept.append(node)
        return merged

    def applies(self, condition: NamedTypeNode | None, context: None) -> bool:
        return condition is None or condition.name.value in self.type_names


def has_directives(
    operation: OperationDefinitionNode, fragments: dict[str, FragmentDefinitionNode]
) -> bool:
    """Whether the operation or a fragment uses a directive (``@skip``, ``@include``...)."""
    found = False

    class Find(Visitor):
        def enter_directive(self, *_: Any) -> Any:
            nonlocal found
            found = True
            return BREAK

    for node in (operation, *fragments.values()):
        visit(node, Find())
    return found


def lookup_field(schema: GraphQLSchema, model: type[Any]) -> str:
    """The name of the root field that looks a row of ``model`` up by its ID."""
    assert schema.query_type is not None
    for name, definition in schema.query_type.fields.items():
        kind = kind_of(definition)
        if kind is not None and kind.looks_up and kind.model is model:
            return str(name)
    raise Unsupported(f"no lookup of {model.__name__}")


def _unwrap(type_: Any) -> Any:
    while isinstance(type_, (GraphQLNonNull, GraphQLList)):
        type_ = type_.of_type
    return type_


def object_type(definition: GraphQLField) -> GraphQLObjectType:
    """The object type a field returns (through lists and non-nulls)."""
    named = _unwrap(definition.type)
    if not isinstance(named, GraphQLObjectType):
        raise Unsupported("an abstract type")
    return named
