"""A node type's inputs derived from its model: order, filter, relation filter, create, update.

A type module names which columns are orderable and filterable (``order``,
``where``) and which are writable, with their rules (an ``InputSpec``); the
GraphQL inputs are made from that and the model's columns, so they cannot
disagree with the model or the rules. Descriptions follow the project's
wording and any field's may be given instead. Types of other node types are
referred to by model (``related``), resolved when the schema is built, so
modules that refer to each other need no ``strawberry.lazy`` imports.
"""

from __future__ import annotations

import enum
import inspect
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import strawberry
from sqlalchemy import TypeDecorator
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import ColumnProperty, RelationshipProperty
from strawberry.types.field import StrawberryField
from strawberry.types.lazy_type import LazyType

from fast_query import SoftDeletesMixin, TimestampMixin
from schema.filters import BooleanFilter, DateTimeFilter, IDFilter, StringFilter, where_field
from schema.kinds.columns import ViewerCan
from schema.node import node_id
from schema.ordering import OrderDirection, by, sort_direction, sort_key
from schema.resource import RegistrationError, Resource, by_model
from schema.validation import InputSpec, Reference, change, given

if TYPE_CHECKING:
    from schema.authorization import CreateRule
    from schema.kinds.create import Derived as DerivedField

T = TypeVar("T", bound=type)

#: The types a connection over a model takes: its node type, filter and order.
READS = ("Node", "Filter", "Order")
#: The types made for each model, by kind: ``Node``, ``Filter``, ``RelationFilter``, ``Order``.
_TYPES: dict[tuple[type[Any], str], Any] = {}

#: How the descriptions name a column (``Conditions on the ID.``); others: ``the <name>``.
_PHRASES = {
    "id": "the ID",
    "body": "the text",
    "created_at": "when it was created",
    "updated_at": "when it last changed",
    "deleted_at": "when it was soft-deleted",
}
#: The columns a model's mixins give every node type of it: (mixin, name, type, description).
_MIXIN_COLUMNS: tuple[tuple[type[Any], str, Any, str], ...] = (
    (TimestampMixin, "created_at", datetime, "When it was created (UTC)."),
    (TimestampMixin, "updated_at", datetime, "When it last changed (UTC)."),
    (SoftDeletesMixin, "deleted_at", datetime | None, "Set when soft-deleted."),
)
#: What a class's namespace holds of the class itself, not of its fields.
_CLASS_ITSELF = frozenset(
    ("__module__", "__qualname__", "__doc__", "__dict__", "__weakref__", "__annotations__")
    + ("__annotate__", "__annotate_func__", "__annotations_cache__", "__firstlineno__")
    + ("__static_attributes__",)
)
_VIEWER_CAN = (
    ("update", "Whether the viewer may change this row."),
    ("delete", "Whether the viewer may delete this row."),
)
_ORDER_BY_ID = "The ID: the order rows were created in."
_SCALAR_FILTERS: dict[type[Any], type[Any]] = {
    str: StringFilter,
    bool: BooleanFilter,
    datetime: DateTimeFilter,
}


@dataclass(frozen=True)
class ModelRef(LazyType[Any, Any]):
    """A type of another node type (``PostFilter``), found by its model when the schema is built:
    the module that makes it may import the one referring to it."""

    model: type[Any] = object
    kind: str = "Node"
    origin: str = ""  # what refers to it (``User.posts``), for the error

    def resolve_type(self) -> type[Any]:
        found = _TYPES.get((self.model, self.kind))
        if found is None:
            raise RegistrationError(
                f"the schema cannot start:\n  {self.origin or self.type_name} leads to model "
                f"{self.model.__name__}, which has no {self.kind} type: register it and declare "
                f"its types with {__name__} (node, order, where)"
            )
        return found  # type: ignore[no-any-return]


def related(model: type[Any], kind: str = "Node", origin: str = "") -> Any:
    """The ``kind`` type of ``model``'s node type, as an annotation resolved at schema build."""
    name = model.__name__ if kind == "Node" else f"{model.__name__}{kind}"
    return ModelRef(name, __name__, None, model, kind, origin)


def _record(model: type[Any], kind: str, made: Any) -> Any:
    _TYPES[(model, kind)] = made
    return made


def words(resource: Resource[Any]) -> tuple[str, str]:
    """``("blog post", "blog posts")``: the type's name in descriptions (its table's, plural)."""
    word = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", resource.type_name).lower()
    table = getattr(resource.model, "__tablename__", f"{word}s")
    return word, table.replace("_", " ")


def article(word: str) -> str:
    """``an image``, ``a user``: by the first letter (override the description where wrong)."""
    return f"an {word}" if word[:1] in "aeio" else f"a {word}"


def node(resource: Resource[Any], description: str) -> Callable[[T], T]:
    """``@node(POST, "...")``: the node type of ``resource``; its rows are the model's.

    The class declares the model's own columns (annotated) and relations; the
    fields every node type has follow from the model and the repository, in
    this published order: ``id``, the declared columns, the mixins' columns
    (``createdAt``, ``updatedAt``, ``deletedAt``), ``viewerCanUpdate`` and
    ``viewerCanDelete`` when the repository has a write rule, then the declared
    relations. One of these the class declares itself is published as declared,
    where declared. Records the class, so relations to the model
    (``fields.children``) find it.
    """

    def decorate(cls: T) -> T:
        model = resource.model
        declared = inspect.get_annotations(cls)
        own = {k: v for k, v in vars(cls).items() if k not in _CLASS_ITSELF}
        relations = {
            k: v for k, v in own.items() if k not in declared and isinstance(v, StrawberryField)
        }
        fields: dict[str, Any] = {"id": node_id(resource.type_name)}
        fields.update({k: v for k, v in own.items() if k not in relations})
        annotations: dict[str, Any] = {"id": strawberry.ID, **declared}
        mine = own.keys() | declared.keys()
        for mixin, name, annotation, about in _MIXIN_COLUMNS:
            if issubclass(model, mixin) and name not in mine:
                annotations[name] = annotation
                fields[name] = strawberry.field(description=about)
        repository = resource.repository
        if repository.can_update is not None or repository.can_delete is not None:
            for action, about in _VIEWER_CAN:
                if f"viewer_can_{action}" not in mine:
                    fields[f"viewer_can_{action}"] = ViewerCan(resource, action).field(about)
        fields.update(relations)

        def is_type_of(kind: Any, obj: Any, _info: Any) -> bool:
            return isinstance(obj, (kind, model))

        fields["is_type_of"] = classmethod(is_type_of)
        # Strawberry publishes a class's fields in the order of its namespace: set them
        # again, in the order above, on the class itself (its methods keep ``super()``).
        for name in own:
            delattr(cls, name)
        cls.__annotations__ = annotations
        for name, value in fields.items():
            setattr(cls, name, value)
        return _record(model, "Node", strawberry.type(cls, description=description))  # type: ignore[no-any-return]

    return decorate


def order(resource: Resource[Any], *names: str, **descriptions: str) -> Any:
    """``XOrder`` (and its ``XOrderField`` enum) over the columns ``names``, in that order."""
    plural = words(resource)[1]
    values = {}
    for name in names:
        phrase = _phrase(resource, name)
        default = _ORDER_BY_ID if name == "id" else f"{phrase[:1].upper()}{phrase[1:]}."
        values[name.upper()] = by(name, descriptions.get(name, default))
    made_enum: Any = enum.Enum
    field_enum = strawberry.enum(
        made_enum(f"{resource.type_name}OrderField", values),
        description=f"Fields {plural} can be ordered by.",
    )
    made = _input(
        f"{resource.type_name}Order",
        f"One sort key for {plural}.",
        {"field": (field_enum, sort_key()), "direction": (OrderDirection, sort_direction())},
    )
    return _record(resource.model, "Order", strawberry.input(made, description=made.__doc__))


def where(
    resource: Resource[Any], *names: str, logical: bool = True, **descriptions: str
) -> tuple[Any, Any]:
    """``XFilter`` over the columns and relations ``names`` (with ``and``/``or``/``not`` unless
    ``logical`` is false), and ``XRelationFilter`` (``some``/``none``) for lists of the type.

    A column takes the scalar filter of its type (``IDFilter`` for the key); a
    to-one relation the target's ``XFilter``, a to-many one its ``XRelationFilter``.
    """
    word, plural = words(resource)
    name = resource.type_name
    fields: dict[str, tuple[Any, Any]] = {}
    for column in names:
        annotation, default = _filter_of(resource, column)
        text = descriptions.get(column, default)
        fields[column] = (annotation | None, where_field(text))
    made = _input(f"{name}Filter", f"Conditions on {plural}; all given ones must hold.", fields)
    if logical:  # after the class is made: they take the class itself
        many: Any = list[made]  # type: ignore[valid-type]
        logical_fields = {
            "and_": (many, "Every one of these holds.", "and"),
            "or_": (many, "At least one of these holds.", "or"),
            "not_": (made, "This does not hold.", "not"),
        }
        for python_name, (annotation, text, graphql_name) in logical_fields.items():
            made.__annotations__[python_name] = annotation | None
            setattr(made, python_name, where_field(text, graphql_name))
    filter_type = strawberry.input(made, description=made.__doc__)
    live = "live " if issubclass(resource.model, SoftDeletesMixin) else ""
    relation = _input(
        f"{name}RelationFilter",
        f"Conditions on a list of {live}{plural} (EXISTS / NOT EXISTS).",
        {
            "some": (filter_type | None, _optional(f"At least one {word} matches.")),
            "none": (filter_type | None, _optional(f"No {word} matches.")),
        },
    )
    relation_type = strawberry.input(relation, description=relation.__doc__)
    _record(resource.model, "Filter", filter_type)
    return filter_type, _record(resource.model, "RelationFilter", relation_type)


def create_input(
    spec: InputSpec,
    rule: CreateRule | None = None,
    derived: Sequence[DerivedField] = (),
    description: str | None = None,
) -> Any:
    """``CreateXInput``: a field per rule of ``spec``, in its order, described by the rule.

    A column with a default may be left out (``published: Boolean = false``),
    so may ``rule``'s owner (left out, the viewer) and the derived fields
    (``password``), which describe themselves.
    """
    resource = by_model(spec.model)
    word, plural = words(resource)
    owner = rule.owner if rule is not None else None
    fields: dict[str, tuple[Any, Any]] = {}
    for name, value_rule in spec.rules.items():
        python_type = _input_type(spec, name, value_rule)
        text = value_rule.describe(plural)
        column_default = _column_default(spec.model, spec.column(name))
        if name == owner:
            who = name.removesuffix("_id").replace("_", " ")
            fields[name] = (python_type | None, _optional(f"The {who}; left out, the viewer."))
        elif column_default is not None:
            shown = str(column_default).lower()
            text = f"{text.removesuffix('.')}; {shown} when left out."
            fields[name] = (
                python_type | None,
                strawberry.field(default=column_default, description=text),
            )
        else:
            fields[name] = (python_type, given(text))
    for field in derived:
        fields[field.name] = (str | None, _optional(field.description))
    made = _input(f"Create{resource.type_name}Input", description or f"A new {word}.", fields)
    return strawberry.input(made, description=made.__doc__)


def update_input(spec: InputSpec, description: str | None = None, *, required: bool = False) -> Any:
    """``UpdateXInput``: ``spec``'s fields but its references (a row keeps its parents), each
    optional (left out: unchanged) unless ``required``."""
    resource = by_model(spec.model)
    word, plural = words(resource)
    fields: dict[str, tuple[Any, Any]] = {}
    for name, value_rule in spec.rules.items():
        if isinstance(value_rule, Reference):
            continue
        python_type = _input_type(spec, name, value_rule)
        text = value_rule.describe(plural)
        if required:
            fields[name] = (python_type, given(text))
        else:
            fields[name] = (python_type | None, change(text))
    default = f"Changes to {article(word)}; fields left out stay as they are."
    made = _input(f"Update{resource.type_name}Input", description or default, fields)
    return strawberry.input(made, description=made.__doc__)


def _input(name: str, description: str, fields: Mapping[str, tuple[Any, Any]]) -> type[Any]:
    """A class of ``fields`` (annotation, ``strawberry.field``), ready for ``strawberry.input``."""
    namespace: dict[str, Any] = {name: field for name, (_type, field) in fields.items()}
    namespace["__annotations__"] = {name: annotation for name, (annotation, _f) in fields.items()}
    namespace["__doc__"] = description
    return type(name, (), namespace)


def _optional(description: str) -> Any:
    return strawberry.field(default=strawberry.UNSET, description=description)


def _property(resource: Resource[Any], name: str) -> Any:
    found = sa_inspect(resource.model).attrs.get(name)
    if found is None:
        raise RegistrationError(f"{resource.type_name}: model has no column or relation {name!r}")
    return found


def _phrase(resource: Resource[Any], name: str) -> str:
    prop = _property(resource, name)
    if name in _PHRASES:
        return _PHRASES[name]
    if isinstance(prop, ColumnProperty) and _python_type(prop) is bool:
        return f"whether it is {name.replace('_', ' ')}"
    return f"the {name.replace('_', ' ')}"


def _python_type(prop: ColumnProperty[Any]) -> type[Any]:
    return _column_type(prop.columns[0])


def _column_type(column: Any) -> type[Any]:
    """A column's Python type, a ``TypeDecorator``'s (``UTCDateTime``) that of what it wraps."""
    sql_type = column.type
    while isinstance(sql_type, TypeDecorator):
        sql_type = sql_type.impl_instance
    return sql_type.python_type  # type: ignore[no-any-return]


def _filter_of(resource: Resource[Any], name: str) -> tuple[Any, str]:
    """The filter input of one field of ``XFilter``, and its description."""
    prop = _property(resource, name)
    if isinstance(prop, RelationshipProperty):
        target = prop.mapper.class_
        origin = f"{resource.type_name}Filter.{name}"
        if prop.uselist:
            live = "live " if issubclass(target, SoftDeletesMixin) else ""
            text = f"Conditions on its {live}{name}."
            return related(target, "RelationFilter", origin), text
        either = " (soft-deleted or not)" if issubclass(target, SoftDeletesMixin) else ""
        return related(target, "Filter", origin), f"Conditions on its {name}{either}."
    text = f"Conditions on {_phrase(resource, name)}."
    if prop.columns[0].primary_key:
        return IDFilter, text
    python_type = _python_type(prop)
    if python_type not in _SCALAR_FILTERS:
        raise RegistrationError(
            f"{resource.type_name}.{name}: no filter for {python_type.__name__} columns; "
            "declare the filter by hand"
        )
    return _SCALAR_FILTERS[python_type], text


def _input_type(spec: InputSpec, name: str, rule: Any) -> Any:
    """A written value's GraphQL type: an ID for a reference, else the column's type."""
    if isinstance(rule, Reference):
        return strawberry.ID
    column = sa_inspect(spec.model).columns.get(spec.column(name))
    return str if column is None else _column_type(column)


def _column_default(model: type[Any], column_name: str) -> Any:
    """The model's scalar default of a column (``published``: ``False``), else ``None``."""
    column = sa_inspect(model).columns.get(column_name)
    default = None if column is None else column.default
    return default.arg if default is not None and default.is_scalar else None
