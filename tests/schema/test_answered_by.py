"""Which path answered a request: the request log's ``answered_by``, and ``GraphQL.fast``."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette

from tests.api import Dataset, GraphQL, RequestLog, gid
from tests.verify import AS_TEST_ADMIN

CREATE_COMMENT = (
    "mutation($post: ID!, $author: ID!) { createComment(input: "
    '{postId: $post, authorId: $author, body: "Hello"}) { id body } }'
)


async def test_the_request_log_says_which_path_answered(
    unverified_app: Starlette, blog: Dataset
) -> None:
    # The app as production runs it (the tests' verifying endpoint runs the two paths its own way).
    comment = {"post": gid("Post", blog.posts["b1"]), "author": gid("User", blog.users["dee"])}
    gone = {**comment, "post": gid("Post", blog.posts["a3"])}  # soft-deleted: the INSERT declines
    requests = [
        ({"query": "{ users(first: 2) { nodes { name } } }"}, "fast"),
        ({"query": f'{{ node(id: "{gid("User", blog.users["ada"])}") {{ id }} }}'}, "resolvers"),
        ({"query": CREATE_COMMENT, "variables": comment}, "fast"),
        ({"query": CREATE_COMMENT, "variables": gone}, "fallback"),
        ({"query": "{ nope }"}, None),  # nothing ran
    ]
    transport = httpx.ASGITransport(app=unverified_app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://test", headers=AS_TEST_ADMIN
    ) as http:
        with RequestLog() as log:
            for payload, expected in requests:
                response = await http.post("/graphql", json=payload)
                assert log.line(response)["answered_by"] == expected, payload


async def test_fast_fails_when_the_resolvers_answered(gql: GraphQL, blog: Dataset) -> None:
    assert await gql.fast("{ users(first: 1) { nodes { name } } }")
    # ``node`` is not planned: the same data, from the resolvers.
    query = f'{{ node(id: "{gid("User", blog.users["ada"])}") {{ id }} }}'
    with pytest.raises(AssertionError, match="answered by resolvers, not the fast path"):
        await gql.fast(query)
