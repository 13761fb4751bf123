"""Each mutation field is a transaction of its own, in document order; races end cleanly."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.api import Dataset, GraphQL, gid, snapshot

THREE_USERS = """
mutation {
  a: createUser(input: {name: "Ann", email: "ann@example.com"}) { name email }
  b: createUser(input: {name: "   ", email: "bad"}) { name email }
  c: createUser(input: {name: "Cat", email: "cat@example.com"}) { name email }
}
"""


async def test_each_mutation_field_commits_or_fails_on_its_own(
    gql: GraphQL, committed_engine: AsyncEngine
) -> None:
    body = await gql(THREE_USERS)

    assert body["data"] == {
        "a": {"name": "Ann", "email": "ann@example.com"},
        "b": None,
        "c": {"name": "Cat", "email": "cat@example.com"},
    }
    [error] = body["errors"]
    assert error["path"] == ["b"]
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "fields": {
            "input.name": "must not be blank",
            "input.email": "must be a valid email address",
        },
    }
    rows = (await snapshot(committed_engine))["users"]
    assert [(row["name"], row["email"]) for row in rows] == [
        ("Ann", "ann@example.com"),
        ("Cat", "cat@example.com"),
    ]


async def test_mutation_fields_run_in_document_order_and_see_earlier_fields_writes(
    gql: GraphQL, committed_engine: AsyncEngine
) -> None:
    body = await gql(
        """
        mutation {
          first: createUser(input: {name: "Eve", email: "eve@example.com"}) { email }
          again: createUser(input: {name: "Eve 2", email: "EVE@example.com"}) { email }
          other: createUser(input: {name: "Fay", email: "fay@example.com"}) { email }
        }
        """
    )

    assert body["data"] == {
        "first": {"email": "eve@example.com"},
        "again": None,
        "other": {"email": "fay@example.com"},
    }
    assert [error["extensions"] for error in body["errors"]] == [
        {"code": "BAD_USER_INPUT", "fields": {"input.email": "already taken"}}
    ]
    rows = (await snapshot(committed_engine))["users"]
    assert [row["email"] for row in rows] == ["eve@example.com", "fay@example.com"]


async def test_later_fields_read_what_earlier_fields_wrote(gql: GraphQL, blog: Dataset) -> None:
    ada = gid("User", blog.users["ada"])
    post = "title author { posts { totalCount } }"

    data = await gql.data(
        f"""
        mutation($ada: ID!) {{
          one: createPost(input: {{authorId: $ada, title: "One", body: "1"}}) {{ {post} }}
          two: createPost(input: {{authorId: $ada, title: "Two", body: "2"}}) {{ {post} }}
          gone: deleteUser(id: $ada) {{ posts {{ totalCount }} }}
          back: restoreUser(id: $ada) {{ posts {{ totalCount }} }}
        }}
        """,
        {"ada": ada},
    )

    assert data == {
        "one": {"title": "One", "author": {"posts": {"totalCount": 3}}},
        "two": {"title": "Two", "author": {"posts": {"totalCount": 4}}},
        "gone": {"posts": {"totalCount": 4}},
        "back": {"posts": {"totalCount": 4}},
    }


async def test_a_failed_field_after_a_delete_keeps_the_delete(
    gql: GraphQL, blog: Dataset, committed_engine: AsyncEngine
) -> None:
    bob = gid("User", blog.users["bob"])

    body = await gql(
        "mutation($id: ID!) { deleteUser(id: $id) { name } again: deleteUser(id: $id) { name } }",
        {"id": bob},
    )

    assert body["data"] == {"deleteUser": {"name": "Bob Builder"}, "again": None}
    assert [error["extensions"] for error in body["errors"]] == [
        {"code": "NOT_FOUND", "model": "User", "id": bob}
    ]
    rows = (await snapshot(committed_engine))["users"]
    assert next(row for row in rows if row["id"] == blog.users["bob"])["deleted_at"] is not None


async def test_concurrent_creates_with_one_email_let_exactly_one_through(
    gql: GraphQL, committed_engine: AsyncEngine
) -> None:
    document = "mutation($input: CreateUserInput!) { createUser(input: $input) { name email } }"

    bodies = await asyncio.gather(
        *(
            gql(document, {"input": {"name": f"Racer {n}", "email": " Race@Example.com "}})
            for n in range(10)
        )
    )

    winners = [body for body in bodies if "errors" not in body]
    losers = [body for body in bodies if "errors" in body]
    assert len(winners) == 1
    [winner] = winners
    assert winner["data"]["createUser"]["email"] == "race@example.com"
    assert len(losers) == 9
    for body in losers:
        assert body["data"] == {"createUser": None}
        assert [error["extensions"] for error in body["errors"]] == [
            {"code": "BAD_USER_INPUT", "fields": {"input.email": "already taken"}}
        ]
    rows = (await snapshot(committed_engine))["users"]
    assert [(row["name"], row["email"]) for row in rows] == [
        (winner["data"]["createUser"]["name"], "race@example.com")
    ]
