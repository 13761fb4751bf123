"""``DateTime`` output: ISO 8601, ``+00:00``, six fractional digits, and values that filter back."""

from __future__ import annotations

import re
from datetime import timedelta, timezone
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.api import T0, Dataset, GraphQL, insert_dataset
from tests.schema.support import nodes_of, walk_forward

ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00")


async def test_every_timestamp_is_iso_8601_utc_with_microseconds(
    gql: GraphQL, blog: Dataset
) -> None:
    query = """
    { users(trashed: WITH) { nodes { createdAt updatedAt deletedAt } }
      posts(trashed: WITH) { nodes { createdAt updatedAt deletedAt } }
      comments { nodes { createdAt updatedAt } }
      roles { nodes { createdAt updatedAt } } }
    """

    data = await gql.data(query)

    values = [
        value
        for connection in data.values()
        for node in connection["nodes"]
        for value in node.values()
        if value is not None
    ]
    assert len(values) == 4 * 2 + 1 + 6 * 2 + 1 + 5 * 2 + 3 * 2
    assert [value for value in values if not ISO.fullmatch(value)] == []
    # insert_dataset stamps the n-th row of a table at T0 + n hours.
    assert data["roles"]["nodes"][1] == {
        "createdAt": "2024-01-01T02:00:00.000000+00:00",
        "updatedAt": "2024-01-01T02:00:00.000000+00:00",
    }
    assert data["users"]["nodes"][2]["deletedAt"] == "2024-01-05T04:00:00.000000+00:00"


@pytest.fixture
async def instants(committed_engine: AsyncEngine, gql: GraphQL) -> Dataset:
    """Users, posts and comments created microseconds apart, some stored with another offset."""
    plus_five = timezone(timedelta(hours=5))
    created = [
        T0 + timedelta(microseconds=1),
        T0 + timedelta(microseconds=2),
        T0 + timedelta(seconds=59, microseconds=999_999),
        (T0 + timedelta(hours=1, microseconds=123_456)).astimezone(plus_five),
        T0 + timedelta(hours=1, microseconds=123_457),
    ]
    users = [
        {
            "key": f"i{index}",
            "name": f"I{index}",
            "email": f"i{index}@example.com",
            "created_at": moment,
            "updated_at": moment + timedelta(microseconds=10),
        }
        for index, moment in enumerate(created)
    ]
    posts = [
        {"key": f"p{index}", "author": f"i{index}", "title": f"P{index}", "created_at": moment}
        for index, moment in enumerate(created)
    ]
    comments = [
        {"key": f"c{index}", "post": f"p{index}", "author": "i0", "body": f"C{index}"}
        | {"created_at": moment}
        for index, moment in enumerate(created)
    ]
    return await insert_dataset(committed_engine, users=users, posts=posts, comments=comments)


CREATED = [
    "2024-01-01T00:00:00.000001+00:00",
    "2024-01-01T00:00:00.000002+00:00",
    "2024-01-01T00:00:59.999999+00:00",
    "2024-01-01T01:00:00.123456+00:00",
    "2024-01-01T01:00:00.123457+00:00",
]


async def test_microseconds_and_offsets_come_back_in_utc(gql: GraphQL, instants: Dataset) -> None:
    data = await gql.data("{ users { nodes { createdAt updatedAt } } }")

    assert [node["createdAt"] for node in data["users"]["nodes"]] == CREATED
    assert data["users"]["nodes"][0]["updatedAt"] == "2024-01-01T00:00:00.000011+00:00"


@pytest.mark.parametrize(
    ("field", "selection"),
    [
        pytest.param("users", "name", id="users"),
        pytest.param("posts", "title", id="posts"),
        pytest.param("comments", "body", id="comments"),
    ],
)
async def test_a_created_at_read_back_filters_to_the_same_row(
    gql: GraphQL, instants: Dataset, field: str, selection: str
) -> None:
    filter_type = {"users": "UserFilter", "posts": "PostFilter", "comments": "CommentFilter"}
    listed = await gql.data(f"{{ {field} {{ nodes {{ {selection} createdAt }} }} }}")
    query = (
        f"query($where: {filter_type[field]}) "
        f"{{ {field}(where: $where) {{ nodes {{ {selection} createdAt }} }} }}"
    )

    for node in listed[field]["nodes"]:
        found = await gql.data(query, {"where": {"createdAt": {"eq": node["createdAt"]}}})
        assert found == {field: {"nodes": [node]}}


async def test_a_timestamp_the_server_made_filters_back(gql: GraphQL) -> None:
    created = await gql.data(
        'mutation { createUser(input: {name: "Now", email: "now@example.com"}) '
        "{ createdAt updatedAt } }"
    )
    stamp = created["createUser"]["createdAt"]
    assert ISO.fullmatch(stamp)
    query = "query($at: DateTime) { users(where: {createdAt: {eq: $at}}) { nodes { name } } }"

    assert await gql.data(query, {"at": stamp}) == {"users": {"nodes": [{"name": "Now"}]}}
    after = "query($at: DateTime) { users(where: {createdAt: {gt: $at}}) { totalCount } }"
    assert await gql.data(after, {"at": stamp}) == {"users": {"totalCount": 0}}


async def test_paging_by_created_at_keeps_microseconds(gql: GraphQL, instants: Dataset) -> None:
    order = ", orderBy: [{field: CREATED_AT, direction: DESC}]"

    pages = await walk_forward(gql, "users", 1, order, "createdAt")

    assert [node["createdAt"] for node in nodes_of(pages)] == list(reversed(CREATED))


async def test_paging_by_updated_at_keeps_microseconds(gql: GraphQL, instants: Dataset) -> None:
    pages = await walk_forward(gql, "posts", 2, ", orderBy: [{field: UPDATED_AT}]", "title")

    assert [node["title"] for node in nodes_of(pages)] == ["P0", "P1", "P2", "P3", "P4"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("2024-01-01T06:00:00.123456+05:00", ["I3"], id="positive-offset"),
        pytest.param("2023-12-31T20:00:00.123456-05:00", ["I3"], id="negative-offset"),
        pytest.param("2024-01-01T01:00:00.123456", ["I3"], id="no-offset-is-utc"),
        pytest.param("2024-01-01T01:00:00.123456Z", ["I3"], id="zulu"),
        pytest.param("2024-01-01T00:00:00.000001+00:00", ["I0"], id="one-microsecond"),
        pytest.param("2024-01-01T00:00:00+00:00", [], id="no-fraction"),
    ],
)
async def test_datetime_input_in_any_offset(
    gql: GraphQL, instants: Dataset, value: str, expected: list[str]
) -> None:
    query = "query($at: DateTime) { users(where: {createdAt: {eq: $at}}) { nodes { name } } }"

    data: dict[str, Any] = await gql.data(query, {"at": value})

    assert data == {"users": {"nodes": [{"name": name} for name in expected]}}


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("yesterday", id="words"),
        pytest.param("2024-13-01T00:00:00+00:00", id="month-13"),
        pytest.param("2024-01-01T00:00:00+25:00", id="offset-out-of-range"),
        pytest.param(1704067200, id="a-number"),
    ],
)
async def test_a_bad_datetime_variable_is_bad_input(
    gql: GraphQL, instants: Dataset, value: Any
) -> None:
    query = "query($at: DateTime) { users(where: {createdAt: {eq: $at}}) { nodes { name } } }"

    body = await gql(query, {"at": value})

    assert "data" not in body
    assert [error["extensions"]["code"] for error in body["errors"]] == ["BAD_USER_INPUT"]
