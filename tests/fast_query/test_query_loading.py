"""QueryBuilder eager loading (with_, with_joined) and relationship counts (with_count)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncSession

from fast_query import InvalidQuery, QueryBuilder
from models import Comment, Post, Role, User
from tests.conftest import StatementCounter
from tests.fast_query.support import Blog

# Every test here reads one blog, seeded once for the module (see conftest.py).
SEEDED_ONCE = True


LOADERS = [pytest.param("with_", id="selectin"), pytest.param("with_joined", id="joined")]


def loading(query: QueryBuilder[Any], loader: str, *paths: str) -> QueryBuilder[Any]:
    built: QueryBuilder[Any] = getattr(query, loader)(*paths)
    return built


def titles(posts: list[Post]) -> list[str]:
    return sorted(post.title for post in posts)


@pytest.mark.parametrize("loader", LOADERS)
async def test_loads_one_to_many_without_trashed_children(
    session: AsyncSession, blog: Blog, loader: str
) -> None:
    users = await loading(QueryBuilder(User, session), loader, "posts").order_by("id").get()
    # Ada's "Old news" and Eve's "Eve's draft" are trashed.
    assert {user.name: titles(user.posts) for user in users} == {
        "Ada": ["GraphQL basics", "SQL tricks"],
        "Bob": ["Bob writes"],
        "Dee": [],
        "Eve": [],
    }


@pytest.mark.parametrize("loader", LOADERS)
async def test_loads_dotted_paths(session: AsyncSession, blog: Blog, loader: str) -> None:
    query = loading(QueryBuilder(User, session), loader, "posts.comments")
    ada = await query.where(name="Ada").first_or_fail()
    assert {post.title: sorted(c.body for c in post.comments) for post in ada.posts} == {
        "GraphQL basics": ["Great intro", "Thanks"],
        "SQL tricks": [],
    }


@pytest.mark.parametrize("loader", LOADERS)
async def test_loads_many_to_many(session: AsyncSession, blog: Blog, loader: str) -> None:
    users = await loading(QueryBuilder(User, session), loader, "roles").order_by("id").get()
    assert {user.name: sorted(r.name for r in user.roles) for user in users} == {
        "Ada": ["admin", "editor"],
        "Bob": ["editor"],
        "Dee": [],
        "Eve": [],
    }
    roles = await loading(QueryBuilder(Role, session), loader, "users").order_by("id").get()
    # reader's only member, Cyd, is trashed.
    assert {role.name: sorted(u.name for u in role.users) for role in roles} == {
        "admin": ["Ada"],
        "editor": ["Ada", "Bob"],
        "reader": [],
        "guest": [],
    }


@pytest.mark.parametrize("loader", LOADERS)
async def test_loads_many_to_one_even_when_the_parent_is_trashed(
    session: AsyncSession, blog: Blog, loader: str
) -> None:
    # A post keeps its author: only collections drop trashed rows.
    posts = await loading(QueryBuilder(Post, session), loader, "author").order_by("id").get()
    assert [(post.title, post.author.name) for post in posts] == [
        ("GraphQL basics", "Ada"),
        ("SQL tricks", "Ada"),
        ("Bob writes", "Bob"),
        ("Ghost story", "Cyd"),
    ]
    comments = await loading(QueryBuilder(Comment, session), loader, "post.author").get()
    assert sorted((c.body, c.post.title, c.post.author.name) for c in comments) == [
        ("Boo", "Ghost story", "Cyd"),
        ("Great intro", "GraphQL basics", "Ada"),
        ("Hidden", "Eve's draft", "Eve"),
        ("Stale", "Old news", "Ada"),
        ("Thanks", "GraphQL basics", "Ada"),
    ]


async def test_relationships_not_loaded_raise(session: AsyncSession, blog: Blog) -> None:
    user = await QueryBuilder(User, session).with_("roles").where(name="Ada").first_or_fail()
    assert sorted(role.name for role in user.roles) == ["admin", "editor"]
    with pytest.raises(
        InvalidRequestError, match="'User.posts' is not available due to lazy='raise'"
    ):
        _ = user.posts
    post = await QueryBuilder(Post, session).where(title="Bob writes").first_or_fail()
    with pytest.raises(InvalidRequestError, match="'Post.author' is not available"):
        _ = post.author


async def test_joined_loading_keeps_one_object_per_row(session: AsyncSession, blog: Blog) -> None:
    query = QueryBuilder(User, session).with_joined("posts.comments", "roles").order_by("id")
    users = await query.get()
    assert [user.name for user in users] == ["Ada", "Bob", "Dee", "Eve"]
    # LIMIT counts users, not joined rows (Ada alone has 2 posts x 2 roles).
    first_two = await query.limit(2).get()
    assert [(user.name, len(user.posts), len(user.roles)) for user in first_two] == [
        ("Ada", 2, 2),
        ("Bob", 1, 1),
    ]
    first = await query.first()
    assert first is not None
    assert (first.name, titles(first.posts)) == ("Ada", ["GraphQL basics", "SQL tricks"])


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        pytest.param(lambda q: q, 1, id="plain"),
        pytest.param(lambda q: q.with_("posts"), 2, id="with-one"),
        pytest.param(lambda q: q.with_("posts.comments"), 3, id="with-dotted"),
        pytest.param(lambda q: q.with_("posts", "roles"), 3, id="with-two"),
        pytest.param(lambda q: q.with_("posts").with_("comments"), 3, id="with-chained"),
        pytest.param(lambda q: q.with_("posts.comments.author"), 4, id="with-three-levels"),
        pytest.param(lambda q: q.with_joined("posts"), 1, id="joined"),
        pytest.param(lambda q: q.with_joined("posts.comments", "roles"), 1, id="joined-many"),
        pytest.param(lambda q: q.with_joined("roles").with_("posts"), 2, id="joined-and-selectin"),
        pytest.param(lambda q: q.with_count("posts", "comments", "roles"), 1, id="counts"),
        pytest.param(lambda q: q.with_("posts").with_count("posts"), 2, id="with-and-count"),
        pytest.param(lambda q: q.with_joined("posts").with_count("roles"), 1, id="joined-count"),
    ],
)
async def test_eager_loading_statement_count(
    session: AsyncSession,
    blog: Blog,
    statements: StatementCounter,
    call: Any,
    expected: int,
) -> None:
    query: QueryBuilder[User] = call(QueryBuilder(User, session))
    statements.reset()
    users = await query.get()
    assert statements.count == expected
    assert sorted(user.name for user in users) == ["Ada", "Bob", "Dee", "Eve"]


async def test_loaded_graph_needs_no_more_statements(
    session: AsyncSession, blog: Blog, statements: StatementCounter
) -> None:
    query = QueryBuilder(User, session).with_("posts.comments.author", "roles").order_by("id")
    statements.reset()
    users = await query.get()
    assert statements.count == 5
    graph = {
        user.name: (
            sorted(role.name for role in user.roles),
            {
                post.title: sorted((c.body, c.author.name) for c in post.comments)
                for post in user.posts
            },
        )
        for user in users
    }
    assert statements.count == 5
    assert graph == {
        "Ada": (
            ["admin", "editor"],
            {"GraphQL basics": [("Great intro", "Bob"), ("Thanks", "Ada")], "SQL tricks": []},
        ),
        "Bob": (["editor"], {"Bob writes": []}),
        "Dee": ([], {}),
        "Eve": ([], {}),
    }


@pytest.mark.parametrize(
    ("model", "relation", "expected"),
    [
        pytest.param(User, "posts", {"Ada": 2, "Bob": 1, "Dee": 0, "Eve": 0}, id="one-to-many"),
        pytest.param(
            User, "comments", {"Ada": 2, "Bob": 2, "Dee": 1, "Eve": 0}, id="one-to-many-no-scope"
        ),
        pytest.param(User, "roles", {"Ada": 2, "Bob": 1, "Dee": 0, "Eve": 0}, id="many-to-many"),
        pytest.param(
            Role,
            "users",
            {"admin": 1, "editor": 2, "reader": 0, "guest": 0},
            id="many-to-many-trashed-target",
        ),
        pytest.param(
            Post,
            "comments",
            {"GraphQL basics": 2, "SQL tricks": 0, "Bob writes": 0, "Ghost story": 1},
            id="post-comments",
        ),
        pytest.param(
            Post,
            "author",
            {"GraphQL basics": 1, "SQL tricks": 1, "Bob writes": 1, "Ghost story": 0},
            id="many-to-one",
        ),
    ],
)
async def test_with_count(
    session: AsyncSession,
    blog: Blog,
    model: type[Any],
    relation: str,
    expected: dict[str, int],
) -> None:
    label = "title" if model is Post else "name"
    rows = await QueryBuilder(model, session).with_count(relation).get()
    assert {getattr(row, label): getattr(row, f"{relation}_count") for row in rows} == expected


async def test_with_count_several_and_with_filters(session: AsyncSession, blog: Blog) -> None:
    query = (
        QueryBuilder(User, session)
        .with_count("posts", "roles")
        .with_count("comments")
        .where_has("posts")
        .latest()
    )
    rows = await query.get()
    assert [(u.name, u.posts_count, u.roles_count, u.comments_count) for u in rows] == [  # type: ignore[attr-defined]
        ("Bob", 1, 1, 2),
        ("Ada", 2, 2, 2),
    ]
    first = await query.first()
    assert first is not None
    assert (first.name, first.posts_count) == ("Bob", 1)  # type: ignore[attr-defined]
    page = await query.paginate(page=2, per_page=1)
    assert [(u.name, u.posts_count) for u in page.items] == [("Ada", 2)]  # type: ignore[attr-defined]
    assert page.total == 2


async def test_with_count_and_with_joined(session: AsyncSession, blog: Blog) -> None:
    rows = await QueryBuilder(User, session).with_joined("posts").with_count("posts").get()
    assert sorted((u.name, len(u.posts), u.posts_count) for u in rows) == [  # type: ignore[attr-defined]
        ("Ada", 2, 2),
        ("Bob", 1, 1),
        ("Dee", 0, 0),
        ("Eve", 0, 0),
    ]


def test_with_count_sql() -> None:
    sql = " ".join(QueryBuilder(User).with_count("posts", "roles").to_sql("sqlite").split())
    assert sql == (
        "SELECT users.id, users.name, users.email, users.created_at, users.updated_at, "
        "users.deleted_at, (SELECT count(*) AS count_1 FROM posts WHERE users.id = posts.user_id "
        "AND posts.deleted_at IS NULL) AS posts_count, (SELECT count(*) AS count_2 FROM "
        "user_roles JOIN roles ON roles.id = user_roles.role_id WHERE users.id = "
        "user_roles.user_id) AS roles_count FROM users WHERE users.deleted_at IS NULL"
    )


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda q: q.with_("friends"), id="with"),
        pytest.param(lambda q: q.with_("posts.likes"), id="with-dotted"),
        pytest.param(lambda q: q.with_joined("email"), id="joined-column"),
        pytest.param(lambda q: q.with_count("friends"), id="count"),
        pytest.param(lambda q: q.with_count("posts.comments"), id="count-dotted"),
    ],
)
def test_unknown_relationships_raise(call: Any) -> None:
    with pytest.raises(InvalidQuery, match="has no relationship"):
        call(QueryBuilder(User))
