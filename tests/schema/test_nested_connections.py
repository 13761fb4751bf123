"""Nested connections page each parent's rows on their own, with their own cursors and filters."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.api import Dataset, GraphQL, at, gid, insert_dataset
from tests.schema.support import (
    CROWD_USERS,
    bad_input,
    crowd_comments_of,
    crowd_posts_of,
    crowd_rows,
    problems,
)


def titles_of(user: int) -> list[str]:
    return [f"Post {user:02}.{post}" for post in range(crowd_posts_of(user))]


def comment_bodies_by(user: int) -> list[str]:
    """The bodies of the crowd's comments written by ``user``, in id order."""
    return [row["body"] for row in crowd_rows()["comments"] if row["author"] == f"u{user:02}"]


@pytest.mark.parametrize("size", [0, 1, 2, 4, 5])
async def test_first_n_posts_of_each_user(gql: GraphQL, crowd: Dataset, size: int) -> None:
    query = f"""
    {{ users(first: 25) {{ nodes {{ name
        posts(first: {size}) {{
          totalCount nodes {{ title }} pageInfo {{ hasNextPage hasPreviousPage }} }}
    }} }} }}
    """

    data = await gql.data(query)

    assert data["users"]["nodes"] == [
        {
            "name": f"User {u:02}",
            "posts": {
                "totalCount": crowd_posts_of(u),
                "nodes": [{"title": title} for title in titles_of(u)[:size]],
                "pageInfo": {"hasNextPage": crowd_posts_of(u) > size, "hasPreviousPage": False},
            },
        }
        for u in range(CROWD_USERS)
    ]


@pytest.mark.parametrize("size", [1, 2, 3])
async def test_last_n_posts_of_each_user(gql: GraphQL, crowd: Dataset, size: int) -> None:
    query = f"""
    {{ users(first: 25) {{ nodes {{
        posts(last: {size}) {{ nodes {{ title }} pageInfo {{ hasNextPage hasPreviousPage }} }}
    }} }} }}
    """

    data = await gql.data(query)

    assert data["users"]["nodes"] == [
        {
            "posts": {
                "nodes": [{"title": title} for title in titles_of(u)[-size:]],
                "pageInfo": {"hasNextPage": False, "hasPreviousPage": crowd_posts_of(u) > size},
            }
        }
        for u in range(CROWD_USERS)
    ]


async def test_nested_pages_of_parents_on_a_later_root_page(gql: GraphQL, crowd: Dataset) -> None:
    first = await gql.data("{ users(first: 10) { pageInfo { endCursor } } }")
    query = """
    query($after: String) {
      users(first: 8, after: $after) { nodes { name posts(first: 3) { nodes { title } } } }
    }
    """

    data = await gql.data(query, {"after": first["users"]["pageInfo"]["endCursor"]})

    assert data["users"]["nodes"] == [
        {"name": f"User {u:02}", "posts": {"nodes": [{"title": t} for t in titles_of(u)[:3]]}}
        for u in range(10, 18)
    ]


async def test_each_parent_pages_on_with_its_own_cursor(gql: GraphQL, crowd: Dataset) -> None:
    # User 05 has 5 posts, user 04 has 4 and user 03 has 3.
    page = """
    query($a: ID!, $b: ID!, $c: ID!, $ca: String, $cb: String, $cc: String) {
      a: user(id: $a) { posts(first: 2, after: $ca) { nodes { title } %s } }
      b: user(id: $b) { posts(first: 2, after: $cb) { nodes { title } %s } }
      c: user(id: $c) { posts(first: 2, after: $cc) { nodes { title } %s } }
    }
    """ % (("pageInfo { hasNextPage hasPreviousPage endCursor }",) * 3)
    keys = {"a": "u05", "b": "u04", "c": "u03"}
    variables: dict[str, Any] = {name: gid("User", crowd.users[key]) for name, key in keys.items()}
    seen: dict[str, list[str]] = {name: [] for name in keys}
    next_pages: dict[str, list[bool]] = {name: [] for name in keys}

    for _ in range(3):
        data = await gql.data(page, variables)
        for name in keys:
            posts = data[name]["posts"]
            seen[name] += [node["title"] for node in posts["nodes"]]
            next_pages[name].append(posts["pageInfo"]["hasNextPage"])
            if posts["pageInfo"]["endCursor"] is not None:
                variables[f"c{name}"] = posts["pageInfo"]["endCursor"]

    assert seen == {"a": titles_of(5), "b": titles_of(4), "c": titles_of(3)}
    assert next_pages == {
        "a": [True, True, False],
        "b": [True, False, False],
        "c": [True, False, False],
    }


async def test_paging_one_parents_posts_backward(gql: GraphQL, crowd: Dataset) -> None:
    query = """
    query($id: ID!, $before: String) {
      user(id: $id) { posts(last: 2, before: $before) {
        nodes { title } pageInfo { hasPreviousPage hasNextPage startCursor } } }
    }
    """
    variables: dict[str, Any] = {"id": gid("User", crowd.users["u05"]), "before": None}
    pages = []
    while True:
        posts = (await gql.data(query, variables))["user"]["posts"]
        pages.append([node["title"] for node in posts["nodes"]])
        assert posts["pageInfo"]["hasNextPage"] is (variables["before"] is not None)
        if not posts["pageInfo"]["hasPreviousPage"]:
            break
        variables["before"] = posts["pageInfo"]["startCursor"]

    assert pages == [["Post 05.3", "Post 05.4"], ["Post 05.1", "Post 05.2"], ["Post 05.0"]]


async def test_one_cursor_under_many_parents_is_a_position_in_each(
    gql: GraphQL, crowd: Dataset
) -> None:
    made = await gql.data(
        "{ posts(first: 1, orderBy: [{field: TITLE, direction: DESC}]) { pageInfo { endCursor } } }"
    )  # the last title of all: Post 23.4
    nested = """
    query($c: String) {
      users(first: 25) { nodes {
        posts(first: 1, after: $c, orderBy: [{field: TITLE, direction: DESC}]) {
          nodes { title } } } }
    }
    """

    data = await gql.data(nested, {"c": made["posts"]["pageInfo"]["endCursor"]})

    # Every user's own titles sort before "Post 23.4" except user 23's last one.
    expected = [
        [title for title in reversed(titles_of(u)) if title < "Post 23.4"][:1] for u in range(25)
    ]
    assert [[n["title"] for n in u["posts"]["nodes"]] for u in data["users"]["nodes"]] == expected


async def test_aliased_nested_connections_with_other_arguments(
    gql: GraphQL, crowd: Dataset
) -> None:
    query = """
    { users(first: 25) { nodes {
        one: posts(first: 1) { nodes { title } }
        three: posts(first: 3) { nodes { title } }
        back: posts(last: 1) { nodes { title } }
        again: posts(first: 1) { nodes { title } }
    } } }
    """

    data = await gql.data(query)

    assert data["users"]["nodes"] == [
        {
            "one": {"nodes": [{"title": t} for t in titles_of(u)[:1]]},
            "three": {"nodes": [{"title": t} for t in titles_of(u)[:3]]},
            "back": {"nodes": [{"title": t} for t in titles_of(u)[-1:]]},
            "again": {"nodes": [{"title": t} for t in titles_of(u)[:1]]},
        }
        for u in range(CROWD_USERS)
    ]


async def test_three_levels_deep(gql: GraphQL, crowd: Dataset) -> None:
    query = """
    { users(first: 20) { nodes { posts(first: 10) { nodes { title
        comments(first: 2) { totalCount nodes { body author { name } } } } } } } }
    """
    authors = {row["key"]: row["author"] for row in crowd_rows()["comments"]}

    data = await gql.data(query)

    def author_name(u: int, p: int, c: int) -> str:
        return f"User {authors[f'u{u:02}-p{p}-c{c}'][1:]}"

    assert data["users"]["nodes"] == [
        {
            "posts": {
                "nodes": [
                    {
                        "title": f"Post {u:02}.{p}",
                        "comments": {
                            "totalCount": crowd_comments_of(u, p),
                            "nodes": [
                                {
                                    "body": f"Comment {u:02}.{p}.{c}",
                                    "author": {"name": author_name(u, p, c)},
                                }
                                for c in range(min(2, crowd_comments_of(u, p)))
                            ],
                        },
                    }
                    for p in range(crowd_posts_of(u))
                ]
            }
        }
        for u in range(20)
    ]


async def test_user_comments_are_paged_per_user(gql: GraphQL, crowd: Dataset) -> None:
    query = """
    { users(first: 25) { nodes {
        comments(first: 3) { totalCount nodes { body } pageInfo { hasNextPage } }
        latest: comments(last: 1) { nodes { body } }
    } } }
    """

    data = await gql.data(query)

    assert data["users"]["nodes"] == [
        {
            "comments": {
                "totalCount": len(comment_bodies_by(u)),
                "nodes": [{"body": body} for body in comment_bodies_by(u)[:3]],
                "pageInfo": {"hasNextPage": len(comment_bodies_by(u)) > 3},
            },
            "latest": {"nodes": [{"body": body} for body in comment_bodies_by(u)[-1:]]},
        }
        for u in range(CROWD_USERS)
    ]


async def test_post_comments_are_paged_per_post(gql: GraphQL, crowd: Dataset) -> None:
    query = """
    { posts(first: 100) { nodes { title
        comments(first: 2, orderBy: [{field: CREATED_AT, direction: DESC}]) {
          totalCount nodes { body } pageInfo { hasNextPage } } } } }
    """

    data = await gql.data(query)

    expected = []
    for u in range(CROWD_USERS):
        for p in range(crowd_posts_of(u)):
            count = crowd_comments_of(u, p)
            newest_first = [f"Comment {u:02}.{p}.{c}" for c in reversed(range(count))]
            expected.append(
                {
                    "title": f"Post {u:02}.{p}",
                    "comments": {
                        "totalCount": count,
                        "nodes": [{"body": body} for body in newest_first[:2]],
                        "pageInfo": {"hasNextPage": count > 2},
                    },
                }
            )
    assert data["posts"]["nodes"] == expected


# -- where, orderBy and trashed on nested connections ---------------------------------


@pytest.fixture
async def shelves(committed_engine: AsyncEngine, gql: GraphQL) -> Dataset:
    """Two users with published, unpublished and soft-deleted posts; comments on some."""
    return await insert_dataset(
        committed_engine,
        users=[
            {"key": "ann", "name": "Ann", "email": "ann@example.com"},
            {"key": "ben", "name": "Ben", "email": "ben@example.com"},
        ],
        posts=[
            {"key": "zeta", "author": "ann", "title": "Zeta"},
            {"key": "alpha", "author": "ann", "title": "Alpha", "published": False},
            {"key": "mid", "author": "ann", "title": "Mid", "deleted_at": at(50)},
            {"key": "beta", "author": "ann", "title": "Beta"},
            {"key": "omega", "author": "ben", "title": "Omega"},
            {"key": "gamma", "author": "ben", "title": "Gamma", "deleted_at": at(60)},
        ],
        comments=[
            {"key": "z1", "post": "zeta", "author": "ben", "body": "first on zeta"},
            {"key": "z2", "post": "zeta", "author": "ann", "body": "second on zeta"},
            {"key": "z3", "post": "zeta", "author": "ben", "body": "third on zeta"},
            {"key": "o1", "post": "omega", "author": "ben", "body": "own comment"},
            {"key": "m1", "post": "mid", "author": "ben", "body": "on a deleted post"},
        ],
    )


async def test_where_order_by_and_trashed_on_nested_posts(gql: GraphQL, shelves: Dataset) -> None:
    query = """
    { users { nodes { name
        byTitle: posts(orderBy: [{field: TITLE, direction: DESC}]) { totalCount nodes { title } }
        published: posts(where: {published: {eq: true}}) { totalCount nodes { title } }
        all: posts(trashed: WITH, orderBy: [{field: TITLE}]) { totalCount nodes { title } }
        gone: posts(trashed: ONLY) { totalCount nodes { title } }
        commented: posts(where: {comments: {some: {}}}, trashed: WITH) { nodes { title } }
        firstGone: posts(trashed: WITH, first: 1, where: {title: {in: ["Mid", "Gamma"]}}) {
          totalCount nodes { title } pageInfo { hasNextPage } }
    } } }
    """

    data = await gql.data(query)

    def titles(*names: str) -> list[dict[str, str]]:
        return [{"title": name} for name in names]

    assert data["users"]["nodes"] == [
        {
            "name": "Ann",
            "byTitle": {"totalCount": 3, "nodes": titles("Zeta", "Beta", "Alpha")},
            "published": {"totalCount": 2, "nodes": titles("Zeta", "Beta")},
            "all": {"totalCount": 4, "nodes": titles("Alpha", "Beta", "Mid", "Zeta")},
            "gone": {"totalCount": 1, "nodes": titles("Mid")},
            "commented": {"nodes": titles("Zeta", "Mid")},
            "firstGone": {
                "totalCount": 1,
                "nodes": titles("Mid"),
                "pageInfo": {"hasNextPage": False},
            },
        },
        {
            "name": "Ben",
            "byTitle": {"totalCount": 1, "nodes": titles("Omega")},
            "published": {"totalCount": 1, "nodes": titles("Omega")},
            "all": {"totalCount": 2, "nodes": titles("Gamma", "Omega")},
            "gone": {"totalCount": 1, "nodes": titles("Gamma")},
            "commented": {"nodes": titles("Omega")},
            "firstGone": {
                "totalCount": 1,
                "nodes": titles("Gamma"),
                "pageInfo": {"hasNextPage": False},
            },
        },
    ]


async def test_where_and_order_by_on_nested_comments(gql: GraphQL, shelves: Dataset) -> None:
    query = """
    { posts(trashed: WITH) { nodes { title
        comments(where: {author: {name: {eq: "Ben"}}}, orderBy: [{field: ID, direction: DESC}]) {
          totalCount nodes { body } }
    } }
      users { nodes { name comments(where: {post: {title: {ne: "Zeta"}}}) { nodes { body } } } }
    }
    """

    data = await gql.data(query)

    def bodies(*texts: str) -> list[dict[str, str]]:
        return [{"body": text} for text in texts]

    assert data == {
        "posts": {
            "nodes": [
                {
                    "title": "Zeta",
                    "comments": {
                        "totalCount": 2,
                        "nodes": bodies("third on zeta", "first on zeta"),
                    },
                },
                {"title": "Alpha", "comments": {"totalCount": 0, "nodes": []}},
                {
                    "title": "Mid",
                    "comments": {"totalCount": 1, "nodes": bodies("on a deleted post")},
                },
                {"title": "Beta", "comments": {"totalCount": 0, "nodes": []}},
                {"title": "Omega", "comments": {"totalCount": 1, "nodes": bodies("own comment")}},
                {"title": "Gamma", "comments": {"totalCount": 0, "nodes": []}},
            ]
        },
        "users": {
            "nodes": [
                {"name": "Ann", "comments": {"nodes": []}},
                {"name": "Ben", "comments": {"nodes": bodies("own comment", "on a deleted post")}},
            ]
        },
    }


async def test_nested_id_filter_of_another_type_is_bad_input(
    gql: GraphQL, shelves: Dataset
) -> None:
    query = """
    query($id: ID!, $other: ID!) {
      user(id: $id) { posts(where: {id: {eq: $other}}) { totalCount } }
    }
    """

    body = await gql(query, {"id": gid("User", shelves.users["ann"]), "other": gid("User", 1)})

    assert body["data"] == {"user": None}
    assert problems(body) == [bad_input(["user", "posts"], "where.id.eq")]


# -- many-to-many: Role.users and User.roles ------------------------------------------


@pytest.fixture
async def memberships(committed_engine: AsyncEngine, gql: GraphQL) -> Dataset:
    """Roles shared by overlapping sets of users, one of them soft-deleted."""
    return await insert_dataset(
        committed_engine,
        users=[
            {"key": f"m{index}", "name": f"M{index}", "email": f"m{index}@example.com"}
            for index in range(1, 8)
        ]
        + [{"key": "gone", "name": "Gone", "email": "gone@example.com", "deleted_at": at(9)}],
        roles=[
            {"key": "zeta", "name": "zeta"},
            {"key": "alpha", "name": "alpha"},
            {"key": "mid", "name": "mid"},
            {"key": "empty", "name": "empty"},
        ],
        memberships=[
            ("m5", "zeta"),
            ("m1", "zeta"),
            ("gone", "zeta"),
            ("m3", "zeta"),
            ("m7", "zeta"),
            ("m2", "alpha"),
            ("m1", "alpha"),
            ("m6", "alpha"),
            ("m1", "mid"),
            ("gone", "mid"),
            ("m4", "mid"),
        ],
    )


MEMBERS = {
    "zeta": ["M1", "M3", "M5", "M7"],
    "alpha": ["M1", "M2", "M6"],
    "mid": ["M1", "M4"],
    "empty": [],
}


@pytest.mark.parametrize("size", [1, 2, 3, 4])
async def test_role_users_are_paged_per_role(gql: GraphQL, memberships: Dataset, size: int) -> None:
    query = f"""
    {{ roles {{ nodes {{ name users(first: {size}) {{
        totalCount nodes {{ name }} pageInfo {{ hasNextPage hasPreviousPage }} }} }} }} }}
    """

    data = await gql.data(query)

    assert data["roles"]["nodes"] == [
        {
            "name": role,
            "users": {
                "totalCount": len(members),
                "nodes": [{"name": name} for name in members[:size]],
                "pageInfo": {"hasNextPage": len(members) > size, "hasPreviousPage": False},
            },
        }
        for role, members in MEMBERS.items()
    ]


async def test_role_users_with_last_order_and_filter(gql: GraphQL, memberships: Dataset) -> None:
    query = """
    { roles(orderBy: [{field: NAME}]) { nodes { name
        last: users(last: 2) { nodes { name } }
        desc: users(first: 2, orderBy: [{field: NAME, direction: DESC}]) { nodes { name } }
        odd: users(where: {name: {in: ["M1", "M3", "M7", "Gone"]}}) { totalCount nodes { name } }
    } } }
    """

    data = await gql.data(query)

    def names(*values: str) -> list[dict[str, str]]:
        return [{"name": value} for value in values]

    assert data["roles"]["nodes"] == [
        {
            "name": "alpha",
            "last": {"nodes": names("M2", "M6")},
            "desc": {"nodes": names("M6", "M2")},
            "odd": {"totalCount": 1, "nodes": names("M1")},
        },
        {
            "name": "empty",
            "last": {"nodes": []},
            "desc": {"nodes": []},
            "odd": {"totalCount": 0, "nodes": []},
        },
        {
            "name": "mid",
            "last": {"nodes": names("M1", "M4")},
            "desc": {"nodes": names("M4", "M1")},
            "odd": {"totalCount": 1, "nodes": names("M1")},
        },
        {
            "name": "zeta",
            "last": {"nodes": names("M5", "M7")},
            "desc": {"nodes": names("M7", "M5")},
            "odd": {"totalCount": 3, "nodes": names("M1", "M3", "M7")},
        },
    ]


async def test_paging_through_one_roles_users(gql: GraphQL, memberships: Dataset) -> None:
    query = """
    query($id: ID!, $after: String) {
      role(id: $id) { users(first: 1, after: $after) {
        nodes { name } pageInfo { hasNextPage endCursor } } }
    }
    """
    variables: dict[str, Any] = {"id": gid("Role", memberships.roles["zeta"]), "after": None}
    names = []
    while True:
        users = (await gql.data(query, variables))["role"]["users"]
        names += [node["name"] for node in users["nodes"]]
        if not users["pageInfo"]["hasNextPage"]:
            break
        variables["after"] = users["pageInfo"]["endCursor"]

    assert names == MEMBERS["zeta"]


async def test_user_roles_are_in_id_order(gql: GraphQL, memberships: Dataset) -> None:
    query = "{ users(trashed: WITH) { nodes { name roles { id name } } } }"

    data = await gql.data(query)

    def roles(*keys: str) -> list[dict[str, str]]:
        return [{"id": gid("Role", memberships.roles[key]), "name": key} for key in keys]

    assert data["users"]["nodes"] == [
        {"name": "M1", "roles": roles("zeta", "alpha", "mid")},
        {"name": "M2", "roles": roles("alpha")},
        {"name": "M3", "roles": roles("zeta")},
        {"name": "M4", "roles": roles("mid")},
        {"name": "M5", "roles": roles("zeta")},
        {"name": "M6", "roles": roles("alpha")},
        {"name": "M7", "roles": roles("zeta")},
        {"name": "Gone", "roles": roles("zeta", "mid")},
    ]


async def test_roles_and_their_users_and_their_roles(gql: GraphQL, memberships: Dataset) -> None:
    query = """
    query($id: ID!) { role(id: $id) { users(first: 2) { nodes { name roles { name } } } } }
    """

    data = await gql.data(query, {"id": gid("Role", memberships.roles["mid"])})

    assert data == {
        "role": {
            "users": {
                "nodes": [
                    {"name": "M1", "roles": [{"name": "zeta"}, {"name": "alpha"}, {"name": "mid"}]},
                    {"name": "M4", "roles": [{"name": "mid"}]},
                ]
            }
        }
    }
