"""Every type, field, argument, input field and enum value of the published schema says what it is.

GraphiQL's Docs pane and the code generators show these descriptions; one
left out is a question a client developer has to ask (is ``contains``
case-sensitive? what does ``published`` default to?).
"""

from __future__ import annotations

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
)

from schema import build_schema


def undescribed(schema: GraphQLSchema) -> list[str]:
    """What has no description, as ``Type``, ``Type.field``, ``Type.field(arg)``, ``Enum.VALUE``."""
    missing = []
    for name, type_ in schema.type_map.items():
        if name.startswith("__"):
            continue
        if not type_.description and name not in ("String", "Boolean", "Int", "Float", "ID"):
            missing.append(name)
        if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in type_.fields.items():
                if not field.description:
                    missing.append(f"{name}.{field_name}")
                missing += [
                    f"{name}.{field_name}({arg_name})"
                    for arg_name, arg in field.args.items()
                    if not arg.description
                ]
        elif isinstance(type_, GraphQLInputObjectType):
            missing += [
                f"{name}.{field_name}"
                for field_name, field in type_.fields.items()
                if not field.description
            ]
        elif isinstance(type_, GraphQLEnumType):
            missing += [
                f"{name}.{value_name}"
                for value_name, value in type_.values.items()
                if not value.description
            ]
    return missing


def test_everything_in_the_schema_has_a_description() -> None:
    assert undescribed(build_schema().graphql_schema) == []


def test_the_check_finds_what_lacks_one() -> None:
    schema = build_schema().graphql_schema
    query = schema.query_type
    assert query is not None
    field = query.fields["users"]
    saved = field.description, field.args["first"].description
    field.description = field.args["first"].description = None
    try:
        assert undescribed(schema) == ["Query.users", "Query.users(first)"]
    finally:
        field.description, field.args["first"].description = saved
