"""createPost, updatePost, deletePost and restorePost through HTTP (contract sections 2, 3, 7)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.api import Dataset, GraphQL, at, field_error, gid, iso, snapshot

POST = "id title body published createdAt updatedAt deletedAt author { id name }"

CREATE = f"mutation($input: CreatePostInput!) {{ createPost(input: $input) {{ {POST} }} }}"
UPDATE = (
    "mutation($id: ID!, $input: UpdatePostInput!) "
    f"{{ updatePost(id: $id, input: $input) {{ {POST} }} }}"
)
DELETE = f"mutation($id: ID!) {{ deletePost(id: $id) {{ {POST} }} }}"
RESTORE = f"mutation($id: ID!) {{ restorePost(id: $id) {{ {POST} }} }}"


def post_row(tables: dict[str, list[dict[str, Any]]], key: int) -> dict[str, Any]:
    return next(row for row in tables["posts"] if row["id"] == key)


# -- createPost -------------------------------------------------------------------------------


async def test_create_post_trims_the_title_stores_the_body_as_sent_and_defaults_to_unpublished(
    gql: GraphQL, blog: Dataset, committed_engine: AsyncEngine
) -> None:
    ada = gid("User", blog.users["ada"])
    body = "  Indented first line\n\nand a trailing newline\n"

    data = await gql.data(CREATE, {"input": {"authorId": ada, "title": "  Hello  ", "body": body}})

    post = data["createPost"]
    rows = (await snapshot(committed_engine))["posts"]
    row = max(rows, key=lambda row: row["id"])
    assert post == {
        "id": gid("Post", row["id"]),
        "title": "Hello",
        "body": body,
        "published": False,
        "createdAt": iso(row["created_at"]),
        "updatedAt": iso(row["created_at"]),
        "deletedAt": None,
        "author": {"id": ada, "name": "Ada Lovelace"},
    }
    assert (row["user_id"], row["title"], row["body"], row["published"]) == (
        blog.users["ada"],
        "Hello",
        body,
        False,
    )
    assert row["updated_at"] == row["created_at"]


async def test_create_post_can_publish(gql: GraphQL, blog: Dataset) -> None:
    input = {
        "authorId": gid("User", blog.users["bob"]),
        "title": "T",
        "body": "B",
        "published": True,
    }

    data = await gql.data(CREATE, {"input": input})

    assert data["createPost"]["published"] is True


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param({"title": "x" * 200}, {"title": "x" * 200}, id="200-character-title"),
        pytest.param({"title": "😀" * 200}, {"title": "😀" * 200}, id="200-emoji-title"),
        pytest.param({"body": "x" * 50_000}, {"body": "x" * 50_000}, id="50000-character-body"),
        pytest.param({"body": "é" * 50_000}, {"body": "é" * 50_000}, id="50000-accented-body"),
        pytest.param({"body": " x "}, {"body": " x "}, id="body-not-trimmed"),
    ],
)
async def test_create_post_accepts_lengths_at_the_limits(
    gql: GraphQL, blog: Dataset, changes: dict[str, str], expected: dict[str, str]
) -> None:
    input = {"authorId": gid("User", blog.users["ada"]), "title": "T", "body": "B"} | changes

    data = await gql.data(CREATE, {"input": input})

    assert {name: data["createPost"][name] for name in expected} == expected


INVALID_CREATES = [
    pytest.param({"title": ""}, {"input.title": "must not be blank"}, id="empty-title"),
    pytest.param({"title": "  \t "}, {"input.title": "must not be blank"}, id="blank-title"),
    pytest.param(
        {"title": "x" * 201}, {"input.title": "must be 1 to 200 characters"}, id="201-characters"
    ),
    pytest.param(
        {"title": "😀" * 201}, {"input.title": "must be 1 to 200 characters"}, id="201-emoji"
    ),
    pytest.param({"body": ""}, {"input.body": "must not be blank"}, id="empty-body"),
    pytest.param({"body": " \n\n "}, {"input.body": "must not be blank"}, id="blank-body"),
    pytest.param(
        {"body": "x" * 50_001},
        {"input.body": "must be at most 50000 characters"},
        id="50001-character-body",
    ),
    pytest.param({"published": None}, {"input.published": "must not be null"}, id="null-published"),
    pytest.param({"authorId": "missing"}, {"input.authorId": "not found"}, id="unknown-author"),
    pytest.param({"authorId": "cyd"}, {"input.authorId": "not found"}, id="soft-deleted-author"),
    pytest.param(
        {"authorId": "malformed"}, {"input.authorId": "malformed ID"}, id="malformed-author"
    ),
    pytest.param(
        {"authorId": "post"},
        {"input.authorId": "expected the ID of a User"},
        id="author-id-of-a-post",
    ),
    pytest.param(
        {"authorId": "cyd", "title": "", "body": ""},
        {
            "input.authorId": "not found",
            "input.title": "must not be blank",
            "input.body": "must not be blank",
        },
        id="every-problem-at-once",
    ),
]


def author_id(blog: Dataset, target: str) -> str:
    return {
        "missing": gid("User", 999_999),
        "post": gid("Post", blog.posts["a1"]),
        "malformed": "VXNlcjpvbmU=",  # "User:one"
    }.get(target) or gid("User", blog.users[target])


@pytest.mark.parametrize(("changes", "fields"), INVALID_CREATES)
async def test_create_post_rejects_invalid_input_and_changes_nothing(
    gql: GraphQL,
    blog: Dataset,
    committed_engine: AsyncEngine,
    changes: dict[str, Any],
    fields: dict[str, str],
) -> None:
    input = {"authorId": gid("User", blog.users["ada"]), "title": "Title", "body": "Body"}
    input |= changes
    if "authorId" in changes:
        input["authorId"] = author_id(blog, changes["authorId"])
    before = await snapshot(committed_engine)

    body = await gql(CREATE, {"input": input})

    error = field_error(body, "createPost")
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "fields": fields}
    assert await snapshot(committed_engine) == before


# -- updatePost -------------------------------------------------------------------------------


async def test_update_post_changes_only_the_given_fields(
    gql: GraphQL, blog: Dataset, committed_engine: AsyncEngine
) -> None:
    a1 = gid("Post", blog.posts["a1"])

    data = await gql.data(UPDATE, {"id": a1, "input": {"title": " New title ", "published": False}})

    post = data["updatePost"]
    assert post == {
        "id": a1,
        "title": "New title",
        "body": "Body of Analytical Engine",
        "published": False,
        "createdAt": iso(at(1)),
        "updatedAt": post["updatedAt"],
        "deletedAt": None,
        "author": {"id": gid("User", blog.users["ada"]), "name": "Ada Lovelace"},
    }
    assert datetime.fromisoformat(post["updatedAt"]) > at(1)
    row = post_row(await snapshot(committed_engine), blog.posts["a1"])
    assert (row["title"], row["body"], row["published"], row["created_at"]) == (
        "New title",
        "Body of Analytical Engine",
        False,
        at(1),
    )


async def test_update_post_stores_the_body_as_sent(gql: GraphQL, blog: Dataset) -> None:
    data = await gql.data(
        UPDATE, {"id": gid("Post", blog.posts["a1"]), "input": {"body": "\tNew body  "}}
    )

    assert data["updatePost"]["body"] == "\tNew body  "
    assert data["updatePost"]["title"] == "Analytical Engine"


async def test_update_post_of_a_soft_deleted_author_is_allowed(gql: GraphQL, blog: Dataset) -> None:
    data = await gql.data(
        UPDATE, {"id": gid("Post", blog.posts["c1"]), "input": {"title": "Still here"}}
    )

    assert data["updatePost"]["author"] == {
        "id": gid("User", blog.users["cyd"]),
        "name": "Cyd Gone",
    }


INVALID_UPDATES = [
    pytest.param({"title": None}, {"input.title": "must not be null"}, id="null-title"),
    pytest.param({"body": None}, {"input.body": "must not be null"}, id="null-body"),
    pytest.param({"published": None}, {"input.published": "must not be null"}, id="null-published"),
    pytest.param({"title": " "}, {"input.title": "must not be blank"}, id="blank-title"),
    pytest.param(
        {"title": "x" * 201}, {"input.title": "must be 1 to 200 characters"}, id="long-title"
    ),
    pytest.param({"body": "\n"}, {"input.body": "must not be blank"}, id="blank-body"),
    pytest.param(
        {"title": None, "body": "", "published": None},
        {
            "input.title": "must not be null",
            "input.body": "must not be blank",
            "input.published": "must not be null",
        },
        id="every-problem-at-once",
    ),
]


@pytest.mark.parametrize(("changes", "fields"), INVALID_UPDATES)
async def test_update_post_rejects_invalid_input_and_changes_nothing(
    gql: GraphQL,
    blog: Dataset,
    committed_engine: AsyncEngine,
    changes: dict[str, Any],
    fields: dict[str, str],
) -> None:
    before = await snapshot(committed_engine)

    body = await gql(UPDATE, {"id": gid("Post", blog.posts["a1"]), "input": changes})

    error = field_error(body, "updatePost")
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "fields": fields}
    assert await snapshot(committed_engine) == before


# -- deletePost and restorePost ---------------------------------------------------------------


async def test_delete_post_soft_deletes_only_that_row(
    gql: GraphQL, blog: Dataset, committed_engine: AsyncEngine
) -> None:
    a1 = gid("Post", blog.posts["a1"])
    before = await snapshot(committed_engine)

    data = await gql.data(DELETE, {"id": a1})

    post = data["deletePost"]
    assert post["deletedAt"] is not None
    assert post == {
        "id": a1,
        "title": "Analytical Engine",
        "body": "Body of Analytical Engine",
        "published": True,
        "createdAt": iso(at(1)),
        "updatedAt": post["deletedAt"],
        "deletedAt": post["deletedAt"],
        "author": {"id": gid("User", blog.users["ada"]), "name": "Ada Lovelace"},
    }
    after = await snapshot(committed_engine)
    row = post_row(after, blog.posts["a1"])
    assert iso(row["deleted_at"]) == post["deletedAt"]
    assert row["updated_at"] == row["deleted_at"]
    assert {name: rows for name, rows in after.items() if name != "posts"} == {
        name: rows for name, rows in before.items() if name != "posts"
    }
    lookups = await gql(
        "query($id: ID!) { post(id: $id) { id } trashed: post(id: $id, trashed: WITH) { id } }",
        {"id": a1},
    )
    assert lookups["data"] == {"post": None, "trashed": {"id": a1}}


async def test_restore_post_clears_deleted_at_and_sets_updated_at(
    gql: GraphQL, blog: Dataset
) -> None:
    a3 = gid("Post", blog.posts["a3"])

    data = await gql.data(RESTORE, {"id": a3})

    post = data["restorePost"]
    assert post["deletedAt"] is None
    assert post["title"] == "Trashed idea"
    assert post["createdAt"] == iso(at(3))
    assert datetime.fromisoformat(post["updatedAt"]) > at(200)
    assert (await gql.data("query($id: ID!) { post(id: $id) { id } }", {"id": a3})) == {
        "post": {"id": a3}
    }


def _lookup_cases() -> list[Any]:
    cases = []
    for name, document in (("updatePost", UPDATE), ("deletePost", DELETE)):
        cases += [
            pytest.param(document, name, "a3", "NOT_FOUND", id=f"{name}-soft-deleted"),
            pytest.param(document, name, "missing", "NOT_FOUND", id=f"{name}-unknown"),
            pytest.param(document, name, "user", "NOT_FOUND", id=f"{name}-id-of-a-user"),
            pytest.param(document, name, "malformed", "BAD_USER_INPUT", id=f"{name}-malformed"),
        ]
    cases += [
        pytest.param(RESTORE, "restorePost", "a1", "NOT_FOUND", id="restorePost-live"),
        pytest.param(RESTORE, "restorePost", "missing", "NOT_FOUND", id="restorePost-unknown"),
        pytest.param(RESTORE, "restorePost", "user", "NOT_FOUND", id="restorePost-id-of-a-user"),
        pytest.param(
            RESTORE, "restorePost", "malformed", "BAD_USER_INPUT", id="restorePost-malformed"
        ),
    ]
    return cases


@pytest.mark.parametrize(("document", "field", "target", "code"), _lookup_cases())
async def test_update_delete_and_restore_follow_the_lookup_rules(
    gql: GraphQL,
    blog: Dataset,
    committed_engine: AsyncEngine,
    document: str,
    field: str,
    target: str,
    code: str,
) -> None:
    id = {
        "missing": gid("Post", 2**31 - 1),
        "user": gid("User", blog.users["ada"]),
        "malformed": gid("Post", 2**31),  # out of the key column's range
    }.get(target) or gid("Post", blog.posts[target])
    variables: dict[str, Any] = {"id": id}
    if field == "updatePost":
        variables["input"] = {"title": "Changed"}
    before = await snapshot(committed_engine)

    body = await gql(document, variables)

    error = field_error(body, field)
    if code == "NOT_FOUND":
        assert error["extensions"] == {"code": "NOT_FOUND", "model": "Post", "id": id}
    else:
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "fields": {"id": "malformed ID"}}
    assert await snapshot(committed_engine) == before


async def test_deleting_a_post_twice_is_not_found_the_second_time(
    gql: GraphQL, blog: Dataset
) -> None:
    b1 = gid("Post", blog.posts["b1"])
    await gql.data(DELETE, {"id": b1})

    body = await gql(DELETE, {"id": b1})

    error = field_error(body, "deletePost")
    assert error["extensions"] == {"code": "NOT_FOUND", "model": "Post", "id": b1}
