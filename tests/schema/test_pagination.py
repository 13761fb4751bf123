"""Relay cursor connections: page sizes, paging both ways, cursors and ``totalCount``."""

from __future__ import annotations

import base64
import json
import math
from typing import Any

import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from models import User
from tests.api import Dataset, GraphQL, at, gid, insert_dataset
from tests.schema.support import (
    CROWD_USERS,
    bad_input,
    crowd_posts_of,
    nodes_of,
    problems,
    walk_backward,
    walk_forward,
)

PAGE = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"


def cursor_of(payload: Any) -> str:
    """A hand-made cursor (the format is opaque to clients, but tests may forge one)."""
    raw = payload if isinstance(payload, str) else json.dumps(payload)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


# -- page sizes -------------------------------------------------------------------


async def test_default_page_size_is_20(gql: GraphQL, crowd: Dataset) -> None:
    data = await gql.data("{ users { totalCount nodes { name } pageInfo { hasNextPage } } }")

    assert data == {
        "users": {
            "totalCount": 25,
            "nodes": [{"name": f"User {index:02}"} for index in range(20)],
            "pageInfo": {"hasNextPage": True},
        }
    }


async def test_default_page_size_of_another_list(gql: GraphQL, crowd: Dataset) -> None:
    data = await gql.data("{ posts { nodes { title } } }")

    assert len(data["posts"]["nodes"]) == 20
    assert data["posts"]["nodes"][0] == {"title": "Post 01.0"}


@pytest.mark.parametrize(
    ("field", "arguments", "count"),
    [
        pytest.param("posts", "first: 100", 60, id="first-100"),
        pytest.param("posts", "last: 100", 60, id="last-100"),
        pytest.param("comments", "first: 100", 96, id="comments-first-100"),
        pytest.param("users", "first: 25", 25, id="exactly-all"),
    ],
)
async def test_the_maximum_page_size_is_allowed(
    gql: GraphQL, crowd: Dataset, field: str, arguments: str, count: int
) -> None:
    info = "pageInfo { hasNextPage hasPreviousPage }"
    data = await gql.data(f"{{ {field}({arguments}) {{ nodes {{ id }} {info} }} }}")

    assert len(data[field]["nodes"]) == count
    assert data[field]["pageInfo"] == {"hasNextPage": False, "hasPreviousPage": False}


@pytest.mark.parametrize(
    ("field", "arguments", "fields"),
    [
        pytest.param("users", "first: 101", ["first"], id="first-over-max"),
        pytest.param("users", "last: 101", ["last"], id="last-over-max"),
        pytest.param("users", "first: 1000000", ["first"], id="first-far-over-max"),
        pytest.param("users", "first: -1", ["first"], id="first-negative"),
        pytest.param("users", "last: -1", ["last"], id="last-negative"),
        pytest.param("users", "first: 1, last: 1", ["last"], id="first-and-last"),
        pytest.param("users", "first: 0, last: 0", ["last"], id="first-and-last-zero"),
        pytest.param("users", "first: -1, last: 200", ["first", "last"], id="every-problem"),
        pytest.param("users", 'first: 101, after: "nope"', ["after", "first"], id="with-cursor"),
        pytest.param("posts", "first: 101", ["first"], id="posts"),
        pytest.param("comments", "last: 101", ["last"], id="comments"),
        pytest.param("roles", "first: -3", ["first"], id="roles"),
    ],
)
async def test_page_size_rules(
    gql: GraphQL, blog: Dataset, field: str, arguments: str, fields: list[str]
) -> None:
    body = await gql(f"{{ {field}({arguments}) {{ nodes {{ id }} }} }}")

    assert body["data"] is None  # the connection is non-null
    assert problems(body) == [bad_input([field], *fields)]


async def test_page_size_from_a_variable(gql: GraphQL, blog: Dataset) -> None:
    query = "query($n: Int) { users(first: $n) { nodes { name } } }"

    assert problems(await gql(query, {"n": 101})) == [bad_input(["users"], "first")]
    assert await gql.data(query, {"n": 1}) == {"users": {"nodes": [{"name": "Ada Lovelace"}]}}
    assert len((await gql.data(query, {"n": None}))["users"]["nodes"]) == 3


async def test_page_size_error_leaves_sibling_fields(gql: GraphQL, blog: Dataset) -> None:
    body = await gql('{ roles(first: 1) { nodes { name } } user(id: "x") { name } }')

    assert body["data"] == {"roles": {"nodes": [{"name": "admin"}]}, "user": None}
    assert problems(body) == [bad_input(["user"], "id")]


@pytest.mark.parametrize(
    ("arguments", "expected_info"),
    [
        pytest.param(
            "first: 0",
            {"hasNextPage": True, "hasPreviousPage": False, "startCursor": None, "endCursor": None},
            id="first-0",
        ),
        pytest.param(
            "last: 0",
            {"hasNextPage": False, "hasPreviousPage": True, "startCursor": None, "endCursor": None},
            id="last-0",
        ),
    ],
)
async def test_page_size_0_returns_no_rows(
    gql: GraphQL, blog: Dataset, arguments: str, expected_info: dict[str, Any]
) -> None:
    data = await gql.data(
        f"{{ users({arguments}) {{ totalCount nodes {{ id }} edges {{ cursor }} {PAGE} }} }}"
    )

    assert data == {"users": {"totalCount": 3, "nodes": [], "edges": [], "pageInfo": expected_info}}


async def test_first_0_of_an_empty_list_has_no_next_page(gql: GraphQL) -> None:
    data = await gql.data(f"{{ users(first: 0) {{ totalCount nodes {{ id }} {PAGE} }} }}")

    assert data == {
        "users": {
            "totalCount": 0,
            "nodes": [],
            "pageInfo": {
                "hasNextPage": False,
                "hasPreviousPage": False,
                "startCursor": None,
                "endCursor": None,
            },
        }
    }


async def test_first_0_after_a_cursor(gql: GraphQL, blog: Dataset) -> None:
    first = await gql.data("{ users(first: 1) { pageInfo { endCursor } } }")
    after = first["users"]["pageInfo"]["endCursor"]
    query = (
        f"query($after: String) {{ users(first: 0, after: $after) {{ nodes {{ id }} {PAGE} }} }}"
    )

    data = await gql.data(query, {"after": after})

    assert data["users"]["nodes"] == []
    assert data["users"]["pageInfo"]["hasNextPage"] is True
    assert data["users"]["pageInfo"]["hasPreviousPage"] is True


async def test_an_empty_list(gql: GraphQL) -> None:
    data = await gql.data(f"{{ posts {{ totalCount nodes {{ id }} edges {{ cursor }} {PAGE} }} }}")

    assert data == {
        "posts": {
            "totalCount": 0,
            "nodes": [],
            "edges": [],
            "pageInfo": {
                "hasNextPage": False,
                "hasPreviousPage": False,
                "startCursor": None,
                "endCursor": None,
            },
        }
    }


# -- paging through a whole list --------------------------------------------------


@pytest.fixture
async def tied(committed_engine: AsyncEngine, gql: GraphQL) -> Dataset:
    """13 users whose names and creation times repeat, so orders need their tie-breaker."""
    return await insert_dataset(
        committed_engine,
        users=[
            {
                "key": f"t{index:02}",
                "name": ["Kim", "Lee", "Max"][index % 3],
                "email": f"t{index:02}@example.com",
                "created_at": at(index % 4),
                "updated_at": at(20 - index),
            }
            for index in range(13)
        ],
    )


ORDERS = [
    pytest.param("", id="default"),
    pytest.param(", orderBy: [{field: ID, direction: DESC}]", id="id-desc"),
    pytest.param(", orderBy: [{field: NAME}]", id="name-asc"),
    pytest.param(", orderBy: [{field: NAME, direction: DESC}]", id="name-desc"),
    pytest.param(
        ", orderBy: [{field: NAME}, {field: CREATED_AT, direction: DESC}]",
        id="name-asc-created-desc",
    ),
    pytest.param(
        ", orderBy: [{field: CREATED_AT, direction: DESC}, {field: NAME}]",
        id="created-desc-name-asc",
    ),
    pytest.param(
        ", orderBy: [{field: CREATED_AT}, {field: EMAIL, direction: DESC}, {field: UPDATED_AT}]",
        id="three-keys",
    ),
    pytest.param(', where: {name: {ne: "Lee"}}, orderBy: [{field: CREATED_AT}]', id="filtered"),
]


async def all_rows(gql: GraphQL, arguments: str) -> list[dict[str, Any]]:
    data = await gql.data(f"{{ users(first: 100{arguments}) {{ nodes {{ name email }} }} }}")
    rows: list[dict[str, Any]] = data["users"]["nodes"]
    return rows


@pytest.mark.parametrize("arguments", ORDERS)
@pytest.mark.parametrize("size", [1, 4, 13, 20])
async def test_paging_forward_gives_every_row_once_in_order(
    gql: GraphQL, tied: Dataset, arguments: str, size: int
) -> None:
    expected = await all_rows(gql, arguments)

    pages = await walk_forward(gql, "users", size, arguments, "name email")

    assert nodes_of(pages) == expected
    assert len(pages) == max(1, math.ceil(len(expected) / size))
    assert [page["pageInfo"]["hasNextPage"] for page in pages] == [True] * (len(pages) - 1) + [
        False
    ]


@pytest.mark.parametrize("arguments", ORDERS)
@pytest.mark.parametrize("size", [1, 4, 13])
async def test_paging_backward_gives_every_row_once_in_order(
    gql: GraphQL, tied: Dataset, arguments: str, size: int
) -> None:
    expected = await all_rows(gql, arguments)

    pages = await walk_backward(gql, "users", size, arguments, "name email")

    assert nodes_of(list(reversed(pages))) == expected
    assert len(pages) == max(1, math.ceil(len(expected) / size))
    assert [page["pageInfo"]["hasPreviousPage"] for page in pages] == [True] * (len(pages) - 1) + [
        False
    ]


async def test_the_order_of_the_rows_is_what_the_keys_say(gql: GraphQL, tied: Dataset) -> None:
    rows = await all_rows(gql, ", orderBy: [{field: NAME}, {field: CREATED_AT, direction: DESC}]")

    # Kim: t00 t03 t06 t09 t12, created at 0 3 2 1 0 hours: by time descending, then id descending.
    assert [row["email"][:3] for row in rows] == [
        "t03", "t06", "t09", "t12", "t00",
        "t07", "t10", "t01", "t04",
        "t11", "t02", "t05", "t08",
    ]  # fmt: skip


async def test_edges_hold_the_nodes_and_their_cursors(gql: GraphQL, blog: Dataset) -> None:
    data = await gql.data(
        f"{{ posts(first: 3) {{ nodes {{ title }} edges {{ cursor node {{ title }} }} {PAGE} }} }}"
    )

    posts = data["posts"]
    assert [edge["node"] for edge in posts["edges"]] == posts["nodes"]
    assert posts["nodes"] == [
        {"title": "Analytical Engine"},
        {"title": "Notes on Bernoulli"},
        {"title": "Building things"},
    ]
    cursors = [edge["cursor"] for edge in posts["edges"]]
    assert len(set(cursors)) == 3
    assert posts["pageInfo"]["startCursor"] == cursors[0]
    assert posts["pageInfo"]["endCursor"] == cursors[-1]


async def test_a_cursor_is_the_same_whichever_page_shows_the_row(
    gql: GraphQL, blog: Dataset
) -> None:
    one = await gql.data("{ users(first: 3) { edges { cursor } } }")
    two = await gql.data("{ users(last: 1) { edges { cursor } } }")

    assert one["users"]["edges"][2] == two["users"]["edges"][0]


# -- windows: after and before together, and last with after ------------------------


async def cursors_of(gql: GraphQL) -> list[str]:
    data = await gql.data("{ users(first: 100) { edges { cursor } } }")
    return [edge["cursor"] for edge in data["users"]["edges"]]


@pytest.mark.parametrize(
    ("arguments", "expected", "info"),
    [
        pytest.param(
            "first: 10, after: $a, before: $b",
            [3, 4, 5, 6],
            {"hasNextPage": False, "hasPreviousPage": True},
            id="first-between",
        ),
        pytest.param(
            "first: 2, after: $a, before: $b",
            [3, 4],
            {"hasNextPage": True, "hasPreviousPage": True},
            id="first-between-cut",
        ),
        pytest.param(
            "last: 10, after: $a, before: $b",
            [3, 4, 5, 6],
            {"hasNextPage": True, "hasPreviousPage": False},
            id="last-between",
        ),
        pytest.param(
            "last: 2, after: $a, before: $b",
            [5, 6],
            {"hasNextPage": True, "hasPreviousPage": True},
            id="last-between-cut",
        ),
        pytest.param(
            "last: 2, after: $a",
            [12, 13],
            {"hasNextPage": False, "hasPreviousPage": True},
            id="last-after",
        ),
        pytest.param(
            "first: 2, before: $b",
            [1, 2],
            {"hasNextPage": True, "hasPreviousPage": False},
            id="first-before",
        ),
        pytest.param(
            "after: $b, before: $a",
            [],
            {"hasNextPage": False, "hasPreviousPage": True},
            id="crossed-cursors",
        ),
    ],
)
async def test_windows_between_cursors(
    gql: GraphQL, tied: Dataset, arguments: str, expected: list[int], info: dict[str, bool]
) -> None:
    cursors = await cursors_of(gql)  # row n has cursors[n - 1]
    variables = {name: value for name, value in [("a", cursors[1]), ("b", cursors[6])]}
    used = {name: value for name, value in variables.items() if f"${name}" in arguments}
    declared = ", ".join(f"${name}: String" for name in used)
    query = (
        f"query({declared}) "
        f"{{ users({arguments}) {{ nodes {{ email }} "
        "pageInfo { hasNextPage hasPreviousPage } } }"
    )

    data = await gql.data(query, used)

    assert data == {
        "users": {
            "nodes": [{"email": f"t{n - 1:02}@example.com"} for n in expected],
            "pageInfo": info,
        }
    }


# -- bad cursors ------------------------------------------------------------------

MALFORMED_CURSORS = [
    pytest.param("", id="empty"),
    pytest.param("not a cursor!", id="garbage"),
    pytest.param("é", id="non-ascii"),
    pytest.param(cursor_of("not json"), id="not-json"),
    pytest.param(cursor_of({"a": 1}), id="an-object"),
    pytest.param(cursor_of([1, "id:a"]), id="too-short"),
    pytest.param(cursor_of(7), id="a-number"),
    pytest.param(cursor_of([2, "id:a", [1]]), id="unknown-version"),
    pytest.param(cursor_of([1, "id:a", 1]), id="values-not-a-list"),
    pytest.param(cursor_of([1, "id:a", []]), id="no-values"),
    pytest.param(cursor_of([1, "id:a", [1, 2]]), id="too-many-values"),
    pytest.param(cursor_of([1, "id:a", ["1"]]), id="id-a-string"),
    pytest.param(cursor_of([1, "id:a", [1.5]]), id="id-a-float"),
    pytest.param(cursor_of([1, "id:a", [True]]), id="id-a-boolean"),
    pytest.param(cursor_of([1, "id:a", [None]]), id="id-null"),
    pytest.param(cursor_of([1, "id:a", [2**31]]), id="id-out-of-int32"),
    pytest.param(cursor_of([1, "id:a", [2**70]]), id="id-out-of-int64"),
    pytest.param(cursor_of("[" * 100_000), id="deeply-nested"),
]


@pytest.mark.parametrize("argument", ["after", "before"])
@pytest.mark.parametrize("cursor", MALFORMED_CURSORS)
async def test_a_malformed_cursor_is_bad_input(
    gql: GraphQL, blog: Dataset, argument: str, cursor: str
) -> None:
    query = f"query($c: String) {{ users({argument}: $c) {{ nodes {{ id }} }} }}"

    body = await gql(query, {"c": cursor})

    assert body["data"] is None
    assert problems(body) == [bad_input(["users"], argument)]


@pytest.mark.parametrize(
    ("value", "order"),
    [
        pytest.param("yesterday", "CREATED_AT", id="datetime-not-a-date"),
        pytest.param(5, "CREATED_AT", id="datetime-a-number"),
        pytest.param(5, "NAME", id="string-a-number"),
        pytest.param(None, "EMAIL", id="string-null"),
        pytest.param("a\x00b", "NAME", id="string-with-nul"),
        pytest.param("0001-01-01T00:00:00+01:00", "CREATED_AT", id="datetime-before-year-1"),
        pytest.param("9999-12-31T23:59:59-01:00", "CREATED_AT", id="datetime-after-year-9999"),
    ],
)
async def test_a_cursor_with_a_value_of_the_wrong_type_is_bad_input(
    gql: GraphQL, blog: Dataset, value: Any, order: str
) -> None:
    column = {"CREATED_AT": "created_at", "NAME": "name", "EMAIL": "email"}[order]
    cursor = cursor_of([1, f"{column}:a,id:a", [value, 1]])
    order_by = f"orderBy: [{{field: {order}}}]"
    query = f"query($c: String) {{ users(after: $c, {order_by}) {{ nodes {{ id }} }} }}"

    body = await gql(query, {"c": cursor})

    assert body["data"] is None
    assert problems(body) == [bad_input(["users"], "after")]


@pytest.mark.parametrize(
    ("made_for", "used_with"),
    [
        pytest.param("", "orderBy: [{field: NAME}]", id="default-used-with-name"),
        pytest.param("", "orderBy: [{field: ID, direction: DESC}]", id="id-asc-used-with-id-desc"),
        pytest.param(
            "orderBy: [{field: NAME}]",
            "orderBy: [{field: NAME, direction: DESC}]",
            id="another-direction",
        ),
        pytest.param("orderBy: [{field: NAME}]", "orderBy: [{field: EMAIL}]", id="another-field"),
        pytest.param(
            "orderBy: [{field: NAME}]",
            "orderBy: [{field: NAME}, {field: CREATED_AT}]",
            id="another-number-of-keys",
        ),
        pytest.param(
            "orderBy: [{field: NAME}, {field: CREATED_AT, direction: DESC}]",
            "orderBy: [{field: NAME}, {field: CREATED_AT}]",
            id="another-direction-of-the-second-key",
        ),
        pytest.param("orderBy: [{field: NAME}]", "", id="name-used-with-default"),
    ],
)
@pytest.mark.parametrize("argument", ["after", "before"])
async def test_a_cursor_of_another_order_is_bad_input(
    gql: GraphQL, blog: Dataset, made_for: str, used_with: str, argument: str
) -> None:
    made = await gql.data(f"{{ users(first: 1, {made_for}) {{ pageInfo {{ endCursor }} }} }}")
    cursor = made["users"]["pageInfo"]["endCursor"]
    query = f"query($c: String) {{ users({argument}: $c, {used_with}) {{ nodes {{ id }} }} }}"

    body = await gql(query, {"c": cursor})

    assert body["data"] is None
    assert problems(body) == [bad_input(["users"], argument)]


async def test_a_cursor_of_the_same_order_written_differently_is_accepted(
    gql: GraphQL, blog: Dataset
) -> None:
    made = await gql.data("{ users(first: 1) { pageInfo { endCursor } } }")
    cursor = made["users"]["pageInfo"]["endCursor"]
    query = "query($c: String) { users(after: $c, orderBy: [{field: ID}]) { nodes { name } } }"

    data = await gql.data(query, {"c": cursor})

    assert data == {"users": {"nodes": [{"name": "Bob Builder"}, {"name": "Dee Quiet"}]}}


# -- cursor stability -------------------------------------------------------------


@pytest.fixture
async def timeline(committed_engine: AsyncEngine, gql: GraphQL) -> Dataset:
    """Ten users created an hour apart, from at(10) to at(19)."""
    return await insert_dataset(
        committed_engine,
        users=[
            {
                "key": f"s{index}",
                "name": f"S{index}",
                "email": f"s{index}@example.com",
                "created_at": at(10 + index),
            }
            for index in range(10)
        ],
    )


BY_CREATED = "orderBy: [{field: CREATED_AT}]"


async def test_paging_on_after_rows_ahead_of_the_cursor_change(
    gql: GraphQL, committed_engine: AsyncEngine, timeline: Dataset
) -> None:
    first = await gql.data(f"{{ users(first: 4, {BY_CREATED}) {{ nodes {{ name }} {PAGE} }} }}")
    assert first["users"]["nodes"] == [{"name": f"S{index}"} for index in range(4)]
    cursor = first["users"]["pageInfo"]["endCursor"]

    # Delete every row up to the cursor's (itself included) and insert rows ahead of it:
    # earlier ones, one at the same time (a later id: after it) and one later.
    async with committed_engine.begin() as connection:
        gone = [timeline.users[f"s{index}"] for index in range(4)]
        await connection.execute(delete(User).where(User.id.in_(gone)))
    await insert_dataset(
        committed_engine,
        users=[
            {"key": "early", "name": "Early", "email": "early@example.com", "created_at": at(1)},
            {"key": "just", "name": "Just", "email": "just@example.com", "created_at": at(12.5)},
            {"key": "tie", "name": "Tie", "email": "tie@example.com", "created_at": at(13)},
            {"key": "late", "name": "Late", "email": "late@example.com", "created_at": at(14.5)},
        ],
    )
    query = (
        f"query($c: String) {{ users(first: 4, after: $c, {BY_CREATED}) "
        f"{{ nodes {{ name }} {PAGE} }} }}"
    )

    second = await gql.data(query, {"c": cursor})

    assert second["users"]["nodes"] == [
        {"name": "Tie"},
        {"name": "S4"},
        {"name": "Late"},
        {"name": "S5"},
    ]
    assert second["users"]["pageInfo"]["hasNextPage"] is True
    assert second["users"]["pageInfo"]["hasPreviousPage"] is True


async def test_paging_backward_continues_before_a_deleted_cursor_row(
    gql: GraphQL, committed_engine: AsyncEngine, timeline: Dataset
) -> None:
    last = await gql.data(f"{{ users(last: 3, {BY_CREATED}) {{ nodes {{ name }} {PAGE} }} }}")
    assert last["users"]["nodes"] == [{"name": "S7"}, {"name": "S8"}, {"name": "S9"}]
    cursor = last["users"]["pageInfo"]["startCursor"]
    async with committed_engine.begin() as connection:
        gone = [timeline.users[key] for key in ("s7", "s8", "s6")]
        await connection.execute(delete(User).where(User.id.in_(gone)))
    await insert_dataset(
        committed_engine,
        users=[{"key": "new", "name": "New", "email": "new@example.com", "created_at": at(16.5)}],
    )
    query = (
        f"query($c: String) {{ users(last: 3, before: $c, {BY_CREATED}) {{ nodes {{ name }} }} }}"
    )

    data = await gql.data(query, {"c": cursor})

    assert data == {"users": {"nodes": [{"name": "S4"}, {"name": "S5"}, {"name": "New"}]}}


async def test_paging_by_id_skips_deleted_rows(
    gql: GraphQL, committed_engine: AsyncEngine, timeline: Dataset
) -> None:
    first = await gql.data("{ users(first: 2) { pageInfo { endCursor } } }")
    async with committed_engine.begin() as connection:
        gone = [timeline.users[key] for key in ("s1", "s2", "s3")]
        await connection.execute(delete(User).where(User.id.in_(gone)))
    query = "query($c: String) { users(first: 2, after: $c) { nodes { name } } }"

    data = await gql.data(query, {"c": first["users"]["pageInfo"]["endCursor"]})

    assert data == {"users": {"nodes": [{"name": "S4"}, {"name": "S5"}]}}


# -- totalCount ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "arguments", "total"),
    [
        pytest.param("users", "first: 1", 3, id="users"),
        pytest.param("users", "first: 0", 3, id="users-first-0"),
        pytest.param("users", "last: 1", 3, id="users-last"),
        pytest.param("users", "first: 1, trashed: WITH", 4, id="users-with-trashed"),
        pytest.param("users", "first: 1, trashed: ONLY", 1, id="users-only-trashed"),
        pytest.param("users", 'where: {name: {startsWith: "B"}}', 1, id="users-filtered"),
        pytest.param(
            "users", 'trashed: WITH, where: {name: {contains: "o"}}', 3, id="users-filtered-trashed"
        ),
        pytest.param("posts", "first: 2", 5, id="posts"),
        pytest.param("posts", "first: 2, trashed: WITH", 6, id="posts-with-trashed"),
        pytest.param("posts", "trashed: ONLY", 1, id="posts-only-trashed"),
        pytest.param(
            "posts", "where: {published: {eq: true}}, trashed: WITH", 5, id="posts-filtered"
        ),
        pytest.param("comments", "first: 1", 5, id="comments"),
        pytest.param(
            "comments", 'where: {author: {name: {eq: "Bob Builder"}}}', 2, id="comments-filtered"
        ),
        pytest.param("roles", "last: 1", 3, id="roles"),
        pytest.param("roles", 'where: {name: {in: ["admin", "nobody"]}}', 1, id="roles-filtered"),
    ],
)
async def test_total_count_ignores_the_page_but_not_the_filter(
    gql: GraphQL, blog: Dataset, field: str, arguments: str, total: int
) -> None:
    data = await gql.data(f"{{ {field}({arguments}) {{ totalCount }} }}")

    assert data == {field: {"totalCount": total}}


async def test_total_count_ignores_the_cursor(gql: GraphQL, crowd: Dataset) -> None:
    first = await gql.data("{ users(first: 10) { pageInfo { endCursor } } }")
    query = "query($c: String) { users(first: 3, after: $c) { totalCount nodes { name } } }"

    data = await gql.data(query, {"c": first["users"]["pageInfo"]["endCursor"]})

    assert data["users"]["totalCount"] == CROWD_USERS
    assert data["users"]["nodes"] == [{"name": "User 10"}, {"name": "User 11"}, {"name": "User 12"}]


async def test_nested_total_count(gql: GraphQL, crowd: Dataset) -> None:
    query = """
    { users(first: 25) { nodes { name posts(first: 1) { totalCount } } } }
    """

    data = await gql.data(query)

    assert data["users"]["nodes"] == [
        {"name": f"User {u:02}", "posts": {"totalCount": crowd_posts_of(u)}}
        for u in range(CROWD_USERS)
    ]


# -- page-size rules in nested connections ------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "fields"),
    [
        pytest.param("first: 101", ["first"], id="first-over-max"),
        pytest.param("last: 101", ["last"], id="last-over-max"),
        pytest.param("first: -1", ["first"], id="first-negative"),
        pytest.param("last: -2", ["last"], id="last-negative"),
        pytest.param("first: 1, last: 1", ["last"], id="first-and-last"),
        pytest.param('after: "bad"', ["after"], id="malformed-cursor"),
    ],
)
async def test_page_size_rules_hold_in_nested_connections(
    gql: GraphQL, blog: Dataset, arguments: str, fields: list[str]
) -> None:
    body = await gql(f"{{ users(first: 1) {{ nodes {{ posts({arguments}) {{ totalCount }} }} }} }}")

    assert body["data"] is None  # posts and every type above it are non-null
    assert problems(body) == [bad_input(["users", "nodes", 0, "posts"], *fields)]


async def test_page_size_rules_are_checked_per_parent(gql: GraphQL, blog: Dataset) -> None:
    query = """
    query($a: ID!, $b: ID!) {
      a: user(id: $a) { posts(first: 101) { totalCount } }
      b: user(id: $b) { posts(first: 101) { totalCount } }
    }
    """

    body = await gql(query, {"a": gid("User", blog.users["ada"]), "b": gid("User", 999)})

    assert body["data"] == {"a": None, "b": None}
    assert problems(body) == [
        bad_input(["a", "posts"], "first"),
        {"path": ["b"], "code": "NOT_FOUND", "model": "User", "id": gid("User", 999)},
    ]


@pytest.mark.parametrize(
    "query",
    [
        pytest.param(
            "{ roles(first: 1) { nodes { users(first: 101) { totalCount } } } }", id="role-users"
        ),
        pytest.param(
            "{ posts(first: 1) { nodes { comments(last: 101) { totalCount } } } }",
            id="post-comments",
        ),
        pytest.param(
            "{ users(first: 1) { nodes { comments(first: -1) { totalCount } } } }",
            id="user-comments",
        ),
    ],
)
async def test_page_size_rules_hold_in_every_nested_connection(
    gql: GraphQL, blog: Dataset, query: str
) -> None:
    body = await gql(query)

    assert body["data"] is None
    assert [problem["code"] for problem in problems(body)] == ["BAD_USER_INPUT"]


async def test_nested_page_size_error_under_a_lookup_nulls_only_the_lookup(
    gql: GraphQL, blog: Dataset
) -> None:
    query = """
    query($id: ID!) { user(id: $id) { name posts(first: 101) { totalCount } } roles { totalCount } }
    """

    body = await gql(query, {"id": gid("User", blog.users["ada"])})

    assert body["data"] == {"user": None, "roles": {"totalCount": 3}}
    assert problems(body) == [bad_input(["user", "posts"], "first")]


async def test_nested_maximum_and_zero_page_sizes(gql: GraphQL, crowd: Dataset) -> None:
    query = """
    { users(first: 6) { nodes {
        all: posts(first: 100) { totalCount nodes { title } }
        none: posts(first: 0) { nodes { title } pageInfo { hasNextPage hasPreviousPage } }
    } } }
    """

    data = await gql.data(query)

    assert data["users"]["nodes"] == [
        {
            "all": {
                "totalCount": crowd_posts_of(u),
                "nodes": [{"title": f"Post {u:02}.{p}"} for p in range(crowd_posts_of(u))],
            },
            "none": {
                "nodes": [],
                "pageInfo": {"hasNextPage": crowd_posts_of(u) > 0, "hasPreviousPage": False},
            },
        }
        for u in range(6)
    ]
