"""The roots collect the type modules' fields: in ``MODULES`` order, once each, never two of a name;
``@node`` gives every node type the fields its model's mixins and repository call for."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest
import strawberry

from schema import build_schema, roots
from schema.resource import RegistrationError
from schema.types import MODULES


def module(name: str, **fields: Any) -> ModuleType:
    made = ModuleType(name)
    vars(made).update(fields)
    return made


def answer() -> str:
    return "yes"


def test_fields_are_collected_in_module_order_then_definition_order() -> None:
    first, second, third = (roots.mutation(strawberry.field(resolver=answer)) for _ in range(3))
    read = roots.query(strawberry.field(resolver=answer))
    unmarked = strawberry.field(resolver=answer)

    found = roots.fields_of(
        "Mutation",
        [
            module("b", zeta=second, alpha=first, read=read, helper=unmarked),
            module("a", again=first, omega=third),
        ],
    )

    # ``first`` imported into the second module stays under the name the first gave it.
    assert list(found.items()) == [("zeta", second), ("alpha", first), ("omega", third)]
    assert list(roots.fields_of("Query", [module("b", read=read)])) == ["read"]


def test_two_root_fields_of_one_name_stop_the_start_up() -> None:
    ours, theirs = (roots.query(strawberry.field(resolver=answer)) for _ in range(2))

    with pytest.raises(RegistrationError) as caught:
        roots.fields_of("Query", [module("schema.types.tag", tags=ours), module("x", tags=theirs)])

    assert str(caught.value) == "Query.tags is defined in both schema.types.tag and x"


def test_the_published_roots_follow_the_modules_list() -> None:
    schema = build_schema().graphql_schema
    query, mutation = schema.query_type, schema.mutation_type
    assert query is not None and mutation is not None

    assert MODULES == ("user", "post", "comment", "role", "auth")
    assert list(query.fields) == [
        *("viewer", "node", "nodes", "user", "users", "post", "posts"),
        *("comment", "comments", "role", "roles"),
    ]
    assert list(mutation.fields) == [
        *("createUser", "updateUser", "deleteUser", "restoreUser"),
        *("createPost", "updatePost", "deletePost", "restorePost"),
        *("createComment", "updateComment", "deleteComment"),
        *("createRole", "assignRole", "revokeRole"),
        *("signUp", "login", "refreshToken", "logout", "changePassword"),
    ]


def test_node_types_get_their_models_standard_fields() -> None:
    schema = build_schema().graphql_schema

    def fields_of(name: str) -> list[str]:
        return list(schema.type_map[name].fields)  # type: ignore[attr-defined]

    # Soft-deleted with write rules; timestamps without soft deletes; no write rules (roles).
    assert fields_of("Post") == [
        *("id", "title", "body", "published", "createdAt", "updatedAt", "deletedAt"),
        *("viewerCanUpdate", "viewerCanDelete", "author", "comments"),
    ]
    assert fields_of("Comment") == [
        *("id", "body", "createdAt", "updatedAt", "viewerCanUpdate", "viewerCanDelete"),
        *("post", "author"),
    ]
    assert fields_of("Role") == ["id", "name", "createdAt", "updatedAt", "users"]
