"""Typed lookups (``user``, ``post``, ``comment``, ``role``): a row, or null and NOT_FOUND."""

from __future__ import annotations

import base64
from datetime import datetime

import pytest

from tests.api import Dataset, GraphQL, at, gid
from tests.schema.support import bad_input, not_found, problems

SELECTIONS = {
    "user": "id name email",
    "post": "id title published",
    "comment": "id body",
    "role": "id name",
}


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def lookup(field: str, arguments: str = "") -> str:
    return f"query($id: ID!) {{ {field}(id: $id{arguments}) {{ {SELECTIONS[field]} }} }}"


@pytest.mark.parametrize(
    ("field", "type_name", "key", "expected"),
    [
        pytest.param(
            "user", "User", "bob", {"name": "Bob Builder", "email": "bob@example.com"}, id="user"
        ),
        pytest.param(
            "post", "Post", "a2", {"title": "Notes on Bernoulli", "published": False}, id="post"
        ),
        pytest.param("comment", "Comment", "c-a1-dee", {"body": "Quietly impressed"}, id="comment"),
        pytest.param("role", "Role", "reader", {"name": "reader"}, id="role"),
    ],
)
async def test_lookup_finds_the_row(
    gql: GraphQL, blog: Dataset, field: str, type_name: str, key: str, expected: dict[str, str]
) -> None:
    table = {"User": blog.users, "Post": blog.posts, "Comment": blog.comments, "Role": blog.roles}
    row_id = gid(type_name, table[type_name][key])

    data = await gql.data(lookup(field), {"id": row_id})

    assert data == {field: {"id": row_id, **expected}}


@pytest.mark.parametrize(
    ("field", "model", "row_id"),
    [
        pytest.param("user", "User", gid("User", 999_999), id="user-missing"),
        pytest.param("post", "Post", gid("Post", 999_999), id="post-missing"),
        pytest.param("comment", "Comment", gid("Comment", 999_999), id="comment-missing"),
        pytest.param("role", "Role", gid("Role", 999_999), id="role-missing"),
        pytest.param("user", "User", gid("Post", 1), id="user-given-a-post-id"),
        pytest.param("post", "Post", gid("User", 1), id="post-given-a-user-id"),
        pytest.param("comment", "Comment", gid("Role", 1), id="comment-given-a-role-id"),
        pytest.param("role", "Role", gid("Comment", 1), id="role-given-a-comment-id"),
        pytest.param("user", "User", gid("Banana", 1), id="user-given-an-unknown-type"),
    ],
)
async def test_lookup_of_a_missing_row_is_not_found(
    gql: GraphQL, blog: Dataset, field: str, model: str, row_id: str
) -> None:
    body = await gql(lookup(field), {"id": row_id})

    assert body["data"] == {field: None}
    assert problems(body) == [not_found([field], model, row_id)]


async def test_lookup_of_an_id_of_another_type_that_exists_is_not_found(
    gql: GraphQL, blog: Dataset
) -> None:
    # The post's key is also a user's key: the type name, not the key, decides.
    post_id = gid("Post", blog.posts["a1"])
    assert blog.posts["a1"] in blog.users.values()

    body = await gql(lookup("user"), {"id": post_id})

    assert body["data"] == {"user": None}
    assert problems(body) == [not_found(["user"], "User", post_id)]


@pytest.mark.parametrize(
    ("field", "model", "key", "trashed", "found"),
    [
        pytest.param("user", "User", "cyd", "", False, id="user-trashed-default"),
        pytest.param("user", "User", "cyd", ", trashed: WITHOUT", False, id="user-trashed-without"),
        pytest.param("user", "User", "cyd", ", trashed: WITH", True, id="user-trashed-with"),
        pytest.param("user", "User", "cyd", ", trashed: ONLY", True, id="user-trashed-only"),
        pytest.param("user", "User", "ada", ", trashed: WITHOUT", True, id="live-user-without"),
        pytest.param("user", "User", "ada", ", trashed: WITH", True, id="live-user-with"),
        pytest.param("user", "User", "ada", ", trashed: ONLY", False, id="live-user-only"),
        pytest.param("post", "Post", "a3", "", False, id="post-trashed-default"),
        pytest.param("post", "Post", "a3", ", trashed: WITHOUT", False, id="post-trashed-without"),
        pytest.param("post", "Post", "a3", ", trashed: WITH", True, id="post-trashed-with"),
        pytest.param("post", "Post", "a3", ", trashed: ONLY", True, id="post-trashed-only"),
        pytest.param("post", "Post", "a1", ", trashed: WITH", True, id="live-post-with"),
        pytest.param("post", "Post", "a1", ", trashed: ONLY", False, id="live-post-only"),
    ],
)
async def test_lookup_follows_trashed(
    gql: GraphQL, blog: Dataset, field: str, model: str, key: str, trashed: str, found: bool
) -> None:
    table = {"User": blog.users, "Post": blog.posts}
    row_id = gid(model, table[model][key])

    body = await gql(
        f"query($id: ID!) {{ {field}(id: $id{trashed}) {{ id deletedAt }} }}", {"id": row_id}
    )

    if found:
        deleted = {"cyd": iso(at(100)), "a3": iso(at(200))}  # the fixture's deleted_at
        assert body == {"data": {field: {"id": row_id, "deletedAt": deleted.get(key)}}}
    else:
        assert body["data"] == {field: None}
        assert problems(body) == [not_found([field], model, row_id)]


@pytest.mark.parametrize("field", ["user", "post", "comment", "role"])
@pytest.mark.parametrize(
    "row_id",
    [
        pytest.param("%%%", id="not-base64"),
        pytest.param(base64.b64encode(b"User-1").decode(), id="no-colon"),
        pytest.param(base64.b64encode(b"User:one").decode(), id="key-not-an-integer"),
        pytest.param(base64.b64encode(b"User:2147483648").decode(), id="key-out-of-range"),
    ],
)
async def test_lookup_refuses_a_malformed_id(
    gql: GraphQL, blog: Dataset, field: str, row_id: str
) -> None:
    body = await gql(lookup(field), {"id": row_id})

    assert body["data"] == {field: None}
    assert problems(body) == [bad_input([field], "id")]


async def test_a_failing_lookup_leaves_the_other_fields_intact(gql: GraphQL, blog: Dataset) -> None:
    ada, missing, cyd = (
        gid("User", blog.users["ada"]),
        gid("User", 999),
        gid("User", blog.users["cyd"]),
    )
    query = """
    query($a: ID!, $b: ID!, $c: ID!, $d: ID!) {
      a: user(id: $a) { name }
      b: user(id: $b) { name }
      c: user(id: $c) { name }
      d: post(id: $d) { title }
      roles { totalCount }
    }
    """

    body = await gql(query, {"a": ada, "b": missing, "c": cyd, "d": "garbage"})

    assert body["data"] == {
        "a": {"name": "Ada Lovelace"},
        "b": None,
        "c": None,
        "d": None,
        "roles": {"totalCount": 3},
    }
    assert problems(body) == [
        not_found(["b"], "User", missing),
        not_found(["c"], "User", cyd),
        bad_input(["d"], "id"),
    ]


async def test_lookup_resolves_nested_fields(gql: GraphQL, blog: Dataset) -> None:
    query = """
    query($id: ID!) {
      comment(id: $id) { body post { title author { name } } author { name roles { name } } }
    }
    """

    data = await gql.data(query, {"id": gid("Comment", blog.comments["c-b1-ada"])})

    assert data == {
        "comment": {
            "body": "Nice work",
            "post": {"title": "Building things", "author": {"name": "Bob Builder"}},
            "author": {"name": "Ada Lovelace", "roles": [{"name": "admin"}, {"name": "editor"}]},
        }
    }
