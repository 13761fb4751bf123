"""QueryBuilder filters: where and its variants, LIKE, relationship existence, trashed scopes."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest
from sqlalchemy import or_
from sqlalchemy.ext.asyncio import AsyncSession

from fast_query import InvalidQuery, QueryBuilder, Trashed, escape_like, like
from models import Comment, Post, User
from tests.fast_query.support import EPOCH, Blog, users_named, where_clause

# Every test here reads one blog, seeded once for the module (see conftest.py).
SEEDED_ONCE = True


async def post_titles(query: QueryBuilder[Post]) -> list[str]:
    return [post.title for post in await query.order_by("id").get()]


# -- where ---------------------------------------------------------------------


async def test_where_takes_expressions(session: AsyncSession, blog: Blog) -> None:
    query = QueryBuilder(User, session).where(User.name >= "Bob", User.name < "Eve")
    assert await users_named(query) == ["Bob", "Dee"]
    assert where_clause(query) == (
        "users.name >= 'Bob' AND users.name < 'Eve' AND users.deleted_at IS NULL"
    )


async def test_where_takes_keyword_equalities(session: AsyncSession, blog: Blog) -> None:
    query = QueryBuilder(Post, session).where(user_id=blog.users["Ada"], published=True)
    assert await post_titles(query) == ["GraphQL basics"]
    assert where_clause(query) == (
        f"posts.user_id = {blog.users['Ada']} AND posts.published = 1 AND posts.deleted_at IS NULL"
    )


async def test_where_with_none_is_null(session: AsyncSession, blog: Blog) -> None:
    query = QueryBuilder(User, session).with_trashed().where(deleted_at=None)
    assert await users_named(query) == ["Ada", "Bob", "Dee", "Eve"]
    assert where_clause(query) == "users.deleted_at IS NULL"


async def test_where_calls_are_anded(session: AsyncSession, blog: Blog) -> None:
    query = QueryBuilder(Post, session).where(published=True).where(user_id=blog.users["Bob"])
    assert await post_titles(query) == ["Bob writes"]


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda q: q.where(), id="where-nothing"),
        pytest.param(lambda q: q.or_where(), id="or-where-nothing"),
        pytest.param(lambda q: q.where(nickname="x"), id="unknown-keyword"),
        pytest.param(lambda q: q.where_in("nickname", [1]), id="unknown-column"),
        pytest.param(lambda q: q.where_null("is_deleted"), id="python-property"),
        pytest.param(lambda q: q.order_by("name", "sideways"), id="bad-direction"),
        pytest.param(lambda q: q.limit(-1), id="negative-limit"),
        pytest.param(lambda q: q.offset(-1), id="negative-offset"),
    ],
)
def test_impossible_queries_raise_invalid_query(
    call: Callable[[QueryBuilder[User]], object],
) -> None:
    with pytest.raises(InvalidQuery):
        call(QueryBuilder(User))


# -- or_where ------------------------------------------------------------------


async def test_or_where_keeps_the_soft_delete_scope_outside(
    session: AsyncSession, blog: Blog
) -> None:
    # Cyd is trashed: an OR must not let her back in.
    query = QueryBuilder(User, session).where(name="Ada").or_where(name="Cyd")
    assert await users_named(query) == ["Ada"]
    assert where_clause(query) == (
        "(users.name = 'Ada' OR users.name = 'Cyd') AND users.deleted_at IS NULL"
    )
    assert await users_named(query.with_trashed()) == ["Ada", "Cyd"]


async def test_or_where_groups_what_came_before(session: AsyncSession, blog: Blog) -> None:
    query = (
        QueryBuilder(User, session)
        .where(name="Ada")
        .or_where(name="Bob", email="bob@example.com")
        .where(User.id != blog.users["Ada"])
    )
    assert await users_named(query) == ["Bob"]
    assert where_clause(query) == (
        "(users.name = 'Ada' OR users.name = 'Bob' AND users.email = 'bob@example.com') "
        f"AND users.id != {blog.users['Ada']} AND users.deleted_at IS NULL"
    )


async def test_or_where_first_acts_as_where(session: AsyncSession, blog: Blog) -> None:
    query = QueryBuilder(User, session).or_where(User.name == "Dee")
    assert await users_named(query) == ["Dee"]


# -- where_in, where_not_in, null, between ----------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param(["Bob", "Cyd", "Eve", "Zed"], ["Bob", "Eve"], id="list"),
        pytest.param(("Ada",), ["Ada"], id="tuple"),
        pytest.param({"Dee", "Ada"}, ["Ada", "Dee"], id="set"),
        pytest.param([], [], id="empty-matches-nothing"),
    ],
)
async def test_where_in(
    session: AsyncSession, blog: Blog, values: Iterable[str], expected: list[str]
) -> None:
    query = QueryBuilder(User, session)
    assert await users_named(query.where_in("name", values)) == expected
    # An iterator is read once, when the builder is made.
    assert await users_named(query.where_in("name", iter(values))) == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param(["Bob", "Cyd", "Zed"], ["Ada", "Dee", "Eve"], id="list"),
        pytest.param([], ["Ada", "Bob", "Dee", "Eve"], id="empty-matches-everything"),
    ],
)
async def test_where_not_in(
    session: AsyncSession, blog: Blog, values: list[str], expected: list[str]
) -> None:
    assert await users_named(QueryBuilder(User, session).where_not_in("name", values)) == expected


@pytest.mark.parametrize(
    ("call", "sql"),
    [
        # The list is one parameter (see test_values.py), empty or not.
        pytest.param(
            lambda q: q.where_in(User.id, [3, 1]),
            "users.id IN (SELECT value FROM json_each('[3,1]')) AND users.deleted_at IS NULL",
            id="in",
        ),
        pytest.param(
            lambda q: q.where_in("id", []),
            "users.id IN (SELECT value FROM json_each('[]')) AND users.deleted_at IS NULL",
            id="in-empty",
        ),
        pytest.param(
            lambda q: q.where_not_in("id", [3, 1]),
            "users.id NOT IN (SELECT value FROM json_each('[3,1]')) AND users.deleted_at IS NULL",
            id="not-in",
        ),
        pytest.param(
            lambda q: q.where_not_in("id", []),
            "users.id NOT IN (SELECT value FROM json_each('[]')) AND users.deleted_at IS NULL",
            id="not-in-empty",
        ),
        pytest.param(
            lambda q: q.where_between("id", 2, 4),
            "users.id BETWEEN 2 AND 4 AND users.deleted_at IS NULL",
            id="between",
        ),
        pytest.param(
            lambda q: q.with_trashed().where_null("deleted_at"),
            "users.deleted_at IS NULL",
            id="null",
        ),
        pytest.param(
            lambda q: q.with_trashed().where_not_null("deleted_at"),
            "users.deleted_at IS NOT NULL",
            id="not-null",
        ),
    ],
)
def test_filter_sql(call: Callable[[QueryBuilder[User]], QueryBuilder[User]], sql: str) -> None:
    assert where_clause(call(QueryBuilder(User))) == sql


def test_where_in_is_an_array_on_postgresql() -> None:
    assert where_clause(QueryBuilder(User).where_in("id", [3, 1]), "postgresql") == (
        "users.id = ANY (ARRAY[3, 1]) AND users.deleted_at IS NULL"
    )
    assert where_clause(QueryBuilder(User).where_not_in("id", [3]), "postgresql") == (
        "users.id != ALL (ARRAY[3]) AND users.deleted_at IS NULL"
    )


async def test_where_null_and_not_null(session: AsyncSession, blog: Blog) -> None:
    everyone = QueryBuilder(User, session).with_trashed()
    assert await users_named(everyone.where_null("deleted_at")) == ["Ada", "Bob", "Dee", "Eve"]
    assert await users_named(everyone.where_not_null(User.deleted_at)) == ["Cyd"]
    # The default scope already excludes trashed rows, so nothing is left.
    assert await users_named(QueryBuilder(User, session).where_not_null("deleted_at")) == []


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        pytest.param(2, 4, ["SQL tricks", "Bob writes"], id="inclusive-ids"),
        pytest.param(4, 2, [], id="reversed-bounds"),
        pytest.param(5, 5, ["Ghost story"], id="one-value"),
    ],
)
async def test_where_between_ids(
    session: AsyncSession, blog: Blog, low: int, high: int, expected: list[str]
) -> None:
    # Post ids follow the fixture's order; "Old news" (3) is trashed.
    ids = list(blog.posts.values())
    query = QueryBuilder(Post, session).where_between("id", ids[low - 1], ids[high - 1])
    assert await post_titles(query) == expected


async def test_where_between_timestamps(session: AsyncSession, blog: Blog) -> None:
    low, high = EPOCH.replace(day=2), EPOCH.replace(day=5)
    query = QueryBuilder(Post, session).with_trashed().where_between("created_at", low, high)
    assert await post_titles(query) == ["GraphQL basics", "SQL tricks", "Old news", "Bob writes"]


# -- like ---------------------------------------------------------------------

NAMES = [
    "Élodie",
    "élodie",
    "Eloise",
    "eloise",
    "100% pure",
    "100 pure",
    "snake_case",
    "snakeXcase",
    "back\\slash",
    "backslash",
]


@pytest.fixture
async def named(session: AsyncSession) -> QueryBuilder[User]:
    """Users named ``NAMES``, and a builder over them alone."""
    emails = [f"{index}@like.test" for index in range(len(NAMES))]
    session.add_all(User(name=name, email=email) for name, email in zip(NAMES, emails, strict=True))
    await session.flush()
    return QueryBuilder(User, session).where_in("email", emails)


@pytest.mark.parametrize(
    ("method", "pattern", "expected"),
    [
        pytest.param("where_like", "É%", ["Élodie"], id="like-upper-accent"),
        pytest.param("where_like", "é%", ["élodie"], id="like-lower-accent"),
        pytest.param("where_like", "E%", ["Eloise"], id="like-ascii-is-case-sensitive"),
        pytest.param("where_like", "%LODIE", [], id="like-no-fold"),
        pytest.param("where_like", "_lo%", ["Élodie", "élodie", "Eloise", "eloise"], id="like-_"),
        pytest.param("where_ilike", "é%", ["Élodie", "élodie"], id="ilike-lower-accent"),
        pytest.param("where_ilike", "ÉLODIE", ["Élodie", "élodie"], id="ilike-upper-word"),
        pytest.param("where_ilike", "ELO%", ["Eloise", "eloise"], id="ilike-ascii"),
        pytest.param("where_like", "100%", ["100% pure", "100 pure"], id="like-%-is-wildcard"),
        pytest.param("where_like", "100\\%%", ["100% pure"], id="like-escaped-%"),
        pytest.param("where_like", "snake_case", ["snake_case", "snakeXcase"], id="like-_-wild"),
        pytest.param("where_like", "snake\\_case", ["snake_case"], id="like-escaped-_"),
        pytest.param("where_like", "back\\slash", ["backslash"], id="like-\\-escapes"),
        pytest.param("where_like", "back\\\\slash", ["back\\slash"], id="like-escaped-\\"),
        pytest.param("where_ilike", "SNAKE\\_%", ["snake_case"], id="ilike-escaped-_"),
    ],
)
async def test_like_case_rules_are_the_same_on_both_databases(
    named: QueryBuilder[User], method: str, pattern: str, expected: list[str]
) -> None:
    query: QueryBuilder[User] = getattr(named, method)("name", pattern)
    assert await users_named(query) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("100% pure", ["100% pure"], id="percent"),
        pytest.param("snake_case", ["snake_case"], id="underscore"),
        pytest.param("back\\slash", ["back\\slash"], id="backslash"),
        pytest.param("Élodie", ["Élodie"], id="plain"),
    ],
)
async def test_escape_like_makes_wildcards_match_literally(
    named: QueryBuilder[User], text: str, expected: list[str]
) -> None:
    assert await users_named(named.where_like("name", escape_like(text))) == expected
    assert await users_named(named.where_like("name", escape_like(text[:6]) + "%")) == expected


@pytest.mark.parametrize(
    ("value", "escape", "expected"),
    [
        pytest.param("50%_off\\", "\\", "50\\%\\_off\\\\", id="backslash"),
        pytest.param("a%b!c", "!", "a!%b!!c", id="custom-escape"),
        pytest.param("plain", "\\", "plain", id="nothing-to-escape"),
    ],
)
def test_escape_like(value: str, escape: str, expected: str) -> None:
    assert escape_like(value, escape) == expected


@pytest.mark.parametrize(
    ("method", "dialect", "sql"),
    [
        pytest.param(
            "where_like", "sqlite", "users.name LIKE 'a\\%' ESCAPE '\\'", id="like-sqlite"
        ),
        pytest.param(
            "where_like", "postgresql", "users.name LIKE 'a\\%' ESCAPE '\\'", id="like-postgresql"
        ),
        pytest.param(
            "where_ilike",
            "sqlite",
            "lower(users.name) LIKE lower('a\\%') ESCAPE '\\'",
            id="ilike-sqlite",
        ),
        pytest.param(
            "where_ilike",
            "postgresql",
            "users.name ILIKE 'a\\%' ESCAPE '\\'",
            id="ilike-postgresql",
        ),
    ],
)
def test_like_sql(method: str, dialect: str, sql: str) -> None:
    query: QueryBuilder[User] = getattr(QueryBuilder(User), method)("name", "a\\%")
    assert where_clause(query, dialect) == f"{sql} AND users.deleted_at IS NULL"


def test_like_function_composes_with_or() -> None:
    condition = or_(
        like(User.name.expression, "A%", case_sensitive=True),
        like(User.email.expression, "%@EXAMPLE.COM", case_sensitive=False),
    )
    assert where_clause(QueryBuilder(User).where(condition)) == (
        "(users.name LIKE 'A%' ESCAPE '\\' OR lower(users.email) LIKE lower('%@EXAMPLE.COM') "
        "ESCAPE '\\') AND users.deleted_at IS NULL"
    )


# -- soft-delete scopes -----------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        pytest.param(lambda q: q, ["Ada", "Bob", "Dee", "Eve"], id="default"),
        pytest.param(lambda q: q.with_trashed(), ["Ada", "Bob", "Cyd", "Dee", "Eve"], id="with"),
        pytest.param(lambda q: q.only_trashed(), ["Cyd"], id="only"),
        pytest.param(
            lambda q: q.trashed(Trashed.WITHOUT), ["Ada", "Bob", "Dee", "Eve"], id="mode-without"
        ),
        pytest.param(
            lambda q: q.trashed(Trashed.WITH), ["Ada", "Bob", "Cyd", "Dee", "Eve"], id="mode-with"
        ),
        pytest.param(lambda q: q.trashed(Trashed.ONLY), ["Cyd"], id="mode-only"),
        pytest.param(
            lambda q: q.only_trashed().with_trashed(),
            ["Ada", "Bob", "Cyd", "Dee", "Eve"],
            id="last-call-wins",
        ),
    ],
)
async def test_trashed_modes(
    session: AsyncSession,
    blog: Blog,
    call: Callable[[QueryBuilder[User]], QueryBuilder[User]],
    expected: list[str],
) -> None:
    assert await users_named(call(QueryBuilder(User, session))) == expected


async def test_models_without_soft_deletes_have_no_scope(session: AsyncSession, blog: Blog) -> None:
    comments = QueryBuilder(Comment, session)
    assert comments.criteria is None
    assert await comments.count() == len(blog.comments)
    assert await comments.with_trashed().count() == len(blog.comments)
