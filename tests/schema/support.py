"""Helpers for the query tests: error summaries, paging loops and the ``crowd`` dataset."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from starlette.applications import Starlette

from models import Comment, Post, User
from server.app import create_app
from server.settings import Settings
from tests.api import Dataset, GraphQL, at
from tests.verify import AdminTokenGraphQLHTTP


def problems(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The errors of a response as path and extensions, in path order, without messages.

    Messages are for humans, so they are left out; so are the messages inside
    ``fields``, of which only the argument paths (the keys) are kept, sorted.
    """
    summary = []
    for error in body.get("errors", []):
        extensions = dict(error["extensions"])
        if "fields" in extensions:
            extensions["fields"] = sorted(extensions["fields"])
        summary.append({"path": error.get("path"), **extensions})
    return sorted(summary, key=lambda entry: json.dumps(entry["path"]))


def bad_input(path: list[str | int], *fields: str) -> dict[str, Any]:
    """The summary ``problems`` gives of a ``BAD_USER_INPUT`` error at ``path``."""
    return {"path": path, "code": "BAD_USER_INPUT", "fields": sorted(fields)}


def not_found(path: list[str | int], model: str, id: str) -> dict[str, Any]:
    """The summary ``problems`` gives of a ``NOT_FOUND`` error at ``path``."""
    return {"path": path, "code": "NOT_FOUND", "model": model, "id": id}


async def walk_forward(
    gql: GraphQL, field: str, size: int, arguments: str = "", selection: str = "name"
) -> list[dict[str, Any]]:
    """Every page of ``field`` read with ``first``/``after``, checking each page's pageInfo."""
    query = (
        f"query($after: String) {{ {field}(first: {size}, after: $after{arguments}) {{"
        f" edges {{ cursor node {{ {selection} }} }}"
        " pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"
    )
    pages: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        page = (await gql.data(query, {"after": after}))[field]
        pages.append(page)
        edges, info = page["edges"], page["pageInfo"]
        assert info["hasPreviousPage"] is (after is not None)
        assert info["startCursor"] == (edges[0]["cursor"] if edges else None)
        assert info["endCursor"] == (edges[-1]["cursor"] if edges else None)
        if not info["hasNextPage"]:
            return pages
        assert len(edges) == size
        after = info["endCursor"]


async def walk_backward(
    gql: GraphQL, field: str, size: int, arguments: str = "", selection: str = "name"
) -> list[dict[str, Any]]:
    """Every page of ``field`` read with ``last``/``before``, from the end to the start."""
    query = (
        f"query($before: String) {{ {field}(last: {size}, before: $before{arguments}) {{"
        f" edges {{ cursor node {{ {selection} }} }}"
        " pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"
    )
    pages: list[dict[str, Any]] = []
    before: str | None = None
    while True:
        page = (await gql.data(query, {"before": before}))[field]
        pages.append(page)
        edges, info = page["edges"], page["pageInfo"]
        assert info["hasNextPage"] is (before is not None)
        assert info["startCursor"] == (edges[0]["cursor"] if edges else None)
        assert info["endCursor"] == (edges[-1]["cursor"] if edges else None)
        if not info["hasPreviousPage"]:
            return pages
        assert len(edges) == size
        before = info["startCursor"]


def nodes_of(pages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [edge["node"] for page in pages for edge in page["edges"]]


# -- the crowd: 25 users with different numbers of posts and comments ---------

CROWD_USERS = 25


def crowd_posts_of(user: int) -> int:
    """How many posts user ``user`` (0-based) has: 0 to 5, so pages differ per parent."""
    return user % 6


def crowd_comments_of(user: int, post: int) -> int:
    """How many comments the ``post``-th post of ``user`` has: 0 to 3."""
    return (user + post) % 4


def crowd_rows() -> dict[str, Any]:
    """The rows of the ``crowd`` fixture, keyed ``u07``, ``u07-p2``, ``u07-p2-c1``."""
    users = [
        {"key": f"u{u:02}", "name": f"User {u:02}", "email": f"u{u:02}@example.com"}
        for u in range(CROWD_USERS)
    ]
    posts: list[dict[str, Any]] = []
    comments: list[dict[str, Any]] = []
    for u in range(CROWD_USERS):
        for p in range(crowd_posts_of(u)):
            key = f"u{u:02}-p{p}"
            posts.append({"key": key, "author": f"u{u:02}", "title": f"Post {u:02}.{p}"})
            for c in range(crowd_comments_of(u, p)):
                author = f"u{(u + c + 1) % CROWD_USERS:02}"
                comments.append(
                    {
                        "key": f"{key}-c{c}",
                        "post": key,
                        "author": author,
                        "body": f"Comment {u:02}.{p}.{c}",
                        "created_at": at(1000 + len(comments)),
                    }
                )
    return {"users": users, "posts": posts, "comments": comments}


async def bulk_insert_dataset(
    engine: AsyncEngine,
    *,
    users: list[dict[str, Any]],
    posts: list[dict[str, Any]],
    comments: list[dict[str, Any]],
) -> Dataset:
    """What ``tests.api.insert_dataset`` does, with one statement per table (big datasets)."""
    dataset = Dataset()
    async with engine.begin() as connection:
        dataset.users = await _insert_all(
            connection,
            User,
            users,
            lambda row: {"name": row["name"], "email": row["email"], "deleted_at": None},
        )
        dataset.posts = await _insert_all(
            connection,
            Post,
            posts,
            lambda row: {
                "user_id": dataset.users[row["author"]],
                "title": row["title"],
                "body": f"Body of {row['title']}",
                "published": True,
                "deleted_at": None,
            },
        )
        dataset.comments = await _insert_all(
            connection,
            Comment,
            comments,
            lambda row: {
                "post_id": dataset.posts[row["post"]],
                "user_id": dataset.users[row["author"]],
                "body": row["body"],
            },
        )
    return dataset


async def _insert_all(
    connection: AsyncConnection,
    model: type[User | Post | Comment],
    rows: list[dict[str, Any]],
    values_of: Callable[[dict[str, Any]], dict[str, Any]],
) -> dict[str, int]:
    values = []
    for index, row in enumerate(rows, start=1):
        created = row.get("created_at", at(index))
        values.append({**values_of(row), "created_at": created, "updated_at": created})
    statement = insert(model).returning(model.id, sort_by_parameter_order=True)
    keys = (await connection.execute(statement, values)).scalars().all()
    return {row["key"]: key for row, key in zip(rows, keys, strict=True)}


@asynccontextmanager
async def deployed_app(**settings: Any) -> AsyncIterator[Starlette]:
    """The application as deployed, started: the fast path answers alone, unverified.

    For counting statements (the package's ``app`` runs every query twice to
    compare the two paths); it knows the tests' admin token.
    """
    application = create_app(Settings(**settings), endpoint=AdminTokenGraphQLHTTP)
    async with application.router.lifespan_context(application):
        yield application
