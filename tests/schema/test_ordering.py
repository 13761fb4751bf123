"""``orderBy``: every order field of every type, in turn, with ``id`` breaking ties."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.api import Dataset, GraphQL, at, gid, insert_dataset

# Rows with ties on every field but the id, so the tie-breaker shows.
USERS = [
    {"key": key, "name": name, "email": f"{mail}@example.com", "created_at": at(created),
     "updated_at": at(updated)}
    for key, name, mail, created, updated in [
        ("u1", "Bea", "zed", 3, 10),
        ("u2", "Ann", "amy", 1, 12),
        ("u3", "Cal", "cal", 3, 11),
        ("u4", "Ann", "bob", 2, 10),
        ("u5", "Bea", "eve", 1, 12),
        ("u6", "Ann", "dan", 3, 11),
    ]
]  # fmt: skip
POSTS = [
    {"key": key, "author": author, "title": title, "created_at": at(created),
     "updated_at": at(updated)}
    for key, author, title, created, updated in [
        ("p1", "u1", "Beta", 5, 6),
        ("p2", "u1", "Alpha", 4, 6),
        ("p3", "u2", "Beta", 4, 7),
        ("p4", "u2", "Gamma", 5, 5),
        ("p5", "u3", "Alpha", 6, 7),
    ]
]  # fmt: skip
COMMENTS = [
    {"key": key, "post": post, "author": author, "created_at": at(created),
     "updated_at": at(updated)}
    for key, post, author, created, updated in [
        ("c1", "p1", "u1", 2, 3),
        ("c2", "p1", "u2", 1, 3),
        ("c3", "p2", "u1", 2, 2),
        ("c4", "p3", "u3", 1, 4),
        ("c5", "p3", "u2", 2, 4),
    ]
]  # fmt: skip
ROLES = [
    {"key": "r1", "name": "editor", "created_at": at(2)},
    {"key": "r2", "name": "admin", "created_at": at(1)},
    {"key": "r3", "name": "reader", "created_at": at(2)},
    {"key": "r4", "name": "author", "created_at": at(1)},
]
ROWS: dict[str, list[dict[str, Any]]] = {
    "users": USERS,
    "posts": POSTS,
    "comments": COMMENTS,
    "roles": ROLES,
}
TYPE_NAMES = {"users": "User", "posts": "Post", "comments": "Comment", "roles": "Role"}
ORDER_TYPES = {
    "users": "UserOrder",
    "posts": "PostOrder",
    "comments": "CommentOrder",
    "roles": "RoleOrder",
}
#: Order fields by the column they sort on.
COLUMNS = {
    "ID": "id",
    "NAME": "name",
    "EMAIL": "email",
    "TITLE": "title",
    "CREATED_AT": "created_at",
    "UPDATED_AT": "updated_at",
}


@pytest.fixture
async def ordered(committed_engine: AsyncEngine, gql: GraphQL) -> Dataset:
    return await insert_dataset(
        committed_engine, users=USERS, posts=POSTS, comments=COMMENTS, roles=ROLES
    )


def expected_keys(
    dataset: Dataset, field: str, order: list[tuple[str, str]], tie_breaker_desc: bool
) -> list[str]:
    """The fixture keys of ``field``'s rows sorted as the contract says: keys in turn, then id."""
    keys_of = getattr(dataset, field)
    rows = sorted(ROWS[field], key=lambda row: keys_of[row["key"]], reverse=tie_breaker_desc)
    for name, direction in reversed(order):  # a stable sort per key, the last key first
        column = COLUMNS[name]

        def value(row: dict[str, Any], column: str = column) -> Any:
            return keys_of[row["key"]] if column == "id" else row[column]

        rows = sorted(rows, key=value, reverse=direction == "DESC")
    return [str(row["key"]) for row in rows]


async def ordered_ids(gql: GraphQL, field: str, order_by: Any) -> list[str]:
    query = (
        f"query($orderBy: [{ORDER_TYPES[field]}!]) "
        f"{{ {field}(orderBy: $orderBy) {{ nodes {{ id }} }} }}"
    )
    data = await gql.data(query, {"orderBy": order_by})
    return [node["id"] for node in data[field]["nodes"]]


def ids(dataset: Dataset, field: str, keys: list[str]) -> list[str]:
    return [gid(TYPE_NAMES[field], getattr(dataset, field)[key]) for key in keys]


SINGLE_KEYS = [
    pytest.param(field, name, direction, id=f"{field}-{name}-{direction}")
    for field, names in [
        ("users", ["ID", "NAME", "EMAIL", "CREATED_AT", "UPDATED_AT"]),
        ("posts", ["ID", "TITLE", "CREATED_AT", "UPDATED_AT"]),
        ("comments", ["ID", "CREATED_AT", "UPDATED_AT"]),
        ("roles", ["ID", "NAME", "CREATED_AT"]),
    ]
    for name in names
    for direction in ("ASC", "DESC")
]


@pytest.mark.parametrize(("field", "name", "direction"), SINGLE_KEYS)
async def test_every_order_field(
    gql: GraphQL, ordered: Dataset, field: str, name: str, direction: str
) -> None:
    expected = expected_keys(ordered, field, [(name, direction)], direction == "DESC")

    actual = await ordered_ids(gql, field, [{"field": name, "direction": direction}])

    assert actual == ids(ordered, field, expected)


@pytest.mark.parametrize(
    ("field", "order_by", "expected"),
    [
        pytest.param(
            "users",
            [{"field": "NAME", "direction": "ASC"}],
            ["u2", "u4", "u6", "u1", "u5", "u3"],
            id="ties-by-id-asc",
        ),
        pytest.param(
            "users",
            [{"field": "NAME", "direction": "DESC"}],
            ["u3", "u5", "u1", "u6", "u4", "u2"],
            id="ties-by-id-desc",
        ),
        pytest.param(
            "users",
            [{"field": "NAME", "direction": "ASC"}, {"field": "CREATED_AT", "direction": "DESC"}],
            ["u6", "u4", "u2", "u1", "u5", "u3"],
            id="name-asc-created-desc",
        ),
        pytest.param(
            "users",
            [{"field": "CREATED_AT", "direction": "DESC"}, {"field": "NAME", "direction": "ASC"}],
            ["u6", "u1", "u3", "u4", "u2", "u5"],
            id="created-desc-name-asc",
        ),
        pytest.param(
            "users",
            [{"field": "UPDATED_AT"}, {"field": "CREATED_AT", "direction": "DESC"}],
            ["u1", "u4", "u6", "u3", "u5", "u2"],
            id="direction-defaults-to-asc",
        ),
        pytest.param(
            "posts",
            [{"field": "TITLE", "direction": "DESC"}, {"field": "UPDATED_AT", "direction": "ASC"}],
            ["p4", "p1", "p3", "p2", "p5"],
            id="posts-title-desc-updated-asc",
        ),
        pytest.param(
            "comments",
            [
                {"field": "UPDATED_AT", "direction": "DESC"},
                {"field": "CREATED_AT", "direction": "DESC"},
            ],
            ["c5", "c4", "c1", "c2", "c3"],
            id="comments-two-keys-desc",
        ),
    ],
)
async def test_several_keys_in_turn(
    gql: GraphQL, ordered: Dataset, field: str, order_by: Any, expected: list[str]
) -> None:
    last = order_by[-1].get("direction", "ASC")
    keys = [(key["field"], key.get("direction", "ASC")) for key in order_by]
    assert expected == expected_keys(ordered, field, keys, last == "DESC")  # the rule, spelled out

    assert await ordered_ids(gql, field, order_by) == ids(ordered, field, expected)


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        pytest.param(None, ["u1", "u2", "u3", "u4", "u5", "u6"], id="default-is-id-asc"),
        pytest.param([], ["u1", "u2", "u3", "u4", "u5", "u6"], id="empty-is-id-asc"),
        pytest.param(
            [{"field": "ID", "direction": "DESC"}, {"field": "NAME"}],
            ["u6", "u5", "u4", "u3", "u2", "u1"],
            id="keys-after-id-change-nothing",
        ),
        pytest.param(
            [{"field": "NAME", "direction": "DESC"}, {"field": "NAME", "direction": "ASC"}],
            ["u3", "u5", "u1", "u6", "u4", "u2"],
            id="a-repeated-key-counts-once",
        ),
        pytest.param(
            [{"field": "NAME"}, {"field": "ID", "direction": "DESC"}],
            ["u6", "u4", "u2", "u5", "u1", "u3"],
            id="explicit-id-key",
        ),
    ],
)
async def test_default_and_degenerate_orders(
    gql: GraphQL, ordered: Dataset, order_by: Any, expected: list[str]
) -> None:
    assert await ordered_ids(gql, "users", order_by) == ids(ordered, "users", expected)


async def test_order_as_a_literal(gql: GraphQL, ordered: Dataset) -> None:
    data = await gql.data("{ roles(orderBy: [{field: NAME, direction: DESC}]) { nodes { name } } }")

    assert data == {
        "roles": {
            "nodes": [{"name": "reader"}, {"name": "editor"}, {"name": "author"}, {"name": "admin"}]
        }
    }


async def test_order_with_a_filter_and_soft_deleted_rows(
    gql: GraphQL, committed_engine: AsyncEngine
) -> None:
    await insert_dataset(
        committed_engine,
        users=[
            {"key": "a", "name": "Bo", "email": "a@example.com"},
            {"key": "b", "name": "Al", "email": "b@example.com", "deleted_at": at(9)},
            {"key": "c", "name": "Cy", "email": "c@example.com"},
            {"key": "d", "name": "Al", "email": "d@example.com"},
        ],
    )
    query = """
    { users(trashed: WITH, where: {name: {ne: "Cy"}}, orderBy: [{field: NAME, direction: DESC}])
      { nodes { email } } }
    """

    data = await gql.data(query)

    assert data == {
        "users": {
            "nodes": [
                {"email": "a@example.com"},
                {"email": "d@example.com"},
                {"email": "b@example.com"},
            ]
        }
    }
