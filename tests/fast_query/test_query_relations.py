"""QueryBuilder relationship existence: where_has, where_doesnt_have and has_condition."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import ColumnElement, or_
from sqlalchemy.ext.asyncio import AsyncSession

from fast_query import InvalidQuery, QueryBuilder
from models import Comment, Post, Role, User
from tests.fast_query.support import Blog, users_named, where_clause

# Every test here reads one blog, seeded once for the module (see conftest.py).
SEEDED_ONCE = True


# -- where_has / where_doesnt_have ------------------------------------------------

ON_BASICS: Callable[[QueryBuilder[Any]], QueryBuilder[Any]] = lambda q: q.where(  # noqa: E731
    Comment.body.in_(["Great intro", "Stale"])
)


@pytest.mark.parametrize(
    ("model", "relation", "condition", "expected"),
    [
        # one-to-many; Eve's only post is trashed, Cyd is trashed herself
        pytest.param(User, "posts", None, ["Ada", "Bob"], id="one-to-many"),
        pytest.param(
            User, "posts", Post.published.is_(False), ["Ada"], id="one-to-many-expression"
        ),
        pytest.param(
            User,
            "posts",
            lambda q: q.where(published=False),
            ["Ada"],
            id="one-to-many-callable",
        ),
        pytest.param(User, "comments", None, ["Ada", "Bob", "Dee"], id="one-to-many-no-scope"),
        # many-to-one; "Ghost story" belongs to trashed Cyd
        pytest.param(
            Post, "author", None, ["GraphQL basics", "SQL tricks", "Bob writes"], id="many-to-one"
        ),
        pytest.param(
            Post, "author", User.name == "Bob", ["Bob writes"], id="many-to-one-expression"
        ),
        pytest.param(
            Comment, "post", None, ["Great intro", "Thanks", "Boo"], id="many-to-one-trashed-post"
        ),
        # many-to-many through user_roles; reader's only user is trashed
        pytest.param(User, "roles", None, ["Ada", "Bob"], id="many-to-many"),
        pytest.param(User, "roles", Role.name == "admin", ["Ada"], id="many-to-many-expression"),
        pytest.param(Role, "users", None, ["admin", "editor"], id="many-to-many-trashed-target"),
        pytest.param(
            Role, "users", lambda q: q.where(name="Bob"), ["editor"], id="many-to-many-callable"
        ),
        # dotted paths: "Stale" and "Hidden" sit on trashed posts
        pytest.param(User, "posts.comments", None, ["Ada"], id="dotted"),
        pytest.param(User, "posts.comments", Comment.body == "Stale", [], id="dotted-trashed-mid"),
        pytest.param(User, "posts.comments", ON_BASICS, ["Ada"], id="dotted-callable"),
        pytest.param(Comment, "post.author", None, ["Great intro", "Thanks"], id="dotted-to-one"),
        pytest.param(Role, "users.posts", None, ["admin", "editor"], id="dotted-many-to-many"),
    ],
)
async def test_where_has(
    session: AsyncSession,
    blog: Blog,
    model: type[Any],
    relation: str,
    condition: Any,
    expected: list[str],
) -> None:
    label = {User: "name", Post: "title", Comment: "body", Role: "name"}[model]
    query = QueryBuilder(model, session).where_has(relation, condition).order_by("id")
    assert await query.pluck(label) == expected
    everything = await QueryBuilder(model, session).order_by("id").pluck(label)
    missing = QueryBuilder(model, session).where_doesnt_have(relation, condition).order_by("id")
    assert await missing.pluck(label) == [name for name in everything if name not in expected]


async def test_where_doesnt_have(session: AsyncSession, blog: Blog) -> None:
    users = QueryBuilder(User, session)
    assert await users_named(users.where_doesnt_have("posts")) == ["Dee", "Eve"]
    assert await users_named(users.where_doesnt_have("roles")) == ["Dee", "Eve"]
    assert await users_named(users.where_doesnt_have("posts.comments")) == ["Bob", "Dee", "Eve"]
    roles = QueryBuilder(Role, session).where_doesnt_have("users").order_by("name")
    assert await roles.pluck("name") == ["guest", "reader"]


def test_where_has_sql() -> None:
    query = QueryBuilder(User).where_has("posts.comments", lambda q: q.where(user_id=7))
    assert where_clause(query) == (
        "(EXISTS (SELECT 1 FROM posts WHERE users.id = posts.user_id AND (EXISTS (SELECT 1 "
        "FROM comments WHERE posts.id = comments.post_id AND comments.user_id = 7)) "
        "AND posts.deleted_at IS NULL)) AND users.deleted_at IS NULL"
    )
    assert where_clause(QueryBuilder(User).where_doesnt_have("roles")) == (
        "NOT (EXISTS (SELECT 1 FROM roles, user_roles WHERE users.id = user_roles.user_id "
        "AND roles.id = user_roles.role_id)) AND users.deleted_at IS NULL"
    )


async def test_has_condition_composes_with_or(session: AsyncSession, blog: Blog) -> None:
    users = QueryBuilder(User, session)
    admin = users.has_condition("roles", Role.name == "admin")
    assert isinstance(admin, ColumnElement)
    assert await users_named(users.where(or_(admin, User.name == "Dee"))) == ["Ada", "Dee"]


@pytest.mark.parametrize(
    "relation",
    [
        pytest.param("friends", id="unknown"),
        pytest.param("posts.likes", id="unknown-nested"),
        pytest.param("name", id="column-not-relationship"),
    ],
)
def test_where_has_unknown_relationship_raises(relation: str) -> None:
    with pytest.raises(InvalidQuery, match="has no relationship"):
        QueryBuilder(User).where_has(relation)
