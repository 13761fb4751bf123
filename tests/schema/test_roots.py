"""The roots collect the type modules' fields: in ``MODULES`` order, once each, never two of a name;
``@node`` gives every node type the fields its model's mixins and repository call for."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from types import ModuleType
from typing import Any

import pytest
import strawberry
from strawberry.types import get_object_definition

import models
from repositories import PostRepository
from schema import build_schema, derive, roots
from schema.derive import node
from schema.node import Node
from schema.resource import RegistrationError, Resource
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

    found = roots.fields_of(
        "Mutation",
        [
            module("b", zeta=second, alpha=first, read=read, helper=answer),
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


def test_a_module_level_field_of_no_root_stops_the_start_up() -> None:
    by_hand = strawberry.field(resolver=answer)

    with pytest.raises(RegistrationError) as caught:
        roots.fields_of("Query", [module("schema.types.tag", search=by_hand)])

    assert str(caught.value) == (
        "schema.types.tag.search is a field of no root type: make it with "
        "schema.roots.query(...) or schema.roots.mutation(...)"
    )


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


@pytest.fixture
def node_types() -> Iterator[None]:
    """The node types a test declares are forgotten after it."""
    made = dict(derive._TYPES)
    yield
    derive._TYPES.clear()
    derive._TYPES.update(made)


def test_a_standard_field_the_class_declares_is_published_as_declared(node_types: None) -> None:
    @node(Resource("Draft", models.Post, PostRepository), "A draft.")
    class Draft(Node):
        title: str = strawberry.field(description="The title.")
        created_at: datetime = strawberry.field(description="When it was drafted.")

        def size(self) -> int:
            return super().__sizeof__()  # ``super()`` needs the class to be the one declared

    definition = get_object_definition(Draft, strict=True)
    published = {f.python_name: f.description for f in definition.fields}
    assert list(published) == [
        *("id", "title", "created_at", "updated_at", "deleted_at"),
        *("viewer_can_update", "viewer_can_delete"),
    ]
    assert published["created_at"] == "When it was drafted."
    assert Draft.size(object.__new__(Draft)) > 0
