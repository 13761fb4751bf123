"""What every field kind shares: its Strawberry field, its place in the fast path, its rows."""

from __future__ import annotations

import enum
import inspect
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from graphql import FieldNode, GraphQLField, GraphQLObjectType
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import QueryableAttribute, RelationshipProperty

from fast_query import RecordNotFound, Trashed
from schema.context import Info
from schema.ids import parse_global_id
from schema.resource import Resource

if TYPE_CHECKING:
    from schema.fastpath.plan import ObjectField, Planner, Relation, RootField
    from schema.fastpath.run import Row, Runner

#: The key of a generic field's kind in its Strawberry field's metadata.
FAST_PATH = "fast_path"
STRAWBERRY_DEFINITION = "strawberry-definition"


class Unsupported(Exception):
    """The document needs something the fast path does not plan; the resolvers answer it."""


class FieldKind:
    """A generic field: what it reads, for the resolvers and for the fast path.

    The defaults say "not on the fast path": a kind plans (and then runs)
    only where it overrides ``plan_root`` or ``plan_field``.
    """

    model: type[Any]
    #: The soft-deleted rows this field's reads include (a lookup's argument may change it).
    trashed: Trashed = Trashed.WITHOUT

    def plan_root(self, planner: Planner, type_: GraphQLObjectType, nodes: list[FieldNode]) -> Any:
        """The plan of this field at the root of an operation (see ``fastpath.plan``)."""
        raise Unsupported(f"{type(self).__name__} at the root")

    def plan_field(
        self, planner: Planner, key: str, definition: GraphQLField, nodes: list[FieldNode]
    ) -> ObjectField:
        """The plan of this field on an object."""
        raise Unsupported(f"{type(self).__name__} on an object")

    async def read_root(self, runner: Runner, field: RootField) -> Any:
        """The fast path's answer for this root field."""
        raise NotImplementedError

    async def read_related(
        self, runner: Runner, item: Relation, rows: Sequence[Row], columns: Sequence[str]
    ) -> dict[Any, Any]:
        """The fast path's values of this field for ``rows``, by the key they hang on."""
        raise NotImplementedError

    #: The column of the parent's row this field's value hangs on (relations only).
    parent_column: str = "id"
    #: Whether the fast path may read this relation in its rows' own statement (a join).
    joins_into_rows: bool = False
    #: Whether the field writes (a mutation); the fast path plans at most one.
    writes: bool = False
    #: Whether the field looks a row of ``model`` up by its global ID.
    looks_up: bool = False


def kind_of(definition: GraphQLField | None) -> FieldKind | None:
    """The kind of a schema field, or ``None`` for a plain one (a column)."""
    if definition is None:
        return None
    strawberry_field = definition.extensions.get(STRAWBERRY_DEFINITION)
    if strawberry_field is None:
        return None
    kind = (strawberry_field.metadata or {}).get(FAST_PATH)
    return kind if isinstance(kind, FieldKind) else None


def relation_trashed(*, to_many: bool) -> Trashed:
    """Which soft-deleted rows a relation reaches: the one place this rule is written.

    A to-one relation resolves to its row even when that row is soft-deleted
    (``Post.author``), for every viewer (``Trashed.RELATED``: the rule on who
    may ask for trashed rows does not apply), so it, its join and a filter on
    it see trashed rows; a
    to-many relation (``User.posts``, ``posts: {some: ...}``) sees live rows
    only, unless its own ``trashed`` argument says otherwise.
    """
    return Trashed.WITHOUT if to_many else Trashed.RELATED


def relationship(relation: QueryableAttribute[Any]) -> RelationshipProperty[Any]:
    prop = relation.property
    assert isinstance(prop, RelationshipProperty)
    return prop


def target_of(relation: QueryableAttribute[Any]) -> type[Any]:
    """The model a relationship leads to."""
    return relationship(relation).mapper.class_


def join_attribute(relation: QueryableAttribute[Any]) -> str:
    """The parent attribute a to-many relationship joins on (``User.posts`` -> ``id``)."""
    prop = relationship(relation)
    (local, _remote), *_ = prop.synchronize_pairs
    mapper = sa_inspect(prop.parent.class_)
    return str(mapper.get_property_by_column(local).key)


def lookup_key(resource: Resource[Any], value: str, argument: str = "id") -> int:
    """The key of a typed lookup's ID; an ID of another type is simply not found."""
    global_id = parse_global_id(value, argument)
    if global_id.type_name != resource.type_name:
        raise RecordNotFound(resource.type_name, value)
    return global_id.key


# -- Strawberry fields -------------------------------------------------------------


@strawberry.enum(name="Trashed", description="Which soft-deleted rows to include.")
class TrashedFilter(enum.Enum):
    WITHOUT = strawberry.enum_value("without", description="Live rows only (the default).")
    WITH = strawberry.enum_value(
        "with", description="Live and soft-deleted rows (the ones you may see: section 8)."
    )
    ONLY = strawberry.enum_value("only", description="Soft-deleted rows only.")


def trashed_mode(value: Any) -> Trashed:
    """The ``trashed`` argument's mode (``WITHOUT`` when left out)."""
    return Trashed(value.value) if isinstance(value, TrashedFilter) else Trashed.WITHOUT


_P = inspect.Parameter
ROOT = _P("root", _P.POSITIONAL_OR_KEYWORD)
INFO = _P("info", _P.POSITIONAL_OR_KEYWORD, annotation=Info)
#: The default of an argument that has none (a required argument).
REQUIRED: Any = _P.empty


def argument(name: str, annotation: Any, description: str, default: Any = strawberry.UNSET) -> _P:
    return _P(
        name,
        _P.KEYWORD_ONLY,
        annotation=Annotated[annotation, strawberry.argument(description=description)],
        default=default,
    )


def trashed_argument() -> _P:
    return argument(
        "trashed",
        TrashedFilter | None,
        "Soft-deleted rows: hidden (WITHOUT), included (WITH) or only them (ONLY).",
        TrashedFilter.WITHOUT,
    )


def make_field(
    resolve: Callable[..., Any],
    parameters: list[_P],
    returns: Any,
    description: str,
    kind: FieldKind | None = None,
) -> Any:
    """A Strawberry field whose GraphQL arguments are ``parameters``, carrying its kind."""
    resolve.__signature__ = inspect.Signature(parameters, return_annotation=returns)  # type: ignore[attr-defined]
    metadata = {FAST_PATH: kind} if kind is not None else None
    return strawberry.field(resolver=resolve, description=description, metadata=metadata)


__all__ = [
    "FAST_PATH",
    "INFO",
    "REQUIRED",
    "ROOT",
    "FieldKind",
    "TrashedFilter",
    "Unsupported",
    "argument",
    "kind_of",
    "lookup_key",
    "make_field",
    "join_attribute",
    "relation_trashed",
    "target_of",
    "trashed_argument",
    "trashed_mode",
]
