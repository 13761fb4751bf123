"""Relay's ``node`` and ``nodes``: any type by global ID; null when not found."""

from __future__ import annotations

import base64

import pytest

from tests.api import Dataset, GraphQL, gid
from tests.schema.support import bad_input, problems

NODE = """
query($id: ID!) {
  node(id: $id) {
    __typename id
    ... on User { name }
    ... on Post { title }
    ... on Comment { body }
    ... on Role { name }
  }
}
"""

NODES = """
query($ids: [ID!]!) {
  nodes(ids: $ids) { __typename id ... on User { email } ... on Post { published } }
}
"""


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("type_name", "key", "fields"),
    [
        pytest.param("User", "ada", {"name": "Ada Lovelace"}, id="user"),
        pytest.param("Post", "b1", {"title": "Building things"}, id="post"),
        pytest.param("Comment", "c-b1-ada", {"body": "Nice work"}, id="comment"),
        pytest.param("Role", "editor", {"name": "editor"}, id="role"),
    ],
)
async def test_node_finds_every_type(
    gql: GraphQL, blog: Dataset, type_name: str, key: str, fields: dict[str, str]
) -> None:
    table = {"User": blog.users, "Post": blog.posts, "Comment": blog.comments, "Role": blog.roles}
    node_id = gid(type_name, table[type_name][key])

    data = await gql.data(NODE, {"id": node_id})

    assert data == {"node": {"__typename": type_name, "id": node_id, **fields}}


@pytest.mark.parametrize(
    "node_id",
    [
        pytest.param(gid("User", 999_999), id="missing-user"),
        pytest.param(gid("Post", 999_999), id="missing-post"),
        pytest.param(gid("Comment", 999_999), id="missing-comment"),
        pytest.param(gid("Role", 999_999), id="missing-role"),
        pytest.param(gid("User", -1), id="negative-key"),
        pytest.param(gid("User", 2**31 - 1), id="largest-key"),
        pytest.param(gid("Banana", 1), id="unknown-type"),
        pytest.param(gid("Query", 1), id="type-that-is-no-node"),
        pytest.param(gid("user", 1), id="type-name-is-case-sensitive"),
    ],
)
async def test_node_is_null_without_error_when_not_found(
    gql: GraphQL, blog: Dataset, node_id: str
) -> None:
    assert await gql(NODE, {"id": node_id}) == {"data": {"node": None}}


@pytest.mark.parametrize(
    ("type_name", "key"),
    [pytest.param("User", "cyd", id="user"), pytest.param("Post", "a3", id="post")],
)
async def test_node_is_null_for_soft_deleted_rows(
    gql: GraphQL, blog: Dataset, type_name: str, key: str
) -> None:
    table = {"User": blog.users, "Post": blog.posts}

    body = await gql(NODE, {"id": gid(type_name, table[type_name][key])})

    assert body == {"data": {"node": None}}


MALFORMED_IDS = [
    pytest.param("not base64!", id="not-base64"),
    pytest.param("", id="empty"),
    pytest.param(b64("User1"), id="no-colon"),
    pytest.param(b64(":1"), id="no-type-name"),
    pytest.param(b64("User:"), id="no-key"),
    pytest.param(b64("User:abc"), id="key-not-a-number"),
    pytest.param(b64("User:1.5"), id="key-not-an-integer"),
    pytest.param(b64("User: 1"), id="key-with-space"),
    pytest.param(b64("User:01"), id="key-with-leading-zero"),
    pytest.param(b64("User:2147483648"), id="key-above-int32"),
    pytest.param(b64("User:-2147483649"), id="key-below-int32"),
    pytest.param(b64("User:99999999999999999999"), id="key-far-out-of-range"),
    pytest.param(base64.b64encode(b"\xff\xfe:1").decode(), id="not-utf8"),
    pytest.param("VXNlcjoxMg", id="base64-without-padding"),
]


@pytest.mark.parametrize("node_id", MALFORMED_IDS)
async def test_node_refuses_a_malformed_id(gql: GraphQL, blog: Dataset, node_id: str) -> None:
    body = await gql(NODE, {"id": node_id})

    assert body["data"] == {"node": None}
    assert problems(body) == [bad_input(["node"], "id")]


async def test_node_with_only_typename(gql: GraphQL, blog: Dataset) -> None:
    data = await gql.data(
        "query($id: ID!) { node(id: $id) { __typename } }", {"id": gid("Post", blog.posts["a1"])}
    )

    assert data == {"node": {"__typename": "Post"}}


async def test_node_fragment_of_another_type_selects_nothing(gql: GraphQL, blog: Dataset) -> None:
    data = await gql.data(
        "query($id: ID!) { node(id: $id) { id ... on Post { title } } }",
        {"id": gid("User", blog.users["bob"])},
    )

    assert data == {"node": {"id": gid("User", blog.users["bob"])}}


async def test_node_with_named_fragments_and_nested_fields(gql: GraphQL, blog: Dataset) -> None:
    query = """
    query($id: ID!) { node(id: $id) { ...PostParts } }
    fragment PostParts on Post { title author { name } comments { nodes { body } } }
    """

    data = await gql.data(query, {"id": gid("Post", blog.posts["b1"])})

    assert data == {
        "node": {
            "title": "Building things",
            "author": {"name": "Bob Builder"},
            "comments": {"nodes": [{"body": "Nice work"}]},
        }
    }


async def test_nodes_keeps_order_and_gives_null_per_missing_one(
    gql: GraphQL, blog: Dataset
) -> None:
    ids = [
        gid("Post", blog.posts["b2"]),
        gid("User", 999_999),
        gid("User", blog.users["bob"]),
        gid("User", blog.users["cyd"]),
        gid("Role", blog.roles["reader"]),
        gid("Banana", 1),
        gid("Post", blog.posts["a3"]),
        gid("User", blog.users["ada"]),
        gid("Post", blog.posts["b2"]),
    ]

    data = await gql.data(NODES, {"ids": ids})

    assert data == {
        "nodes": [
            {"__typename": "Post", "id": ids[0], "published": True},
            None,
            {"__typename": "User", "id": ids[2], "email": "bob@example.com"},
            None,
            {"__typename": "Role", "id": ids[4]},
            None,
            None,
            {"__typename": "User", "id": ids[7], "email": "ada@example.com"},
            {"__typename": "Post", "id": ids[0], "published": True},
        ]
    }


async def test_nodes_of_an_empty_list(gql: GraphQL, blog: Dataset) -> None:
    assert await gql.data(NODES, {"ids": []}) == {"nodes": []}


async def test_nodes_refuses_malformed_ids_keyed_by_index(gql: GraphQL, blog: Dataset) -> None:
    ids = [gid("User", blog.users["ada"]), "nope", b64("User:2147483648"), gid("Post", 1)]

    body = await gql(NODES, {"ids": ids})

    assert body["data"] is None  # nodes is non-null, so the error nulls the whole data
    assert problems(body) == [bad_input(["nodes"], "ids.1", "ids.2")]


async def test_node_errors_leave_sibling_fields_intact(gql: GraphQL, blog: Dataset) -> None:
    query = """
    query($good: ID!, $bad: ID!, $gone: ID!) {
      good: node(id: $good) { id }
      bad: node(id: $bad) { id }
      gone: node(id: $gone) { id }
    }
    """
    good = gid("Role", blog.roles["admin"])

    body = await gql(query, {"good": good, "bad": b64("Role:x"), "gone": gid("Role", 999)})

    assert body["data"] == {"good": {"id": good}, "bad": None, "gone": None}
    assert problems(body) == [bad_input(["bad"], "id")]


async def test_ids_are_base64_of_type_name_and_key(gql: GraphQL, blog: Dataset) -> None:
    data = await gql.data("{ roles(first: 1) { nodes { id } } }")

    assert data == {"roles": {"nodes": [{"id": b64(f"Role:{blog.roles['admin']}")}]}}
