"""QueryBuilder ordering, limits, keyset paging and the terminals that run the query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from fast_query import InvalidQuery, Page, QueryBuilder, RecordNotFound
from models import Post, User
from tests.fast_query.support import EPOCH, Blog

# Every test here reads one blog, seeded once for the module (see conftest.py).
SEEDED_ONCE = True


# -- ordering -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        pytest.param(lambda q: q.order_by("name"), ["Ada", "Bob", "Dee", "Eve"], id="asc"),
        pytest.param(
            lambda q: q.order_by(User.name, "desc"), ["Eve", "Dee", "Bob", "Ada"], id="desc"
        ),
        pytest.param(
            lambda q: q.order_by("name", "DESC"), ["Eve", "Dee", "Bob", "Ada"], id="upper-case"
        ),
        pytest.param(lambda q: q.latest(), ["Eve", "Dee", "Bob", "Ada"], id="latest"),
        pytest.param(lambda q: q.oldest(), ["Ada", "Bob", "Dee", "Eve"], id="oldest"),
        pytest.param(lambda q: q.latest("name"), ["Eve", "Dee", "Bob", "Ada"], id="latest-column"),
        pytest.param(
            lambda q: q.order_by(func.length(User.email), "desc").order_by("name", "desc"),
            ["Eve", "Dee", "Bob", "Ada"],
            id="expression-then-column",
        ),
        pytest.param(
            lambda q: q.latest().reorder().order_by("email"),
            ["Ada", "Bob", "Dee", "Eve"],
            id="reorder",
        ),
    ],
)
async def test_ordering(
    session: AsyncSession,
    blog: Blog,
    call: Any,
    expected: list[str],
) -> None:
    assert await call(QueryBuilder(User, session)).pluck("name") == expected


async def test_later_order_keys_break_ties(session: AsyncSession, blog: Blog) -> None:
    query = QueryBuilder(Post, session).with_trashed().order_by("published").latest()
    assert await query.pluck("title") == [
        "Eve's draft",
        "SQL tricks",
        "Ghost story",
        "Bob writes",
        "Old news",
        "GraphQL basics",
    ]


def test_order_sql() -> None:
    query = QueryBuilder(User).latest().order_by("id")
    assert query.to_sql("sqlite").endswith(
        "WHERE users.deleted_at IS NULL ORDER BY users.created_at DESC, users.id ASC"
    )
    assert query.reorder().to_sql("sqlite").endswith("WHERE users.deleted_at IS NULL")
    assert [(str(key.column), key.descending) for key in query.orders] == [
        ("users.created_at", True),
        ("users.id", False),
    ]
    assert query.reorder().orders == ()


@pytest.mark.parametrize(
    ("limit", "offset", "expected"),
    [
        pytest.param(2, None, ["Ada", "Bob"], id="limit"),
        pytest.param(2, 1, ["Bob", "Dee"], id="limit-offset"),
        pytest.param(None, 2, ["Dee", "Eve"], id="offset-only"),
        pytest.param(0, None, [], id="limit-0"),
        pytest.param(10, 3, ["Eve"], id="past-the-end"),
        pytest.param(None, None, ["Ada", "Bob", "Dee", "Eve"], id="none"),
    ],
)
async def test_limit_and_offset(
    session: AsyncSession, blog: Blog, limit: int | None, offset: int | None, expected: list[str]
) -> None:
    query = QueryBuilder(User, session).order_by("id").limit(limit).offset(offset)
    assert [user.name for user in await query.get()] == expected
    assert await query.pluck("name") == expected


async def test_limit_none_removes_a_limit(session: AsyncSession, blog: Blog) -> None:
    query = QueryBuilder(User, session).order_by("id").limit(1).offset(1)
    assert await query.pluck("name") == ["Bob"]
    assert await query.limit(None).pluck("name") == ["Bob", "Dee", "Eve"]
    assert await query.offset(None).pluck("name") == ["Ada"]


# -- keyset paging ----------------------------------------------------------------

# (title, day, published); ties on every key but the id. "trashed" is soft-deleted.
STREAM = [
    ("b", 1, True),
    ("a", 1, False),
    ("c", 2, True),
    ("a", 2, True),
    ("b", 2, False),
    ("trashed", 2, True),
    ("c", 3, False),
    ("a", 4, True),
    ("b", 4, False),
    ("c", 5, True),
]

ORDERINGS = [
    pytest.param([("id", "asc")], id="id"),
    pytest.param([("created_at", "desc"), ("id", "desc")], id="uniform-desc"),
    pytest.param([("created_at", "desc"), ("id", "asc")], id="mixed"),
    pytest.param([("title", "asc"), ("id", "desc")], id="mixed-title"),
    pytest.param([("published", "asc"), ("created_at", "desc"), ("id", "asc")], id="mixed-3"),
    pytest.param([("published", "desc"), ("title", "desc"), ("id", "desc")], id="uniform-3"),
]
Ordering = list[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class Stream:
    query: QueryBuilder[Post]  # the posts of ``STREAM`` alone
    posts: list[Post]  # the live ones, in id order


@pytest.fixture
async def stream(session: AsyncSession) -> Stream:
    """``STREAM`` as the posts of one new user."""
    author = User(name="Streamer", email="streamer@example.com")
    session.add(author)
    await session.flush()
    posts = [
        Post(
            user_id=author.id,
            title=title,
            body="",
            published=published,
            created_at=EPOCH + timedelta(days=day),
            deleted_at=EPOCH if title == "trashed" else None,
        )
        for title, day, published in STREAM
    ]
    session.add_all(posts)
    await session.flush()
    live = [post for post in posts if post.deleted_at is None]
    return Stream(QueryBuilder(Post, session).where(user_id=author.id), live)


def ordered(query: QueryBuilder[Post], ordering: Ordering) -> QueryBuilder[Post]:
    for column, direction in ordering:
        query = query.order_by(column, direction)
    return query


def position(post: Post, ordering: Ordering) -> list[Any]:
    return [getattr(post, column) for column, _ in ordering]


def sort_like_sql(posts: list[Post], ordering: Ordering) -> list[Post]:
    """The order the database must return, worked out in Python."""
    rows = list(posts)
    for column, direction in reversed(ordering):
        rows.sort(key=lambda post: getattr(post, column), reverse=direction == "desc")
    return rows


def reversed_ordering(ordering: Ordering) -> Ordering:
    return [(column, "asc" if d == "desc" else "desc") for column, d in ordering]


@pytest.mark.parametrize("ordering", ORDERINGS)
async def test_after_and_before_split_the_order_at_every_row(
    stream: Stream, ordering: Ordering
) -> None:
    query = ordered(stream.query, ordering)
    expected = sort_like_sql(stream.posts, ordering)
    assert await query.get() == expected
    for index, post in enumerate(expected):
        at = position(post, ordering)
        assert await query.after(at).get() == expected[index + 1 :]
        assert await query.before(at).get() == expected[:index]
    first, last = position(expected[1], ordering), position(expected[-2], ordering)
    assert await query.after(first).before(last).get() == expected[2:-2]
    assert await query.after(last).before(first).get() == []


@pytest.mark.parametrize("ordering", ORDERINGS)
async def test_paging_forward_and_backward_returns_every_row_once(
    stream: Stream, ordering: Ordering
) -> None:
    query = ordered(stream.query, ordering)
    expected = sort_like_sql(stream.posts, ordering)

    forward: list[Post] = []
    page = await query.limit(2).get()
    while page:
        forward.extend(page)
        page = await query.after(position(page[-1], ordering)).limit(2).get()
    assert forward == expected

    # Backward as a "last: 2, before: cursor" page is fetched: in reverse order,
    # after the cursor, then turned around.
    backward_query = ordered(stream.query, reversed_ordering(ordering))
    backward: list[Post] = []
    page = await backward_query.limit(2).get()
    while page:
        backward[:0] = reversed(page)
        page = await backward_query.after(position(page[-1], ordering)).limit(2).get()
    assert backward == expected


def test_keyset_sql_uniform_directions_compare_row_values() -> None:
    query = QueryBuilder(Post).latest().order_by("id", "desc").after([EPOCH, 7])
    assert str(query.criteria) == (
        "posts.deleted_at IS NULL AND (posts.created_at, posts.id) < (:param_1, :param_2)"
    )
    assert query.to_sql("postgresql").endswith(
        "WHERE posts.deleted_at IS NULL AND (posts.created_at, posts.id) < "
        "('2024-01-01 00:00:00+00:00', 7) ORDER BY posts.created_at DESC, posts.id DESC"
    )
    assert str(query.reorder().order_by("id").after([7]).criteria) == (
        "posts.deleted_at IS NULL AND posts.id > :param_1"
    )


def test_keyset_sql_mixed_directions_expand() -> None:
    query = QueryBuilder(Post).latest().order_by("id").before([EPOCH, 7])
    assert str(query.criteria) == (
        "posts.deleted_at IS NULL AND (posts.created_at > :param_1 "
        "OR posts.created_at = :param_1 AND posts.id < :param_2)"
    )
    three = QueryBuilder(Post).order_by("published").latest().order_by("id").after([True, EPOCH, 7])
    assert str(three.criteria) == (
        "posts.deleted_at IS NULL AND (posts.published > :param_1 "
        "OR posts.published = :param_1 AND posts.created_at < :param_2 "
        "OR posts.published = :param_1 AND posts.created_at = :param_2 AND posts.id > :param_3)"
    )


@pytest.mark.parametrize(
    ("ordering", "at"),
    [
        pytest.param([], [1], id="no-order"),
        pytest.param([], [], id="no-order-empty"),
        pytest.param([("id", "asc")], [], id="empty"),
        pytest.param([("id", "asc")], [1, 2], id="too-long"),
        pytest.param([("created_at", "desc"), ("id", "asc")], [EPOCH], id="too-short"),
    ],
)
@pytest.mark.parametrize("method", ["after", "before"])
def test_keyset_position_needs_one_value_per_order_key(
    ordering: Ordering, at: list[Any], method: str
) -> None:
    query = ordered(QueryBuilder(Post), ordering)
    with pytest.raises(InvalidQuery, match="one value per order key"):
        getattr(query, method)(at)


# -- terminals ------------------------------------------------------------------


async def test_get_returns_model_instances(session: AsyncSession, blog: Blog) -> None:
    users = await QueryBuilder(User, session).order_by("id").get()
    assert [type(user) for user in users] == [User] * 4
    assert [(user.id, user.email) for user in users] == [
        (blog.users[name], f"{name.lower()}@example.com") for name in ["Ada", "Bob", "Dee", "Eve"]
    ]


async def test_first(session: AsyncSession, blog: Blog) -> None:
    query = QueryBuilder(User, session).latest()
    first = await query.first()
    assert first is not None
    assert first.name == "Eve"
    # first() limits a copy; the builder itself still returns every row.
    assert len(await query.get()) == 4
    assert await query.where(name="Cyd").first() is None


async def test_first_or_fail(session: AsyncSession, blog: Blog) -> None:
    found = await QueryBuilder(Post, session).where(user_id=blog.users["Bob"]).first_or_fail()
    assert found.title == "Bob writes"
    with pytest.raises(RecordNotFound) as caught:
        await QueryBuilder(Post, session).where(user_id=blog.users["Eve"]).first_or_fail()
    assert (caught.value.model, caught.value.id) == ("Post", None)
    assert str(caught.value) == "Post None not found"


async def test_count_ignores_order_limit_and_offset(session: AsyncSession, blog: Blog) -> None:
    users = QueryBuilder(User, session)
    assert await users.count() == 4
    assert await users.latest().limit(1).offset(2).count() == 4
    assert await users.with_trashed().count() == 5
    assert await users.only_trashed().count() == 1
    assert await users.where_has("posts").count() == 2
    assert await users.where(name="Nobody").count() == 0


async def test_exists(session: AsyncSession, blog: Blog) -> None:
    users = QueryBuilder(User, session)
    assert await users.exists() is True
    assert await users.where(name="Cyd").exists() is False
    assert await users.where(name="Cyd").with_trashed().exists() is True
    assert await users.where_has("posts.comments").exists() is True
    assert await users.where_has("roles", User.name == "Dee").exists() is False


async def test_pluck(session: AsyncSession, blog: Blog) -> None:
    posts = QueryBuilder(Post, session).order_by("id")
    assert await posts.pluck("title") == [
        "GraphQL basics",
        "SQL tricks",
        "Bob writes",
        "Ghost story",
    ]
    assert await posts.where(published=True).pluck(Post.id) == [
        blog.posts["GraphQL basics"],
        blog.posts["Bob writes"],
        blog.posts["Ghost story"],
    ]
    assert await posts.limit(2).offset(1).pluck(func.upper(Post.title)) == [
        "SQL TRICKS",
        "BOB WRITES",
    ]
    assert await posts.only_trashed().pluck("title") == ["Old news", "Eve's draft"]
    with pytest.raises(InvalidQuery):
        await posts.pluck("subtitle")


@pytest.mark.parametrize(
    ("page", "per_page", "names", "pages", "has_next", "has_previous"),
    [
        pytest.param(1, 3, ["Ada", "Bob", "Dee"], 2, True, False, id="first"),
        pytest.param(2, 3, ["Eve"], 2, False, True, id="last"),
        pytest.param(3, 3, [], 2, False, True, id="past-the-end"),
        pytest.param(1, 4, ["Ada", "Bob", "Dee", "Eve"], 1, False, False, id="exact-fit"),
        pytest.param(2, 1, ["Bob"], 4, True, True, id="middle"),
        pytest.param(1, 0, [], 1, False, False, id="per-page-0"),
    ],
)
async def test_paginate(
    session: AsyncSession,
    blog: Blog,
    page: int,
    per_page: int,
    names: list[str],
    pages: int,
    has_next: bool,
    has_previous: bool,
) -> None:
    query = QueryBuilder(User, session).order_by("id").limit(1).offset(3)
    result = await query.paginate(page=page, per_page=per_page)
    assert isinstance(result, Page)
    assert [user.name for user in result.items] == names
    assert (result.total, result.page, result.per_page) == (4, page, per_page)
    assert (result.pages, result.has_next, result.has_previous) == (pages, has_next, has_previous)


async def test_paginate_defaults(session: AsyncSession, blog: Blog) -> None:
    result = await QueryBuilder(User, session).with_trashed().order_by("id").paginate()
    assert [user.name for user in result.items] == ["Ada", "Bob", "Cyd", "Dee", "Eve"]
    assert (result.total, result.page, result.per_page, result.pages) == (5, 1, 15, 1)


@pytest.mark.parametrize(
    ("page", "per_page"),
    [pytest.param(0, 10, id="page-0"), pytest.param(1, -1, id="negative-per-page")],
)
async def test_paginate_rejects_bad_numbers(
    session: AsyncSession, page: int, per_page: int
) -> None:
    with pytest.raises(InvalidQuery):
        await QueryBuilder(User, session).paginate(page=page, per_page=per_page)


@pytest.mark.parametrize(
    ("total", "per_page", "pages"),
    [
        pytest.param(0, 10, 1, id="empty"),
        pytest.param(10, 10, 1, id="full"),
        pytest.param(11, 10, 2, id="one-over"),
        pytest.param(5, 0, 1, id="per-page-0"),
    ],
)
def test_page_count(total: int, per_page: int, pages: int) -> None:
    assert Page[int](items=[], total=total, page=1, per_page=per_page).pages == pages
