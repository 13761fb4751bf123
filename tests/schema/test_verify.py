"""The tests' endpoint (``tests/verify.py``) catches a fast path that answers otherwise."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from server.graphql_http import GraphQLHTTP
from tests.api import Dataset, GraphQL, StatementCounter, gid
from tests.verify import FastPathMismatch

CREATE_COMMENT = (
    "mutation($post: ID!, $author: ID!) { createComment(input: "
    '{postId: $post, authorId: $author, body: "Hello"}) { id body post { title } } }'
)


def corrupt(app: Starlette, monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on the app's fast path answers "Mallory" for every ``name`` and ``body``."""
    fast_path = app.state.graphql.fast_path
    run = fast_path.run

    def lie(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: "Mallory" if k in ("name", "body") else lie(v) for k, v in value.items()}
        if isinstance(value, list):
            return [lie(item) for item in value]
        return value

    async def lying(*args: Any, **kwargs: Any) -> Any:
        return lie(await run(*args, **kwargs))

    monkeypatch.setattr(fast_path, "run", lying)


async def test_the_app_under_test_is_the_verifying_one(app: Starlette) -> None:
    endpoint = app.state.graphql
    assert isinstance(endpoint, GraphQLHTTP)
    assert type(endpoint).execute is not GraphQLHTTP.execute


async def test_a_read_the_resolvers_answer_otherwise_fails_the_test(
    app: Starlette, gql: GraphQL, blog: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    query = "{ posts(first: 2) { nodes { title author { name } } } }"
    assert (await gql.data(query))["posts"]["nodes"][0]["author"]["name"] != "Mallory"

    corrupt(app, monkeypatch)
    with pytest.raises(FastPathMismatch, match="Mallory"):
        await gql.post(query)


async def test_a_create_whose_answer_is_not_its_row_read_back_fails_the_test(
    app: Starlette, gql: GraphQL, blog: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    variables = {"post": gid("Post", blog.posts["b1"]), "author": gid("User", blog.users["dee"])}
    assert (await gql.data(CREATE_COMMENT, variables))["createComment"]["body"] == "Hello"

    corrupt(app, monkeypatch)
    with pytest.raises(FastPathMismatch, match="Mallory"):
        await gql.post(CREATE_COMMENT, variables)


async def test_the_verifications_statements_are_not_the_requests(
    app_engine: AsyncEngine,
    gql: GraphQL,
    blog: Dataset,
    sql: StatementCounter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The fast path joins the authors into the posts' statement; the resolvers,
    # which run it again to compare, batch them into a second one.
    query = "{ posts(first: 5) { nodes { title author { name } } } }"
    every: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        every.append(statement)

    event.listen(app_engine.sync_engine, "before_cursor_execute", record)
    try:
        with sql, caplog.at_level(logging.INFO, logger="server.request"):
            assert await gql.data(query)
    finally:
        event.remove(app_engine.sync_engine, "before_cursor_execute", record)

    selects = [s for s in every if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 3  # verified: one on the fast path, two through the resolvers
    assert sql.count == 1
    [line] = [r for r in caplog.records if r.name == "server.request"]
    assert line.__dict__["statements"] == 1
