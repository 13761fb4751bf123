"""The committed ``schema.graphql`` is the live schema, and the live schema keeps the contract."""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    is_required_argument,
    is_required_input_field,
    is_specified_scalar_type,
    print_ast,
)

from schema import build_schema as build_live_schema
from schema import introspection_json, schema_sdl

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = ROOT / "schema.graphql"
CONTRACT_FILE = Path(__file__).with_name("contract.graphql")
REGENERATE = "ftf export-schema -o schema.graphql"

# The contract writes out the connection, edge and order types of Post only and says
# "One connection, edge and order type per node type": the others follow that pattern.
PER_NODE_TYPE = ("type PostConnection ", "type PostEdge ", "input PostOrder ")
OTHER_NODE_TYPES = ("User", "Comment", "Role")


@pytest.fixture(scope="module")
def live_sdl() -> str:
    return schema_sdl(build_live_schema())


@pytest.fixture(scope="module")
def live(live_sdl: str) -> GraphQLSchema:
    return build_schema(live_sdl)


@pytest.fixture(scope="module")
def contract() -> GraphQLSchema:
    sdl = CONTRACT_FILE.read_text(encoding="utf-8")
    pattern = [line for line in sdl.splitlines() if line.startswith(PER_NODE_TYPE)]
    assert len(pattern) == len(PER_NODE_TYPE)
    derived = [line.replace("Post", name) for name in OTHER_NODE_TYPES for line in pattern]
    return build_schema(sdl + "\n" + "\n".join(derived) + "\n")


def test_the_committed_schema_file_is_the_live_schema(live_sdl: str) -> None:
    committed = SCHEMA_FILE.read_text(encoding="utf-8")

    diff = "".join(
        difflib.unified_diff(
            committed.splitlines(keepends=True),
            live_sdl.splitlines(keepends=True),
            "schema.graphql (committed)",
            "live schema",
        )
    )
    assert committed == live_sdl, (
        f"schema.graphql is out of date; regenerate it with `{REGENERATE}` and commit it.\n{diff}"
    )


def test_the_introspection_json_has_the_schema() -> None:
    introspection = introspection_json(build_live_schema())

    assert list(introspection) == ["__schema"]
    assert introspection["__schema"]["queryType"]["name"] == "Query"
    assert introspection["__schema"]["mutationType"]["name"] == "Mutation"
    json.dumps(introspection)  # serialisable as it is


def _contract_types(contract: GraphQLSchema) -> list[GraphQLNamedType]:
    return [
        named
        for name, named in sorted(contract.type_map.items())
        if not name.startswith("__") and not is_specified_scalar_type(named)
    ]


def test_the_contract_file_names_every_type_the_contract_does(contract: GraphQLSchema) -> None:
    names = {named.name for named in _contract_types(contract)}

    for node in ("User", "Post", "Comment", "Role"):
        assert {f"{node}Connection", f"{node}Edge", f"{node}Order", f"{node}Filter"} <= names
    assert {"Query", "Mutation", "Node", "PageInfo", "DateTime", "Trashed"} <= names
    assert len(names) == 46


def _default(argument: GraphQLArgument | GraphQLInputField) -> str | None:
    """The default as written in the SDL (both schemas here are built from SDL)."""
    node = argument.ast_node
    if node is None or node.default_value is None:
        return None
    return print_ast(node.default_value)


def _check_arguments(
    where: str,
    expected: dict[str, GraphQLArgument] | dict[str, GraphQLInputField],
    actual: dict[str, GraphQLArgument] | dict[str, GraphQLInputField],
    problems: list[str],
) -> None:
    for name, wanted in expected.items():
        got = actual.get(name)
        if got is None:
            problems.append(f"{where}({name}:) is missing")
            continue
        if str(got.type) != str(wanted.type):
            problems.append(f"{where}({name}:) is {got.type}, the contract says {wanted.type}")
        if _default(got) != _default(wanted):
            problems.append(
                f"{where}({name}:) defaults to {_default(got)}, "
                f"the contract says {_default(wanted)}"
            )
    for name, got in actual.items():
        required = (
            is_required_argument(got)
            if isinstance(got, GraphQLArgument)
            else is_required_input_field(got)
        )
        if name not in expected and required:
            problems.append(f"{where}({name}:) is required but not in the contract")


def _compare(wanted: Any, got: Any, problems: list[str]) -> None:
    kind = type(wanted)
    if type(got) is not kind:
        problems.append(f"{wanted.name} is a {type(got).__name__}, not a {kind.__name__}")
    elif isinstance(wanted, (GraphQLObjectType, GraphQLInterfaceType)):
        interfaces = {i.name for i in got.interfaces}
        for interface in wanted.interfaces:
            if interface.name not in interfaces:
                problems.append(f"{wanted.name} does not implement {interface.name}")
        for name, field in wanted.fields.items():
            live_field = got.fields.get(name)
            if live_field is None:
                problems.append(f"{wanted.name}.{name} is missing")
                continue
            if str(live_field.type) != str(field.type):
                problems.append(
                    f"{wanted.name}.{name} is {live_field.type}, the contract says {field.type}"
                )
            _check_arguments(f"{wanted.name}.{name}", field.args, live_field.args, problems)
    elif isinstance(wanted, GraphQLInputObjectType):
        _check_arguments(wanted.name, wanted.fields, got.fields, problems)
    elif isinstance(wanted, GraphQLEnumType) and set(got.values) != set(wanted.values):
        problems.append(
            f"enum {wanted.name} has {sorted(got.values)}, "
            f"the contract says {sorted(wanted.values)}"
        )


def test_the_live_schema_has_every_type_field_argument_and_default_of_the_contract(
    contract: GraphQLSchema, live: GraphQLSchema
) -> None:
    problems: list[str] = []
    for wanted in _contract_types(contract):
        got = live.type_map.get(wanted.name)
        if got is None:
            problems.append(f"type {wanted.name} is missing")
            continue
        _compare(wanted, got, problems)

    assert problems == []


@pytest.mark.parametrize(
    ("path", "sdl_type", "default"),
    [
        pytest.param("Query.users(trashed:)", "Trashed", "WITHOUT", id="users-trashed"),
        pytest.param("Query.post(trashed:)", "Trashed", "WITHOUT", id="post-trashed"),
        pytest.param("User.posts(trashed:)", "Trashed", "WITHOUT", id="user-posts-trashed"),
        pytest.param("PostOrder.direction", "OrderDirection!", "ASC", id="order-direction"),
        pytest.param("RoleOrder.direction", "OrderDirection!", "ASC", id="role-order-direction"),
        pytest.param("CreatePostInput.published", "Boolean", "false", id="published"),
    ],
)
def test_the_contract_defaults_are_in_the_schema_file(
    live: GraphQLSchema, path: str, sdl_type: str, default: str
) -> None:
    if "(" in path:
        type_name, rest = path.split(".")
        field_name, argument = rest.rstrip(":)").split("(")
        root = live.type_map[type_name]
        assert isinstance(root, GraphQLObjectType)
        found: GraphQLArgument | GraphQLInputField = root.fields[field_name].args[argument]
    else:
        type_name, field_name = path.split(".")
        input_type = live.type_map[type_name]
        assert isinstance(input_type, GraphQLInputObjectType)
        found = input_type.fields[field_name]

    assert (str(found.type), _default(found)) == (sdl_type, default)
