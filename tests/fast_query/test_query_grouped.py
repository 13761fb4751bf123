"""QueryBuilder reads for many parents in one statement (get_grouped, count_grouped, ...)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import FromClause, Select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from fast_query import InvalidQuery, NoSessionBound, QueryBuilder
from models import Comment, Post, Role, User
from tests.conftest import StatementCounter
from tests.fast_query.support import Blog

# Every test here reads one blog, seeded once for the module (see conftest.py).
SEEDED_ONCE = True


def titles(groups: dict[Any, list[Post]], blog: Blog) -> dict[str, list[str]]:
    names = {id: name for name, id in blog.users.items()}
    return {
        names.get(parent, parent): [post.title for post in posts]
        for parent, posts in groups.items()
    }


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        pytest.param(
            lambda q: q.order_by("id"),
            {"Ada": ["GraphQL basics", "SQL tricks"], "Bob": ["Bob writes"], "Dee": [], "Eve": []},
            id="all",
        ),
        pytest.param(
            lambda q: q.latest(),
            {"Ada": ["SQL tricks", "GraphQL basics"], "Bob": ["Bob writes"], "Dee": [], "Eve": []},
            id="in-order",
        ),
        pytest.param(
            lambda q: q.with_trashed().latest(),
            {
                "Ada": ["Old news", "SQL tricks", "GraphQL basics"],
                "Bob": ["Bob writes"],
                "Dee": [],
                "Eve": ["Eve's draft"],
            },
            id="with-trashed",
        ),
        pytest.param(
            lambda q: q.where(published=True),
            {"Ada": ["GraphQL basics"], "Bob": ["Bob writes"], "Dee": [], "Eve": []},
            id="filtered",
        ),
    ],
)
@pytest.mark.parametrize("limit", [pytest.param(None, id="no-limit"), pytest.param(10, id="limit")])
async def test_get_grouped(
    session: AsyncSession,
    blog: Blog,
    statements: StatementCounter,
    call: Any,
    expected: dict[str, list[str]],
    limit: int | None,
) -> None:
    parents = [blog.users[name] for name in ("Ada", "Bob", "Dee", "Eve")]
    query: QueryBuilder[Post] = call(QueryBuilder(Post, session))
    statements.reset()
    groups = await query.get_grouped(User.posts, parents, limit_per_parent=limit)
    assert statements.count == 1
    assert list(groups) == parents
    assert titles(groups, blog) == expected


@pytest.mark.parametrize(
    ("limit", "expected"),
    [
        pytest.param(
            1, {"Ada": ["Old news"], "Bob": ["Bob writes"], "Eve": ["Eve's draft"]}, id="one"
        ),
        pytest.param(
            2,
            {"Ada": ["Old news", "SQL tricks"], "Bob": ["Bob writes"], "Eve": ["Eve's draft"]},
            id="two",
        ),
        pytest.param(0, {"Ada": [], "Bob": [], "Eve": []}, id="zero"),
    ],
)
async def test_get_grouped_limits_each_parent(
    session: AsyncSession, blog: Blog, limit: int, expected: dict[str, list[str]]
) -> None:
    parents = [blog.users[name] for name in ("Ada", "Bob", "Eve")]
    query = QueryBuilder(Post, session).with_trashed().latest()
    groups = await query.get_grouped(User.posts, parents, limit_per_parent=limit)
    assert titles(groups, blog) == expected


async def test_get_grouped_many_to_many(session: AsyncSession, blog: Blog) -> None:
    roles = QueryBuilder(Role, session).order_by("name", "desc")
    users = [blog.users[name] for name in ("Ada", "Bob", "Dee")]
    groups = await roles.get_grouped(User.roles, users)
    assert {parent: [role.name for role in rows] for parent, rows in groups.items()} == {
        blog.users["Ada"]: ["editor", "admin"],
        blog.users["Bob"]: ["editor"],
        blog.users["Dee"]: [],
    }
    # Cyd, reader's only member, is trashed.
    members = QueryBuilder(User, session).order_by("name")
    by_role = await members.get_grouped(Role.users, [blog.roles["editor"], blog.roles["reader"]])
    assert [[user.name for user in rows] for rows in by_role.values()] == [["Ada", "Bob"], []]
    limited = await members.get_grouped(Role.users, [blog.roles["editor"]], limit_per_parent=1)
    assert [user.name for user in limited[blog.roles["editor"]]] == ["Ada"]


async def test_rows_grouped(session: AsyncSession, blog: Blog) -> None:
    parents = [blog.users["Ada"], blog.users["Dee"]]
    query = QueryBuilder(Post, session).latest()
    groups = await query.rows_grouped(User.posts, parents, ["id", "title"], limit_per_parent=1)
    assert {parent: [(row.id, row.title) for row in rows] for parent, rows in groups.items()} == {
        blog.users["Ada"]: [(blog.posts["SQL tricks"], "SQL tricks")],
        blog.users["Dee"]: [],
    }
    everything = await query.rows_grouped(User.posts, parents, ["title"])
    assert [row.title for row in everything[blog.users["Ada"]]] == ["SQL tricks", "GraphQL basics"]


async def test_count_grouped(
    session: AsyncSession, blog: Blog, statements: StatementCounter
) -> None:
    parents = [blog.users[name] for name in ("Ada", "Bob", "Dee", "Eve")] + [10_000]
    posts = QueryBuilder(Post, session)
    statements.reset()
    counts = await posts.count_grouped(User.posts, parents)
    assert statements.count == 1
    assert counts == dict(zip(parents, [2, 1, 0, 0, 0], strict=True))
    trashed_too = await posts.with_trashed().count_grouped(User.posts, parents)
    assert list(trashed_too.values()) == [3, 1, 0, 1, 0]
    users = QueryBuilder(User, session)
    by_role = await users.count_grouped(Role.users, list(blog.roles.values()))
    assert by_role == {
        blog.roles[name]: n
        for name, n in [("admin", 1), ("editor", 2), ("reader", 0), ("guest", 0)]
    }


async def test_grouped_reads_of_no_parents_run_nothing(
    session: AsyncSession, statements: StatementCounter
) -> None:
    posts = QueryBuilder(Post, session)
    statements.reset()
    assert await posts.get_grouped(User.posts, []) == {}
    assert await posts.rows_grouped(User.posts, [], ["title"]) == {}
    assert await posts.count_grouped(User.posts, []) == {}
    assert statements.count == 0


@pytest.mark.parametrize(
    ("model", "relation", "message"),
    [
        pytest.param(User, Post.author, "is not a to-many relationship", id="to-one"),
        pytest.param(Comment, User.posts, "does not lead to Comment", id="wrong-model"),
        pytest.param(Post, User.name, "is not a to-many relationship", id="column"),
    ],
)
async def test_grouped_reads_need_a_to_many_relationship(
    session: AsyncSession, model: type[Any], relation: Any, message: str
) -> None:
    query = QueryBuilder(model, session)
    with pytest.raises(InvalidQuery, match=message):
        await query.get_grouped(relation, [1])
    with pytest.raises(InvalidQuery, match=message):
        await query.count_grouped(relation, [1])


async def test_grouped_reads_refuse_eager_loading(session: AsyncSession, blog: Blog) -> None:
    posts = QueryBuilder(Post, session)
    with pytest.raises(InvalidQuery, match="do not combine with with_"):
        await posts.with_("comments").get_grouped(User.posts, [blog.users["Ada"]])
    with pytest.raises(InvalidQuery, match="do not combine with with_"):
        await posts.with_count("comments").get_grouped(User.posts, [blog.users["Ada"]])


async def test_rows(session: AsyncSession, blog: Blog) -> None:
    query = QueryBuilder(Post, session).where(published=True).latest().limit(2)
    rows = await query.rows("id", "title")
    assert [(row.id, row.title) for row in rows] == [
        (blog.posts["Ghost story"], "Ghost story"),
        (blog.posts["Bob writes"], "Bob writes"),
    ]
    assert [tuple(row) for row in await query.offset(2).rows("title")] == [("GraphQL basics",)]
    assert session.identity_map.keys() == set()  # plain rows, no objects


async def test_a_builder_without_a_session_builds_for_the_dialect_it_names(
    session: AsyncSession, blog: Blog
) -> None:
    # The fast path builds statements once and runs them on a bare connection.
    dialect = session.get_bind().dialect.name
    bare = QueryBuilder(Post, dialect=dialect).latest()
    bound = QueryBuilder(Post, session).latest()
    statement, read = bare.grouped_statement(User.posts, ["title"], limit_per_parent=1)
    expected, expected_read = bound.grouped_statement(User.posts, ["title"], limit_per_parent=1)
    assert (str(statement), read) == (str(expected), expected_read)
    counts = bare.count_grouped_statement(User.posts)
    assert str(counts) == str(bound.count_grouped_statement(User.posts))
    assert str(bare.where_key_in("id").statement) == str(bound.where_key_in("id").statement)
    # Only the per-parent limit differs by database (LATERAL or a window).
    unbound = QueryBuilder(Post).latest()
    assert str(unbound.count_grouped_statement(User.posts)) == str(counts)
    assert str(unbound.grouped_statement(User.posts, ["title"])[0]) == str(
        bound.grouped_statement(User.posts, ["title"])[0]
    )
    with pytest.raises(NoSessionBound):
        unbound.grouped_statement(User.posts, ["title"], limit_per_parent=1)
    rows = (await session.execute(statement, {"fq_parents": [blog.users["Ada"]]})).all()
    assert [row.title for row in rows] == ["SQL tricks"]


async def test_grouped_statement_extend_joins_columns_before_the_parent(
    session: AsyncSession, blog: Blog
) -> None:
    author = aliased(User, name="author")

    def with_author(statement: Select[Any], rows: FromClause) -> Select[Any]:
        # ``rows``: the posts' table, or on PostgreSQL the LATERAL page of each parent
        return statement.outerjoin(author, author.id == rows.c.user_id).add_columns(
            author.name.label("author_name")
        )

    parents = [blog.users["Ada"], blog.users["Bob"]]
    statement, read = (
        QueryBuilder(Post, session)
        .latest()
        .grouped_statement(User.posts, ["title", "user_id"], limit_per_parent=1, extend=with_author)
    )
    rows = (await session.execute(statement, {"fq_parents": parents})).all()

    assert read == ["title", "user_id", "created_at"]
    assert [(row[0], row[1], row[3], row[4]) for row in rows] == [
        ("SQL tricks", blog.users["Ada"], "Ada", blog.users["Ada"]),
        ("Bob writes", blog.users["Bob"], "Bob", blog.users["Bob"]),
    ]
