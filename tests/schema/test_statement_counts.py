"""Batching: the statements a query runs depend on its shape, never on its page sizes.

The numbers are exact: they pin what the loaders do today (one statement per
level and relation), so a change that adds a statement per row shows here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from tests.api import Dataset, GraphQL, StatementCounter, gid
from tests.schema.support import CROWD_USERS, crowd_comments_of, crowd_posts_of, deployed_app


@pytest.fixture(scope="module", params=["fast-path", "resolvers"])
def mode(request: pytest.FixtureRequest) -> str:
    """How queries run: planned by the fast path (the default), or through the resolvers."""
    return str(request.param)


@pytest.fixture(scope="module")
async def app(mode: str, database_url: str) -> AsyncIterator[Starlette]:
    """The application as deployed, with the fast path on or off.

    (The package's ``app`` runs every query both ways to compare them, which
    would count the statements of both.)
    """
    fast_path = mode == "fast-path"
    async with deployed_app(database_url=database_url, graphql_fast_path=fast_path) as application:
        yield application


@pytest.fixture(scope="module")
async def app_engine(app: Starlette) -> AsyncEngine:
    engine: AsyncEngine = await app.state.container.get(AsyncEngine)
    return engine


async def statements(gql: GraphQL, sql: StatementCounter, query: str) -> int:
    """How many statements ``query`` runs (it must succeed)."""
    with sql:
        before = sql.count
        await gql.data(query)
        return sql.count - before


@pytest.mark.parametrize("size", [1, 5, 50, 100])
async def test_posts_with_authors_take_one_statement_or_two(
    gql: GraphQL, crowd: Dataset, sql: StatementCounter, size: int, mode: str
) -> None:
    query = f"{{ posts(first: {size}) {{ nodes {{ title author {{ name }} }} }} }}"

    # The fast path joins the author into the posts' statement; the resolvers batch
    # the authors of the page with a dataloader.
    assert await statements(gql, sql, query) == (1 if mode == "fast-path" else 2)


@pytest.mark.parametrize(
    ("users", "posts", "comments"),
    [
        pytest.param(20, 10, 5, id="20-10-5"),
        pytest.param(2, 1, 1, id="2-1-1"),
        pytest.param(25, 5, 3, id="25-5-3"),
        pytest.param(3, 0, 5, id="3-0-5"),
    ],
)
async def test_three_nested_levels_take_four_statements(
    gql: GraphQL,
    crowd: Dataset,
    sql: StatementCounter,
    users: int,
    posts: int,
    comments: int,
    mode: str,
) -> None:
    query = f"""
    {{ users(first: {users}) {{ nodes {{ posts(first: {posts}) {{ nodes {{
        comments(first: {comments}) {{ nodes {{ author {{ name }} }} }} }} }} }} }} }}
    """
    # With no posts at all, no comment or author statement runs. The fast path
    # joins the authors into the comments' statement.
    expected = (3 if mode == "fast-path" else 4) if posts else 2

    assert await statements(gql, sql, query) == expected


@pytest.mark.parametrize(
    ("counted", "expected"),
    [
        pytest.param("", 4, id="none"),
        pytest.param("u", 5, id="users"),
        pytest.param("p", 5, id="posts"),
        pytest.param("c", 5, id="comments"),
        pytest.param("up", 6, id="users-posts"),
        pytest.param("pc", 6, id="posts-comments"),
        pytest.param("upc", 7, id="every-level"),
    ],
)
@pytest.mark.parametrize("size", [2, 20])
async def test_total_count_adds_one_statement_per_level(
    gql: GraphQL,
    crowd: Dataset,
    sql: StatementCounter,
    counted: str,
    expected: int,
    size: int,
    mode: str,
) -> None:
    def total(level: str) -> str:
        return "totalCount" if level in counted else ""

    query = f"""
    {{ users(first: {size}) {{ {total("u")} nodes {{ posts(first: {size}) {{ {total("p")} nodes {{
        comments(first: {size}) {{ {total("c")} nodes {{ author {{ name }} }} }} }} }} }} }} }}
    """
    joined_authors = mode == "fast-path"  # no statement of their own

    assert await statements(gql, sql, query) == expected - joined_authors


async def test_loaders_of_one_level_run_side_by_side(
    gql: GraphQL, crowd: Dataset, sql: StatementCounter, mode: str
) -> None:
    # author, comments and comments.totalCount of every post resolve concurrently on one
    # session: on PostgreSQL this fails with "concurrent operations are not permitted"
    # unless the session serializes them.
    query = """
    { posts(first: 60) { nodes { title author { name }
        comments { totalCount nodes { body } } } } }
    """

    with sql:
        before = sql.count
        data = await gql.data(query)
        count = sql.count - before

    expected = []
    for u in range(CROWD_USERS):
        for p in range(crowd_posts_of(u)):
            bodies = [f"Comment {u:02}.{p}.{c}" for c in range(crowd_comments_of(u, p))]
            expected.append(
                {
                    "title": f"Post {u:02}.{p}",
                    "author": {"name": f"User {u:02}"},
                    "comments": {
                        "totalCount": len(bodies),
                        "nodes": [{"body": body} for body in bodies],
                    },
                }
            )
    assert data == {"posts": {"nodes": expected}}
    # posts, authors (joined to the posts on the fast path), comments, their counts
    assert count == (3 if mode == "fast-path" else 4)


async def test_root_fields_run_side_by_side(
    gql: GraphQL, crowd: Dataset, sql: StatementCounter, mode: str
) -> None:
    query = """
    { users(first: 5) { totalCount nodes { name roles { name } } }
      posts(first: 5) { totalCount nodes { author { name } } }
      comments(first: 5) { totalCount nodes { post { title } author { name } } }
      roles { totalCount nodes { name } } }
    """

    # users 2 + roles of users 1 + posts 2 + authors 1 + comments 2 + post and author 2
    # + roles 2 (the authors of posts and of comments share one loader, but run apart).
    # The fast path joins the three to-one relations into their rows' statements.
    assert await statements(gql, sql, query) == (9 if mode == "fast-path" else 12)


IDS = "{ nodes { id } }"


@pytest.mark.parametrize(
    ("selection", "expected"),
    [
        pytest.param(f"a: posts(first: 1) {IDS} b: posts(first: 1) {IDS}", 2, id="same-arguments"),
        pytest.param(f"a: posts(first: 1) {IDS} b: posts(first: 2) {IDS}", 3, id="other-page"),
        pytest.param(f"a: posts {IDS} b: posts(trashed: WITH) {IDS}", 3, id="other-trashed"),
        pytest.param(
            f'a: posts {IDS} b: posts(where: {{title: {{ne: "x"}}}}) {IDS}', 3, id="other-filter"
        ),
        pytest.param(f"a: posts {IDS} b: comments {IDS}", 3, id="other-relation"),
    ],
)
async def test_nested_fields_share_loaders_by_their_arguments(
    gql: GraphQL, crowd: Dataset, sql: StatementCounter, selection: str, expected: int
) -> None:
    query = f"{{ users(first: 25) {{ nodes {{ {selection} }} }} }}"

    assert await statements(gql, sql, query) == expected


async def test_many_to_many_pages_take_two_statements(
    gql: GraphQL, blog: Dataset, sql: StatementCounter
) -> None:
    query = "{ roles { nodes { users(first: 2) { nodes { name roles { name } } } } } }"

    assert await statements(gql, sql, query) == 3


async def test_nodes_load_once_per_type(
    gql: GraphQL, crowd: Dataset, sql: StatementCounter
) -> None:
    ids = [gid("User", crowd.users[f"u{u:02}"]) for u in range(10)]
    ids += [gid("Post", key) for key in list(crowd.posts.values())[:10]]
    ids += [gid("Comment", 999), gid("Banana", 1)]
    query = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"

    with sql:
        before = sql.count
        data = await gql.data(query, {"ids": ids})
        count = sql.count - before

    assert data == {"nodes": [{"id": value} for value in ids[:20]] + [None, None]}
    assert count == 3  # users, posts and comments: one statement each


@pytest.mark.parametrize(
    ("query", "fast_path", "resolvers"),
    [
        pytest.param(
            '{ user(id: "VXNlcjox") { id name email createdAt } }', 1, 1, id="W1-user-by-id"
        ),
        pytest.param("{ posts(first: 50) { nodes { title author { name } } } }", 1, 2, id="W2"),
        pytest.param(
            "{ users(first: 20) { nodes { name posts(first: 10) { nodes { title "
            "comments(first: 5) { nodes { body author { name } } } } } } } }",
            3,
            4,
            id="W3",
        ),
        pytest.param("{ posts(first: 100) { nodes { id title body createdAt } } }", 1, 1, id="W5"),
        pytest.param(
            '{ posts(first: 5, after: "WzEsImlkOmEiLFsxMF1d") { nodes { id title } } }',
            1,
            1,
            id="W7-deep-page",
        ),
        pytest.param(
            '{ posts(first: 5, after: "WzEsImlkOmEiLFsxMF1d") { totalCount nodes { id } } }',
            2,
            2,
            id="W7-with-total",
        ),
    ],
)
async def test_benchmark_workloads_run_a_fixed_number_of_statements(
    gql: GraphQL,
    crowd: Dataset,
    sql: StatementCounter,
    query: str,
    fast_path: int,
    resolvers: int,
    mode: str,
) -> None:
    """Issue 4's targets: W1 = 1, W2 <= 2, W3 <= 4, W5 = 1, W7 = 1 (+1 with totalCount).

    The fast path joins the authors to their rows: W2 is 1 statement, W3 is 3.
    """
    expected = fast_path if mode == "fast-path" else resolvers
    assert await statements(gql, sql, query) == expected


async def test_benchmark_create_comment_runs_a_fixed_number_of_statements(
    gql: GraphQL, crowd: Dataset, sql: StatementCounter, mode: str
) -> None:
    """W4: one ``INSERT ... SELECT ... WHERE <checks>`` on the fast path; the
    resolvers check the input's rows in one statement, then insert."""
    post, author = next(iter(crowd.posts.values())), next(iter(crowd.users.values()))
    query = (
        f'mutation {{ createComment(input: {{postId: "{gid("Post", post)}", '
        f'authorId: "{gid("User", author)}", body: "Counted"}}) {{ id body }} }}'
    )
    assert await statements(gql, sql, query) == (1 if mode == "fast-path" else 2)
