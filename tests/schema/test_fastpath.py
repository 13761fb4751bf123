"""The fast path: one pooled connection, joined to-one relations, snapshots."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, cast

import httpx
import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from starlette.applications import Starlette

from schema.fastpath import ReadConnection
from tests.api import Dataset, GraphQL, RequestLog, StatementCounter, gid
from tests.verify import AS_TEST_ADMIN


async def test_a_query_on_the_fast_path_makes_no_session(
    unverified_app: Starlette, blog: Dataset
) -> None:
    # The fast path reads on one pooled connection; the ORM session (and the
    # repositories made with it) would only cost time. The resolvers need it.
    def no_session() -> AsyncSession:
        raise AssertionError("the fast path made a session")

    transport = httpx.ASGITransport(app=unverified_app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://test", headers=AS_TEST_ADMIN
    ) as http:
        gql = GraphQL(http)
        with unverified_app.state.container.override(AsyncSession, factory=no_session):
            data = await gql.data("{ users(first: 2) { nodes { name posts { totalCount } } } }")
            resolved = await gql('{ users(first: 1) { nodes { name } } node(id: "x") { id } }')

    assert data == {
        "users": {
            "nodes": [
                {"name": "Ada Lovelace", "posts": {"totalCount": 2}},
                {"name": "Bob Builder", "posts": {"totalCount": 2}},
            ]
        }
    }
    # A query the fast path leaves to the resolvers (``node``) does need one.
    assert "data" not in resolved
    assert [e["extensions"]["code"] for e in resolved["errors"]] == ["INTERNAL_SERVER_ERROR"]


@pytest.mark.parametrize(
    ("query", "expected_statements"),
    [
        # One join per foreign key, whatever the aliases ask of it.
        pytest.param(
            '{ post(id: "UG9zdDox") { title a: author { name } b: author { id email } } }',
            1,
            id="lookup-aliases",
        ),
        pytest.param("{ posts(first: 10) { nodes { title author { name } } } }", 1, id="listing"),
        pytest.param(
            "{ comments { edges { node { body author { name } } } nodes { post { title } } } }",
            1,
            id="edges-and-nodes",
        ),
        # A target with relations of its own keeps its batched read.
        pytest.param(
            "{ comments { nodes { body post { title author { name } } } } }", 2, id="deeper"
        ),
        # Nested connections read per parent, their to-one relations joined in.
        pytest.param(
            "{ users { nodes { name posts { nodes { title author { name } } } } } }",
            2,
            id="under-a-connection",
        ),
        pytest.param(
            "{ users { nodes { roles { name } posts(first: 1) "
            "{ nodes { author { name } comments { nodes { post { title } } } } } } } }",
            4,
            id="members-and-two-levels",
        ),
    ],
)
async def test_flat_to_one_relations_are_joined_into_their_rows_statement(
    gql: GraphQL, blog: Dataset, sql: StatementCounter, query: str, expected_statements: int
) -> None:
    # ``gql`` runs every query on the fast path and through the resolvers and
    # fails on any difference, soft-deleted authors (Cyd's post) included;
    # ``fast`` fails unless the fast path answered.
    with sql:
        data = await gql.fast(query)
    assert sql.count == expected_statements
    assert data


@pytest.mark.parametrize(
    ("query", "transaction"),
    [
        pytest.param("{ posts(first: 3) { nodes { title author { name } } } }", False, id="one"),
        pytest.param("{ posts(first: 3) { totalCount nodes { title } } }", True, id="count"),
        pytest.param("{ users { nodes { posts { nodes { title } } } } }", True, id="nested"),
        pytest.param("{ a: users { nodes { id } } b: roles { nodes { id } } }", True, id="roots"),
    ],
)
async def test_a_plan_of_several_reads_takes_one_snapshot_on_sqlite(
    unverified_app: Starlette,
    committed_engine: AsyncEngine,
    blog: Dataset,
    backend: str,
    query: str,
    transaction: bool,
) -> None:
    # SQLite: one statement needs no transaction (and no trip to aiosqlite's thread
    # for BEGIN); several run in one, so they see one snapshot. PostgreSQL reads in
    # autocommit either way.
    engine: AsyncEngine = await unverified_app.state.container.get(AsyncEngine)
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement.strip().split()[0].upper())

    transport = httpx.ASGITransport(app=unverified_app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://test", headers=AS_TEST_ADMIN
    ) as http:
        event.listen(engine.sync_engine, "before_cursor_execute", record)
        try:
            assert await GraphQL(http).data(query)
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", record)

    assert ("BEGIN" in seen) is (transaction and backend == "sqlite")
    assert seen[-1] != "BEGIN" and "SELECT" in seen


CREATE_COMMENT = (
    "mutation($post: ID!, $author: ID!) { createComment(input: "
    '{postId: $post, authorId: $author, body: "Hello"}) { id body post { title } __typename } }'
)


async def test_a_create_is_one_insert_that_checks_its_references(
    gql: GraphQL, blog: Dataset, sql: StatementCounter, committed_engine: AsyncEngine
) -> None:
    # ``gql`` reads the new row back through the resolvers and compares.
    variables = {"post": gid("Post", blog.posts["b1"]), "author": gid("User", blog.users["dee"])}
    with sql:
        data = await gql.fast(CREATE_COMMENT, variables)
    assert data["createComment"]["body"] == "Hello"
    assert data["createComment"]["post"] == {"title": "Building things"}
    assert sql.count == 2  # the INSERT, then the post for the payload

    # A reference to a soft-deleted post: the INSERT writes nothing, and the
    # resolvers report the input error (their row checks are one statement).
    gone = {**variables, "post": gid("Post", blog.posts["a3"])}
    async with committed_engine.connect() as connection:
        before = await connection.scalar(text("SELECT count(*) FROM comments"))
    with sql, RequestLog() as log:
        sql.statements.clear()
        response = await gql.post(CREATE_COMMENT, gone)
    body = response.json()
    assert log.line(response)["answered_by"] == "fallback"  # planned; declined at run time
    assert body["data"] == {"createComment": None}
    assert body["errors"][0]["extensions"]["fields"] == {"input.postId": "not found"}
    assert sql.count == 2
    async with committed_engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM comments")) == before


class LostAfterCommit:
    """The request's real connection, whose ``INSERT`` commits and whose answer is lost.

    The same as a connection that drops after the server committed: the
    client cannot tell whether the row was written.
    """

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)

    async def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        await self._connection.execute(statement, *args, **kwargs)
        raise ConnectionResetError("the connection was lost")


async def test_a_create_whose_answer_is_lost_is_not_written_twice(
    app: Starlette, gql: GraphQL, blog: Dataset, committed_engine: AsyncEngine
) -> None:
    container = app.state.container
    real = container.registration(ReadConnection).factory

    async def losing(engine: AsyncEngine) -> AsyncIterator[ReadConnection]:
        async for reads in real(engine):
            yield ReadConnection(cast(Any, LostAfterCommit(reads.connection)))

    with container.override(ReadConnection, factory=losing):
        body = await gql('mutation { createRole(input: {name: "auditor"}) { name } }')

    assert body["data"] == {"createRole": None}
    [error] = body["errors"]
    assert error["path"] == ["createRole"]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    async with committed_engine.connect() as connection:
        names = await connection.scalars(text("SELECT name FROM roles WHERE name = 'auditor'"))
        # Written once, by the INSERT whose answer was lost: a statement of its own,
        # it commits on its own (fast_query.write_statement), on both databases.
        assert list(names) == ["auditor"]
