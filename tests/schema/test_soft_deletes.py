"""Soft deletes (contract section 7): hidden unless asked for, and hiding only the row itself.

In the ``blog`` fixture Cyd is soft-deleted (her post "Ghost post" is live) and
Ada's post "Trashed idea" is soft-deleted (Bob's comment on it is not).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.api import Dataset, GraphQL, at, gid

CYD_DELETED = at(100).isoformat(timespec="microseconds")
A3_DELETED = at(200).isoformat(timespec="microseconds")


def named(*names: str) -> list[dict[str, str]]:
    return [{"name": name} for name in names]


def arguments(text: str) -> str:
    return f"({text})" if text else ""


def titled(*titles: str) -> list[dict[str, str]]:
    return [{"title": title} for title in titles]


async def test_soft_deleted_rows_are_hidden_from_lists(gql: GraphQL, blog: Dataset) -> None:
    query = """
    { users { totalCount nodes { name } }
      posts { totalCount nodes { title } }
      roles { nodes { name users { totalCount nodes { name } } } } }
    """

    data = await gql.data(query)

    assert data == {
        "users": {"totalCount": 3, "nodes": named("Ada Lovelace", "Bob Builder", "Dee Quiet")},
        "posts": {
            "totalCount": 5,
            "nodes": titled(
                "Analytical Engine",
                "Notes on Bernoulli",
                "Building things",
                "Can we fix it",
                "Ghost post",  # a live post of a soft-deleted user stays
            ),
        },
        "roles": {
            "nodes": [
                {"name": "admin", "users": {"totalCount": 1, "nodes": named("Ada Lovelace")}},
                {"name": "editor", "users": {"totalCount": 1, "nodes": named("Ada Lovelace")}},
                {"name": "reader", "users": {"totalCount": 1, "nodes": named("Bob Builder")}},
            ]
        },
    }


async def test_soft_deleted_posts_are_hidden_from_user_posts(gql: GraphQL, blog: Dataset) -> None:
    data = await gql.data("{ users(first: 1) { nodes { posts { totalCount nodes { title } } } } }")

    assert data == {
        "users": {
            "nodes": [
                {
                    "posts": {
                        "totalCount": 2,
                        "nodes": titled("Analytical Engine", "Notes on Bernoulli"),
                    }
                }
            ]
        }
    }


async def test_authors_resolve_to_soft_deleted_users(gql: GraphQL, blog: Dataset) -> None:
    query = """
    { posts(where: {title: {eq: "Ghost post"}}) { nodes { author { name deletedAt } } }
      comments(where: {body: {eq: "From the other side"}}) { nodes { author { name deletedAt } } } }
    """

    data = await gql.data(query)

    cyd = {"name": "Cyd Gone", "deletedAt": CYD_DELETED}
    assert data == {
        "posts": {"nodes": [{"author": cyd}]},
        "comments": {"nodes": [{"author": cyd}]},
    }


async def test_comment_post_resolves_to_a_soft_deleted_post(gql: GraphQL, blog: Dataset) -> None:
    query = """
    query($id: ID!) { comment(id: $id) { body post { title deletedAt author { name } } } }
    """

    data = await gql.data(query, {"id": gid("Comment", blog.comments["c-a3-bob"])})

    assert data == {
        "comment": {
            "body": "On a trashed post",
            "post": {
                "title": "Trashed idea",
                "deletedAt": A3_DELETED,
                "author": {"name": "Ada Lovelace"},
            },
        }
    }


async def test_comments_of_a_soft_deleted_post_stay_visible(gql: GraphQL, blog: Dataset) -> None:
    query = """
    query($bob: ID!, $a3: ID!) {
      comments { totalCount nodes { body } }
      user(id: $bob) { comments { totalCount nodes { body post { title } } } }
      post(id: $a3, trashed: WITH) { comments { totalCount nodes { body } } }
    }
    """
    variables = {"bob": gid("User", blog.users["bob"]), "a3": gid("Post", blog.posts["a3"])}

    data = await gql.data(query, variables)

    assert data == {
        "comments": {
            "totalCount": 5,
            "nodes": [
                {"body": "Brilliant"},
                {"body": "From the other side"},  # by a soft-deleted user
                {"body": "Quietly impressed"},
                {"body": "Nice work"},
                {"body": "On a trashed post"},
            ],
        },
        "user": {
            "comments": {
                "totalCount": 2,
                "nodes": [
                    {"body": "Brilliant", "post": {"title": "Analytical Engine"}},
                    {"body": "On a trashed post", "post": {"title": "Trashed idea"}},
                ],
            }
        },
        "post": {"comments": {"totalCount": 1, "nodes": [{"body": "On a trashed post"}]}},
    }


async def test_relation_filters_see_only_live_posts(gql: GraphQL, blog: Dataset) -> None:
    query = """
    { some: users(where: {posts: {some: {title: {eq: "Trashed idea"}}}}) { nodes { name } }
      none: users(where: {posts: {none: {title: {eq: "Trashed idea"}}}}) { nodes { name } }
      authored: posts(where: {author: {name: {eq: "Cyd Gone"}}}) { nodes { title } } }
    """

    data = await gql.data(query)

    assert data == {
        "some": {"nodes": []},
        "none": {"nodes": named("Ada Lovelace", "Bob Builder", "Dee Quiet")},
        "authored": {"nodes": titled("Ghost post")},
    }


@pytest.mark.parametrize(
    ("trashed", "expected"),
    [
        pytest.param("", ["Ada Lovelace", "Bob Builder", "Dee Quiet"], id="default"),
        pytest.param(
            "trashed: WITHOUT", ["Ada Lovelace", "Bob Builder", "Dee Quiet"], id="WITHOUT"
        ),
        pytest.param(
            "trashed: WITH", ["Ada Lovelace", "Bob Builder", "Cyd Gone", "Dee Quiet"], id="WITH"
        ),
        pytest.param("trashed: ONLY", ["Cyd Gone"], id="ONLY"),
    ],
)
async def test_trashed_on_users(
    gql: GraphQL, blog: Dataset, trashed: str, expected: list[str]
) -> None:
    data = await gql.data(f"{{ users{arguments(trashed)} {{ totalCount nodes {{ name }} }} }}")

    assert data == {"users": {"totalCount": len(expected), "nodes": named(*expected)}}


@pytest.mark.parametrize(
    ("trashed", "expected"),
    [
        pytest.param(
            "",
            [
                "Analytical Engine",
                "Notes on Bernoulli",
                "Building things",
                "Can we fix it",
                "Ghost post",
            ],
            id="default",
        ),
        pytest.param(
            "trashed: WITH",
            [
                "Analytical Engine",
                "Notes on Bernoulli",
                "Trashed idea",
                "Building things",
                "Can we fix it",
                "Ghost post",
            ],
            id="WITH",
        ),
        pytest.param("trashed: ONLY", ["Trashed idea"], id="ONLY"),
    ],
)
async def test_trashed_on_posts(
    gql: GraphQL, blog: Dataset, trashed: str, expected: list[str]
) -> None:
    data = await gql.data(f"{{ posts{arguments(trashed)} {{ totalCount nodes {{ title }} }} }}")

    assert data == {"posts": {"totalCount": len(expected), "nodes": titled(*expected)}}


@pytest.mark.parametrize(
    ("trashed", "expected"),
    [
        pytest.param("", ["Analytical Engine", "Notes on Bernoulli"], id="default"),
        pytest.param("trashed: WITHOUT", ["Analytical Engine", "Notes on Bernoulli"], id="WITHOUT"),
        pytest.param(
            "trashed: WITH",
            ["Analytical Engine", "Notes on Bernoulli", "Trashed idea"],
            id="WITH",
        ),
        pytest.param("trashed: ONLY", ["Trashed idea"], id="ONLY"),
    ],
)
async def test_trashed_on_user_posts(
    gql: GraphQL, blog: Dataset, trashed: str, expected: list[str]
) -> None:
    query = f"""
    query($id: ID!) {{
      user(id: $id) {{ posts{arguments(trashed)} {{ totalCount nodes {{ title }} }} }}
    }}
    """

    data = await gql.data(query, {"id": gid("User", blog.users["ada"])})

    assert data == {"user": {"posts": {"totalCount": len(expected), "nodes": titled(*expected)}}}


async def test_a_soft_deleted_user_keeps_its_posts_comments_and_roles(
    gql: GraphQL, blog: Dataset
) -> None:
    query = """
    { users(trashed: ONLY) { nodes {
        name deletedAt
        posts { nodes { title deletedAt } }
        comments { nodes { body } }
        roles { name }
    } } }
    """

    data = await gql.data(query)

    assert data == {
        "users": {
            "nodes": [
                {
                    "name": "Cyd Gone",
                    "deletedAt": CYD_DELETED,
                    "posts": {"nodes": [{"title": "Ghost post", "deletedAt": None}]},
                    "comments": {"nodes": [{"body": "From the other side"}]},
                    "roles": [{"name": "reader"}],
                }
            ]
        }
    }


async def test_live_rows_have_no_deleted_at(gql: GraphQL, blog: Dataset) -> None:
    data: dict[str, Any] = await gql.data(
        "{ users(trashed: WITH) { nodes { name deletedAt } } "
        "posts(trashed: WITH) { nodes { title deletedAt } } }"
    )

    assert {node["name"]: node["deletedAt"] for node in data["users"]["nodes"]} == {
        "Ada Lovelace": None,
        "Bob Builder": None,
        "Cyd Gone": CYD_DELETED,
        "Dee Quiet": None,
    }
    assert [node["deletedAt"] for node in data["posts"]["nodes"]] == [
        None,
        None,
        A3_DELETED,
        None,
        None,
        None,
    ]
