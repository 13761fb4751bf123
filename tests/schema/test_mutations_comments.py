"""createComment, updateComment and deleteComment through HTTP (contract sections 2, 3, 7)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.api import Dataset, GraphQL, at, field_error, gid, iso, snapshot

COMMENT = "id body createdAt updatedAt post { id title } author { id name }"

CREATE = f"mutation($input: CreateCommentInput!) {{ createComment(input: $input) {{ {COMMENT} }} }}"
UPDATE = (
    "mutation($id: ID!, $input: UpdateCommentInput!) "
    f"{{ updateComment(id: $id, input: $input) {{ {COMMENT} }} }}"
)
DELETE = f"mutation($id: ID!) {{ deleteComment(id: $id) {{ {COMMENT} }} }}"


def reference(blog: Dataset, kind: str, target: str) -> str:
    """A global ID for ``target``: a dataset key of ``kind``, or one of the bad-ID cases."""
    special = {
        "missing": gid(kind, 999_999),
        "malformed": "%%%",
        "comment": gid("Comment", blog.comments["c-a1-bob"]),
    }
    if target in special:
        return special[target]
    keys = blog.users if kind == "User" else blog.posts
    return gid(kind, keys[target])


async def test_create_comment_stores_the_body_as_sent_and_links_post_and_author(
    gql: GraphQL, blog: Dataset, committed_engine: AsyncEngine
) -> None:
    text = "  Loved it.\n"
    post, author = gid("Post", blog.posts["b2"]), gid("User", blog.users["dee"])

    data = await gql.data(CREATE, {"input": {"postId": post, "authorId": author, "body": text}})

    comment = data["createComment"]
    row = max((await snapshot(committed_engine))["comments"], key=lambda row: row["id"])
    assert comment == {
        "id": gid("Comment", row["id"]),
        "body": text,
        "createdAt": iso(row["created_at"]),
        "updatedAt": iso(row["created_at"]),
        "post": {"id": post, "title": "Can we fix it"},
        "author": {"id": author, "name": "Dee Quiet"},
    }
    assert (row["post_id"], row["user_id"], row["body"]) == (
        blog.posts["b2"],
        blog.users["dee"],
        text,
    )
    assert row["updated_at"] == row["created_at"]


async def test_create_comment_accepts_10000_code_points(gql: GraphQL, blog: Dataset) -> None:
    input = {
        "postId": gid("Post", blog.posts["a1"]),
        "authorId": gid("User", blog.users["ada"]),
        "body": "😀" * 10_000,
    }

    data = await gql.data(CREATE, {"input": input})

    assert data["createComment"]["body"] == "😀" * 10_000


INVALID_CREATES = [
    pytest.param({"body": ""}, {"input.body": "must not be blank"}, id="empty-body"),
    pytest.param({"body": " \t\n"}, {"input.body": "must not be blank"}, id="blank-body"),
    pytest.param(
        {"body": "x" * 10_001},
        {"input.body": "must be at most 10000 characters"},
        id="10001-characters",
    ),
    pytest.param(
        {"body": "😀" * 10_001},
        {"input.body": "must be at most 10000 characters"},
        id="10001-emoji",
    ),
    pytest.param({"postId": "missing"}, {"input.postId": "not found"}, id="unknown-post"),
    pytest.param({"postId": "a3"}, {"input.postId": "not found"}, id="soft-deleted-post"),
    pytest.param({"postId": "malformed"}, {"input.postId": "malformed ID"}, id="malformed-post"),
    pytest.param(
        {"postId": "comment"},
        {"input.postId": "expected the ID of a Post"},
        id="post-id-of-a-comment",
    ),
    pytest.param({"authorId": "missing"}, {"input.authorId": "not found"}, id="unknown-author"),
    pytest.param({"authorId": "cyd"}, {"input.authorId": "not found"}, id="soft-deleted-author"),
    pytest.param(
        {"authorId": "malformed"}, {"input.authorId": "malformed ID"}, id="malformed-author"
    ),
    pytest.param(
        {"authorId": "comment"},
        {"input.authorId": "expected the ID of a User"},
        id="author-id-of-a-comment",
    ),
    pytest.param(
        {"postId": "a3", "authorId": "cyd", "body": " "},
        {
            "input.postId": "not found",
            "input.authorId": "not found",
            "input.body": "must not be blank",
        },
        id="every-problem-at-once",
    ),
]


@pytest.mark.parametrize(("changes", "fields"), INVALID_CREATES)
async def test_create_comment_rejects_invalid_input_and_changes_nothing(
    gql: GraphQL,
    blog: Dataset,
    committed_engine: AsyncEngine,
    changes: dict[str, str],
    fields: dict[str, str],
) -> None:
    input = {
        "postId": reference(blog, "Post", changes.get("postId", "a1")),
        "authorId": reference(blog, "User", changes.get("authorId", "ada")),
        "body": changes.get("body", "Fine"),
    }
    before = await snapshot(committed_engine)

    body = await gql(CREATE, {"input": input})

    error = field_error(body, "createComment")
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "fields": fields}
    assert await snapshot(committed_engine) == before


async def test_update_comment_changes_the_body_and_updated_at(
    gql: GraphQL, blog: Dataset, committed_engine: AsyncEngine
) -> None:
    id = gid("Comment", blog.comments["c-b1-ada"])

    data = await gql.data(UPDATE, {"id": id, "input": {"body": " Really nice work "}})

    comment = data["updateComment"]
    assert comment == {
        "id": id,
        "body": " Really nice work ",
        "createdAt": iso(at(4)),
        "updatedAt": comment["updatedAt"],
        "post": {"id": gid("Post", blog.posts["b1"]), "title": "Building things"},
        "author": {"id": gid("User", blog.users["ada"]), "name": "Ada Lovelace"},
    }
    assert datetime.fromisoformat(comment["updatedAt"]) > at(4)
    row = next(
        row
        for row in (await snapshot(committed_engine))["comments"]
        if row["id"] == blog.comments["c-b1-ada"]
    )
    assert (row["body"], row["created_at"]) == (" Really nice work ", at(4))


async def test_a_comment_on_a_soft_deleted_post_can_still_be_updated(
    gql: GraphQL, blog: Dataset
) -> None:
    id = gid("Comment", blog.comments["c-a3-bob"])

    data = await gql.data(UPDATE, {"id": id, "input": {"body": "Edited"}})

    assert data["updateComment"]["body"] == "Edited"
    assert data["updateComment"]["post"]["title"] == "Trashed idea"


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        pytest.param("", {"input.body": "must not be blank"}, id="empty"),
        pytest.param("   ", {"input.body": "must not be blank"}, id="blank"),
        pytest.param("x" * 10_001, {"input.body": "must be at most 10000 characters"}, id="long"),
    ],
)
async def test_update_comment_rejects_invalid_bodies_and_changes_nothing(
    gql: GraphQL,
    blog: Dataset,
    committed_engine: AsyncEngine,
    text: str,
    fields: dict[str, str],
) -> None:
    before = await snapshot(committed_engine)

    body = await gql(
        UPDATE, {"id": gid("Comment", blog.comments["c-a1-bob"]), "input": {"body": text}}
    )

    error = field_error(body, "updateComment")
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "fields": fields}
    assert await snapshot(committed_engine) == before


async def test_delete_comment_deletes_the_row_and_returns_the_comment_as_it_was(
    gql: GraphQL, blog: Dataset, committed_engine: AsyncEngine
) -> None:
    id = gid("Comment", blog.comments["c-a1-bob"])
    before = await snapshot(committed_engine)

    data = await gql.data(DELETE, {"id": id})

    assert data == {
        "deleteComment": {
            "id": id,
            "body": "Brilliant",
            "createdAt": iso(at(1)),
            "updatedAt": iso(at(1)),
            "post": {"id": gid("Post", blog.posts["a1"]), "title": "Analytical Engine"},
            "author": {"id": gid("User", blog.users["bob"]), "name": "Bob Builder"},
        }
    }
    after = await snapshot(committed_engine)
    assert after["comments"] == [
        row for row in before["comments"] if row["id"] != blog.comments["c-a1-bob"]
    ]
    assert {name: rows for name, rows in after.items() if name != "comments"} == {
        name: rows for name, rows in before.items() if name != "comments"
    }
    lookup = await gql("query($id: ID!) { comment(id: $id) { id } }", {"id": id})
    assert field_error(lookup, "comment")["extensions"] == {
        "code": "NOT_FOUND",
        "model": "Comment",
        "id": id,
    }


@pytest.mark.parametrize(
    ("target", "extensions"),
    [
        pytest.param("missing", {"code": "NOT_FOUND", "model": "Comment"}, id="unknown"),
        pytest.param("post", {"code": "NOT_FOUND", "model": "Comment"}, id="id-of-a-post"),
        pytest.param(
            "malformed",
            {"code": "BAD_USER_INPUT", "fields": {"id": "malformed ID"}},
            id="malformed",
        ),
    ],
)
@pytest.mark.parametrize("field", ["updateComment", "deleteComment"])
async def test_update_and_delete_comment_follow_the_lookup_rules(
    gql: GraphQL,
    blog: Dataset,
    committed_engine: AsyncEngine,
    field: str,
    target: str,
    extensions: dict[str, Any],
) -> None:
    id = {
        "missing": gid("Comment", 999_999),
        "post": gid("Post", blog.posts["a1"]),
        "malformed": gid("Comment", 1)[:-1],
    }[target]
    document, variables = (
        (UPDATE, {"id": id, "input": {"body": "x"}})
        if field == "updateComment"
        else (DELETE, {"id": id})
    )
    before = await snapshot(committed_engine)

    body = await gql(document, variables)

    expected = extensions | {"id": id} if extensions["code"] == "NOT_FOUND" else extensions
    assert field_error(body, field)["extensions"] == expected
    assert await snapshot(committed_engine) == before


async def test_deleting_a_comment_twice_is_not_found_the_second_time(
    gql: GraphQL, blog: Dataset
) -> None:
    id = gid("Comment", blog.comments["c-b1-ada"])
    await gql.data(DELETE, {"id": id})

    body = await gql(DELETE, {"id": id})

    assert field_error(body, "deleteComment")["extensions"] == {
        "code": "NOT_FOUND",
        "model": "Comment",
        "id": id,
    }
