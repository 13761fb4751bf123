"""The start-up check of the node types: every one the schema serves is registered, and so is
every model its relations and relation filters reach.

A registration forgotten would otherwise surface only when a request
reaches the type: an ``INTERNAL_SERVER_ERROR`` with the cause in the log.
``build_schema`` runs ``check_registrations``, so the server does not start
and the message names the type, field or filter to mend.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
)
from sqlalchemy.orm import RelationshipProperty
from strawberry.utils.str_converters import to_camel_case

from schema.kinds.base import STRAWBERRY_DEFINITION, kind_of
from schema.resource import RegistrationError, by_name, type_names

_LOGICAL = ("and_", "or_", "not_")


def check_registrations(schema: GraphQLSchema) -> None:
    """Raise ``RegistrationError`` listing every node type, field and filter the schema cannot
    serve: a ``Node`` type with no registration, a field or a relation filter whose model has
    no registered node type, a filter field that names nothing on its model."""
    problems: list[str] = []
    node = schema.type_map.get("Node")
    for name, type_ in schema.type_map.items():
        if name.startswith("__") or not isinstance(type_, GraphQLObjectType):
            continue
        is_node = isinstance(node, GraphQLInterfaceType) and node in type_.interfaces
        if is_node and by_name(name) is None:
            problems.append(
                f"type {name} has no repository: register it in its module "
                f'(register("{name}", models.{name}, {name}Repository))'
            )
        for field_name, field in type_.fields.items():
            model = getattr(kind_of(field), "model", None)
            if not isinstance(model, type) or model is object:
                continue
            if model not in type_names():
                problems.append(
                    f"{name}.{field_name} leads to model {model.__name__}, which has no "
                    "registered node type: register one (schema.resource.register) or drop "
                    "the field"
                )
                continue
            where = field.args.get("where")
            if where is not None:
                _check_filter(model, get_named_type(where.type), problems, set())
    if problems:
        raise RegistrationError("the schema cannot start:\n  " + "\n  ".join(problems))


def _check_filter(model: type[Any], filter_type: Any, problems: list[str], seen: set[Any]) -> None:
    """Every field of a filter input names a column or relation of ``model`` whose target model
    is registered; nested filters are checked against the models they reach."""
    if not isinstance(filter_type, GraphQLInputObjectType) or (model, filter_type.name) in seen:
        return
    seen.add((model, filter_type.name))
    definition = filter_type.extensions.get(STRAWBERRY_DEFINITION)
    for field in getattr(definition, "fields", ()):
        name = field.python_name
        if name in _LOGICAL:
            continue
        graphql_name = field.graphql_name or to_camel_case(name)
        inner = get_named_type(filter_type.fields[graphql_name].type)
        attribute = getattr(model, name, None)
        prop = getattr(attribute, "property", None)
        if prop is None:
            problems.append(
                f"{filter_type.name}.{graphql_name}: model {model.__name__} has no column "
                f"or relation {name!r}"
            )
        elif isinstance(prop, RelationshipProperty):
            target = prop.mapper.class_
            if target not in type_names():
                problems.append(
                    f"{filter_type.name}.{graphql_name} filters on {model.__name__}.{name}, "
                    f"whose model {target.__name__} has no registered node type"
                )
            elif prop.uselist:
                quantifiers = getattr(inner, "fields", {})
                if not {"some", "none"} <= set(quantifiers):
                    problems.append(
                        f"{filter_type.name}.{graphql_name}: {model.__name__}.{name} is a list: "
                        "its filter takes some/none (a relation filter, like PostRelationFilter)"
                    )
                for quantifier in ("some", "none"):
                    if quantifier in quantifiers:
                        each = get_named_type(quantifiers[quantifier].type)
                        _check_filter(target, each, problems, seen)
            else:
                _check_filter(target, inner, problems, seen)
