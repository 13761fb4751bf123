"""Row rules: the SQL a rule compiles to keeps exactly the rows its Python evaluation allows."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fast_query import (
    AllOf,
    AnyOf,
    Anyone,
    Equals,
    Flag,
    IsNull,
    IsTrue,
    Nobody,
    Reaches,
    Rule,
)
from models import Comment, Post, User
from tests.fast_query.support import Blog

# Every test here reads one blog, seeded once for the module (see conftest.py).
SEEDED_ONCE = True

FLAGS = ("viewer_is_admin", "viewer_is_editor")
PROPERTY = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def combined(leaves: st.SearchStrategy[Rule]) -> st.SearchStrategy[Rule]:
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.builds(AnyOf, st.tuples(inner, inner)),
            st.builds(AllOf, st.tuples(inner, inner)),
        ),
        max_leaves=6,
    )


COMMON = [st.just(Anyone()), st.just(Nobody()), *(st.just(Flag(flag)) for flag in FLAGS)]
USER_RULES = combined(
    st.one_of(*COMMON, st.just(Equals("id", "viewer_id")), st.just(IsNull("deleted_at")))
)
POST_RULES = combined(
    st.one_of(
        *COMMON,
        st.just(Equals("user_id", "viewer_id")),
        st.just(IsTrue("published")),
        st.just(IsNull("deleted_at")),
        st.builds(Reaches, st.just("author"), USER_RULES),
    )
)
COMMENT_RULES = combined(
    st.one_of(
        *COMMON,
        st.just(Equals("user_id", "viewer_id")),
        st.builds(Reaches, st.just("post"), POST_RULES),
        st.builds(Reaches, st.just("author"), USER_RULES),
    )
)


VIEWERS = st.fixed_dictionaries(
    {
        "viewer": st.one_of(st.none(), st.sampled_from(["Ada", "Bob", "Cyd", "Dee", "Eve"])),
        **{flag: st.booleans() for flag in FLAGS},
    }
)


def params_of(viewer: dict[str, Any], blog: Blog) -> dict[str, Any]:
    """The request values of a drawn viewer: its user's key (or None) and its flags."""
    name = viewer["viewer"]
    return {
        "viewer_id": None if name is None else blog.users[name],
        **{flag: viewer[flag] for flag in FLAGS},
    }


async def rows(session: AsyncSession) -> dict[type[Any], list[SimpleNamespace]]:
    """Every user, post and comment as a plain object, its to-one relations attached."""

    def plain(model: type[Any], values: Any) -> SimpleNamespace:
        return SimpleNamespace(**{column.key: values[column.key] for column in model.__table__.c})

    users = {
        row.id: plain(User, row._mapping)
        for row in await session.execute(select(*User.__table__.c))
    }
    posts = {
        row.id: plain(Post, row._mapping)
        for row in await session.execute(select(*Post.__table__.c))
    }
    comments = [
        plain(Comment, row._mapping) for row in await session.execute(select(*Comment.__table__.c))
    ]
    for post in posts.values():
        post.author = users[post.user_id]
    for comment in comments:
        comment.post, comment.author = posts[comment.post_id], users[comment.user_id]
    return {User: list(users.values()), Post: list(posts.values()), Comment: comments}


async def check(
    session: AsyncSession, model: type[Any], rule: Rule, params: dict[str, Any]
) -> None:
    kept = set((await session.scalars(select(model.id).where(rule.where(model)), params)).all())
    everything = await rows(session)
    assert kept == {row.id for row in everything[model] if rule.allows(row, params)}, rule


@pytest.mark.parametrize(
    ("model", "rules"),
    [
        pytest.param(User, USER_RULES, id="users"),
        pytest.param(Post, POST_RULES, id="posts"),
        pytest.param(Comment, COMMENT_RULES, id="comments"),
    ],
)
@PROPERTY
@given(data=st.data(), viewer=VIEWERS)
async def test_a_rule_keeps_in_sql_the_rows_it_allows_in_python(
    session: AsyncSession,
    blog: Blog,
    model: type[Any],
    rules: st.SearchStrategy[Rule],
    data: st.DataObject,
    viewer: dict[str, Any],
) -> None:
    await check(session, model, data.draw(rules, label="rule"), params_of(viewer, blog))


async def test_the_contracts_post_rule_for_each_viewer(session: AsyncSession, blog: Blog) -> None:
    # Section 8: a published post for everyone; an unpublished one for its author,
    # editors and admins.
    readable = IsTrue("published") | Equals("user_id", "viewer_id") | Flag("viewer_is_editor")
    readable = readable | Flag("viewer_is_admin")
    nobody = {"viewer_id": None, "viewer_is_admin": False, "viewer_is_editor": False}
    ada = {**nobody, "viewer_id": blog.users["Ada"]}
    editor = {**nobody, "viewer_is_editor": True}
    titles = {key: title for title, key in blog.posts.items()}

    async def seen(params: dict[str, Any]) -> set[str]:
        statement = select(Post.id).where(readable.where(Post))
        return {titles[key] for key in (await session.scalars(statement, params)).all()}

    drafts = {"SQL tricks", "Eve's draft"}
    assert drafts.isdisjoint(await seen(nobody))
    assert "SQL tricks" in await seen(ada) and "Eve's draft" not in await seen(ada)
    assert drafts <= await seen(editor)
    for params in (nobody, ada, editor):
        await check(session, Post, readable, params)


def test_reaches_needs_a_to_one_relation() -> None:
    with pytest.raises(TypeError, match="to-one"):
        Reaches("comments", Anyone()).where(Post)
