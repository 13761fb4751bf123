"""``where``: every operator of the scalar filters, logic, relation filters and their errors."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from schema.context import FilterLimits
from tests.api import T0, Dataset, GraphQL, gid, insert_dataset
from tests.schema.support import bad_input, problems

MAX_FILTER_RELATIONS = FilterLimits().relations

USERS = "query($where: UserFilter) { users(where: $where, first: 100) { nodes { name } } }"
POSTS = "query($where: PostFilter) { posts(where: $where, first: 100) { nodes { title } } }"
COMMENTS = "query($where: CommentFilter) { comments(where: $where, first: 100) { nodes { body } } }"
ROLES = "query($where: RoleFilter) { roles(where: $where, first: 100) { nodes { name } } }"


async def names(gql: GraphQL, where: Any) -> list[str]:
    data = await gql.data(USERS, {"where": where})
    return [node["name"] for node in data["users"]["nodes"]]


async def titles(gql: GraphQL, where: Any) -> list[str]:
    data = await gql.data(POSTS, {"where": where})
    return [node["title"] for node in data["posts"]["nodes"]]


async def bodies(gql: GraphQL, where: Any) -> list[str]:
    data = await gql.data(COMMENTS, {"where": where})
    return [node["body"] for node in data["comments"]["nodes"]]


# -- StringFilter ---------------------------------------------------------------

WORDS = [
    "100% sure",
    "1000 sure",
    "snake_case",
    "snakeXcase",
    "back\\slash",
    "backslash",
    "Ann Smith",
    "ann smith",
    "ANNA SMITHSON",
    "Ünïcode Élan",
    "ünïcode élan",
    "Привет Мир",
]


@pytest.fixture
async def words(committed_engine: AsyncEngine, gql: GraphQL) -> Dataset:
    """Users named with wildcards, backslashes, mixed case and non-ASCII letters, in this order."""
    return await insert_dataset(
        committed_engine,
        users=[
            {"key": name, "name": name, "email": f"user{index}@example.com"}
            for index, name in enumerate(WORDS)
        ],
    )


def but(*excluded: str) -> list[str]:
    return [word for word in WORDS if word not in excluded]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        pytest.param({"eq": "Ann Smith"}, ["Ann Smith"], id="eq"),
        pytest.param({"eq": "ann smith"}, ["ann smith"], id="eq-is-case-sensitive"),
        pytest.param({"eq": "Ann"}, [], id="eq-is-whole-value"),
        pytest.param({"eq": "Привет Мир"}, ["Привет Мир"], id="eq-non-ascii"),
        pytest.param({"ne": "Ann Smith"}, but("Ann Smith"), id="ne"),
        pytest.param(
            {"in": ["snake_case", "Ann Smith", "nobody"]}, ["snake_case", "Ann Smith"], id="in"
        ),
        pytest.param({"in": ["ann SMITH"]}, [], id="in-is-case-sensitive"),
        pytest.param({"in": []}, [], id="in-empty-matches-nothing"),
        pytest.param(
            {"notIn": ["Ann Smith", "ann smith"]}, but("Ann Smith", "ann smith"), id="notIn"
        ),
        pytest.param({"notIn": []}, WORDS, id="notIn-empty-matches-everything"),
        pytest.param({"contains": "Smith"}, ["Ann Smith"], id="contains"),
        pytest.param({"contains": "smith"}, ["ann smith"], id="contains-is-case-sensitive"),
        pytest.param({"contains": "SMITH"}, ["ANNA SMITHSON"], id="contains-upper"),
        pytest.param({"contains": ""}, WORDS, id="contains-empty-matches-everything"),
        pytest.param(
            {"iContains": "smith"},
            ["Ann Smith", "ann smith", "ANNA SMITHSON"],
            id="iContains-ignores-case",
        ),
        pytest.param({"iContains": "NN S"}, ["Ann Smith", "ann smith"], id="iContains-upper"),
        pytest.param({"startsWith": "Ann"}, ["Ann Smith"], id="startsWith"),
        pytest.param({"startsWith": "ann"}, ["ann smith"], id="startsWith-is-case-sensitive"),
        pytest.param({"startsWith": "Smith"}, [], id="startsWith-only-at-start"),
        pytest.param({"endsWith": "smith"}, ["ann smith"], id="endsWith-is-case-sensitive"),
        pytest.param({"endsWith": "SON"}, ["ANNA SMITHSON"], id="endsWith"),
        pytest.param({"endsWith": "Ann"}, [], id="endsWith-only-at-end"),
        pytest.param({"contains": "%"}, ["100% sure"], id="percent-in-contains"),
        pytest.param({"contains": "0%"}, ["100% sure"], id="percent-is-no-wildcard"),
        pytest.param({"startsWith": "100%"}, ["100% sure"], id="percent-in-startsWith"),
        pytest.param({"endsWith": "% sure"}, ["100% sure"], id="percent-in-endsWith"),
        pytest.param({"iContains": "0% SURE"}, ["100% sure"], id="percent-in-iContains"),
        pytest.param({"contains": "_"}, ["snake_case"], id="underscore-in-contains"),
        pytest.param({"contains": "e_c"}, ["snake_case"], id="underscore-is-no-wildcard"),
        pytest.param({"startsWith": "snake_"}, ["snake_case"], id="underscore-in-startsWith"),
        pytest.param({"endsWith": "_case"}, ["snake_case"], id="underscore-in-endsWith"),
        pytest.param({"iContains": "E_C"}, ["snake_case"], id="underscore-in-iContains"),
        pytest.param({"contains": "\\"}, ["back\\slash"], id="backslash-in-contains"),
        pytest.param({"contains": "k\\s"}, ["back\\slash"], id="backslash-is-no-escape"),
        pytest.param({"startsWith": "back\\"}, ["back\\slash"], id="backslash-in-startsWith"),
        pytest.param({"endsWith": "\\slash"}, ["back\\slash"], id="backslash-in-endsWith"),
        pytest.param({"iContains": "K\\S"}, ["back\\slash"], id="backslash-in-iContains"),
        pytest.param({"contains": "\\%"}, [], id="backslash-percent-is-literal"),
        pytest.param({"contains": "Ün"}, ["Ünïcode Élan"], id="non-ascii-contains"),
        pytest.param({"contains": "ün"}, ["ünïcode élan"], id="non-ascii-contains-lower"),
        pytest.param(
            {"iContains": "ÜNÏCODE"}, ["Ünïcode Élan", "ünïcode élan"], id="non-ascii-iContains"
        ),
        pytest.param(
            {"iContains": "élan"}, ["Ünïcode Élan", "ünïcode élan"], id="non-ascii-iContains-lower"
        ),
        pytest.param({"iContains": "привет"}, ["Привет Мир"], id="cyrillic-iContains"),
        pytest.param({"startsWith": "Прив"}, ["Привет Мир"], id="cyrillic-startsWith"),
        pytest.param({"startsWith": "прив"}, [], id="cyrillic-startsWith-is-case-sensitive"),
        pytest.param({"endsWith": "Élan"}, ["Ünïcode Élan"], id="non-ascii-endsWith"),
        pytest.param({"isNull": True}, [], id="isNull-true"),
        pytest.param({"isNull": False}, WORDS, id="isNull-false"),
        pytest.param(
            {"startsWith": "snake", "notIn": ["snakeXcase"]},
            ["snake_case"],
            id="operators-are-anded",
        ),
        pytest.param({"contains": "a", "endsWith": "sure"}, [], id="anded-to-nothing"),
        pytest.param({}, WORDS, id="no-operator"),
    ],
)
async def test_string_filter(
    gql: GraphQL, words: Dataset, condition: dict[str, Any], expected: list[str]
) -> None:
    assert await names(gql, {"name": condition}) == expected


@pytest.mark.parametrize(
    ("condition", "fields"),
    [
        pytest.param({"eq": "a\x00b"}, ["where.name.eq"], id="eq"),
        pytest.param({"ne": "\x00"}, ["where.name.ne"], id="ne"),
        pytest.param({"contains": "\x00"}, ["where.name.contains"], id="contains"),
        pytest.param({"iContains": "x\x00"}, ["where.name.iContains"], id="iContains"),
        pytest.param({"startsWith": "\x00"}, ["where.name.startsWith"], id="startsWith"),
        pytest.param({"endsWith": "\x00"}, ["where.name.endsWith"], id="endsWith"),
        pytest.param({"in": ["Ann", "\x00"]}, ["where.name.in.1"], id="in"),
        pytest.param({"notIn": ["\x00"]}, ["where.name.notIn.0"], id="notIn"),
        pytest.param(
            {"eq": "\x00", "in": ["\x00"]}, ["where.name.eq", "where.name.in.0"], id="every-one"
        ),
    ],
)
async def test_string_filter_refuses_the_nul_character(
    gql: GraphQL, words: Dataset, condition: dict[str, Any], fields: list[str]
) -> None:
    # No database row can hold NUL (PostgreSQL text refuses it): the value is invalid input.
    body = await gql(USERS, {"where": {"name": condition}})

    assert body["data"] is None
    assert problems(body) == [bad_input(["users"], *fields)]


async def test_string_filter_on_another_column(gql: GraphQL, words: Dataset) -> None:
    where = {"email": {"startsWith": "user1", "endsWith": "@example.com"}}

    # user1, user10 and user11
    assert await names(gql, where) == ["1000 sure", "ünïcode élan", "Привет Мир"]


async def test_string_filter_as_a_literal(gql: GraphQL, words: Dataset) -> None:
    query = r'{ users(where: {name: {contains: "\\"}}) { nodes { name } } }'

    assert await gql.data(query) == {"users": {"nodes": [{"name": "back\\slash"}]}}


async def test_string_filters_of_posts_and_roles(gql: GraphQL, blog: Dataset) -> None:
    assert await titles(gql, {"body": {"iContains": "OF BUILDING"}}) == ["Building things"]
    roles = await gql.data(ROLES, {"where": {"name": {"in": ["reader", "admin"]}}})
    assert roles == {"roles": {"nodes": [{"name": "admin"}, {"name": "reader"}]}}
    assert await bodies(gql, {"body": {"startsWith": "On a"}}) == ["On a trashed post"]


# -- IDFilter -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        pytest.param({"eq": "bob"}, ["Bob Builder"], id="eq"),
        pytest.param({"eq": "cyd"}, [], id="eq-soft-deleted"),
        pytest.param({"eq": 999}, [], id="eq-missing"),
        pytest.param({"ne": "bob"}, ["Ada Lovelace", "Dee Quiet"], id="ne"),
        pytest.param({"in": ["dee", "ada", 999]}, ["Ada Lovelace", "Dee Quiet"], id="in"),
        pytest.param({"in": []}, [], id="in-empty-matches-nothing"),
        pytest.param({"notIn": ["ada", "dee"]}, ["Bob Builder"], id="notIn"),
        pytest.param({"notIn": []}, ["Ada Lovelace", "Bob Builder", "Dee Quiet"], id="notIn-empty"),
        pytest.param({"in": ["ada", "bob"], "ne": "ada"}, ["Bob Builder"], id="anded"),
    ],
)
async def test_id_filter(
    gql: GraphQL, blog: Dataset, condition: dict[str, Any], expected: list[str]
) -> None:
    def user_id(key: str | int) -> str:
        return gid("User", key if isinstance(key, int) else blog.users[key])

    where = {
        name: [user_id(key) for key in value] if isinstance(value, list) else user_id(value)
        for name, value in condition.items()
    }

    assert await names(gql, {"id": where}) == expected


async def test_id_filters_of_every_type(gql: GraphQL, blog: Dataset) -> None:
    post_ids = [gid("Post", blog.posts[key]) for key in ("b2", "a1", "a3")]
    assert await titles(gql, {"id": {"in": post_ids}}) == ["Analytical Engine", "Can we fix it"]
    comment_id = gid("Comment", blog.comments["c-a1-dee"])
    assert await bodies(gql, {"id": {"eq": comment_id}}) == ["Quietly impressed"]
    role_id = gid("Role", blog.roles["editor"])
    roles = await gql.data(ROLES, {"where": {"id": {"ne": role_id}}})
    assert roles == {"roles": {"nodes": [{"name": "admin"}, {"name": "reader"}]}}


@pytest.mark.parametrize(
    ("query", "where", "fields"),
    [
        pytest.param(USERS, {"id": {"eq": "post:a1"}}, ["where.id.eq"], id="eq"),
        pytest.param(USERS, {"id": {"ne": "role:admin"}}, ["where.id.ne"], id="ne"),
        pytest.param(
            USERS,
            {"id": {"in": ["user:ada", "post:a1", "user:bob", "comment:c-b1-ada"]}},
            ["where.id.in.1", "where.id.in.3"],
            id="in",
        ),
        pytest.param(USERS, {"id": {"notIn": ["post:b1"]}}, ["where.id.notIn.0"], id="notIn"),
        pytest.param(
            USERS,
            {"id": {"eq": "post:a1", "ne": "post:b1"}},
            ["where.id.eq", "where.id.ne"],
            id="every-problem-at-once",
        ),
        pytest.param(USERS, {"id": {"eq": gid("Banana", 1)}}, ["where.id.eq"], id="unknown-type"),
        pytest.param(USERS, {"id": {"eq": "garbage"}}, ["where.id.eq"], id="malformed"),
        pytest.param(
            USERS, {"id": {"eq": gid("User", 2**31)}}, ["where.id.eq"], id="key-out-of-range"
        ),
        pytest.param(
            POSTS, {"author": {"id": {"eq": "post:a1"}}}, ["where.author.id.eq"], id="to-one"
        ),
        pytest.param(
            USERS,
            {"or": [{"id": {"eq": "user:ada"}}, {"id": {"eq": "role:admin"}}]},
            ["where.or.1.id.eq"],
            id="inside-or",
        ),
        pytest.param(
            USERS, {"not": {"id": {"eq": "post:a1"}}}, ["where.not.id.eq"], id="inside-not"
        ),
        pytest.param(
            USERS,
            {"posts": {"some": {"id": {"eq": "user:ada"}}}},
            ["where.posts.some.id.eq"],
            id="inside-some",
        ),
        pytest.param(
            POSTS,
            {"comments": {"none": {"post": {"id": {"in": ["comment:c-a1-bob"]}}}}},
            ["where.comments.none.post.id.in.0"],
            id="deep",
        ),
        pytest.param(ROLES, {"id": {"eq": "user:ada"}}, ["where.id.eq"], id="roles"),
    ],
)
async def test_id_filter_refuses_an_id_of_another_type(
    gql: GraphQL, blog: Dataset, query: str, where: dict[str, Any], fields: list[str]
) -> None:
    body = await gql(query, {"where": resolve_ids(blog, where)})

    field = query.split("{", 2)[1].split("(")[0].strip()
    assert body["data"] is None  # the connection is non-null
    assert problems(body) == [bad_input([field], *fields)]


def resolve_ids(blog: Dataset, value: Any) -> Any:
    """Replace ``"post:a1"`` (type and fixture key) in a filter with that row's global ID."""
    if isinstance(value, dict):
        return {name: resolve_ids(blog, inner) for name, inner in value.items()}
    if isinstance(value, list):
        return [resolve_ids(blog, inner) for inner in value]
    tables = {"user": blog.users, "post": blog.posts, "comment": blog.comments, "role": blog.roles}
    type_name, _, key = value.partition(":") if isinstance(value, str) else ("", "", "")
    if type_name in tables:
        return gid(type_name.capitalize(), tables[type_name][key])
    return value


# -- BooleanFilter --------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        pytest.param(
            {"eq": True},
            ["Analytical Engine", "Building things", "Can we fix it", "Ghost post"],
            id="eq-true",
        ),
        pytest.param({"eq": False}, ["Notes on Bernoulli"], id="eq-false"),
        pytest.param({"ne": True}, ["Notes on Bernoulli"], id="ne-true"),
        pytest.param(
            {"ne": False},
            ["Analytical Engine", "Building things", "Can we fix it", "Ghost post"],
            id="ne-false",
        ),
        pytest.param({"eq": True, "ne": True}, [], id="anded"),
        pytest.param(
            {},
            [
                "Analytical Engine",
                "Notes on Bernoulli",
                "Building things",
                "Can we fix it",
                "Ghost post",
            ],
            id="no-operator",
        ),
    ],
)
async def test_boolean_filter(
    gql: GraphQL, blog: Dataset, condition: dict[str, Any], expected: list[str]
) -> None:
    assert await titles(gql, {"published": condition}) == expected


async def test_boolean_filter_as_a_literal(gql: GraphQL, blog: Dataset) -> None:
    data = await gql.data("{ posts(where: {published: {eq: false}}) { nodes { title } } }")

    assert data == {"posts": {"nodes": [{"title": "Notes on Bernoulli"}]}}


# -- DateTimeFilter -------------------------------------------------------------


@pytest.fixture
async def moments(committed_engine: AsyncEngine, gql: GraphQL) -> Dataset:
    """Four users created a microsecond or a half second apart."""
    from datetime import timedelta

    created = {
        "d1": T0 + timedelta(hours=1, microseconds=1),
        "d2": T0 + timedelta(hours=2, microseconds=500_000),
        "d3": T0 + timedelta(hours=2, microseconds=500_001),
        "d4": T0 + timedelta(hours=3),
    }
    return await insert_dataset(
        committed_engine,
        users=[
            {"key": key, "name": key, "email": f"{key}@example.com", "created_at": moment}
            for key, moment in created.items()
        ],
    )


D2 = "2024-01-01T02:00:00.500000+00:00"


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        pytest.param({"eq": D2}, ["d2"], id="eq"),
        pytest.param({"ne": D2}, ["d1", "d3", "d4"], id="ne"),
        pytest.param({"gt": D2}, ["d3", "d4"], id="gt"),
        pytest.param({"gte": D2}, ["d2", "d3", "d4"], id="gte"),
        pytest.param({"lt": D2}, ["d1"], id="lt"),
        pytest.param({"lte": D2}, ["d1", "d2"], id="lte"),
        pytest.param(
            {"gt": "2024-01-01T01:00:00.000001+00:00", "lt": "2024-01-01T03:00:00+00:00"},
            ["d2", "d3"],
            id="range-anded",
        ),
        pytest.param({"gt": "2024-01-01T02:00:00.500000+00:00"}, ["d3", "d4"], id="microseconds"),
        pytest.param({"eq": "2024-01-01T04:00:00.500000+02:00"}, ["d2"], id="eq-positive-offset"),
        pytest.param({"eq": "2023-12-31T21:00:00.5-05:00"}, ["d2"], id="eq-negative-offset"),
        pytest.param({"eq": "2024-01-01T02:00:00.500000Z"}, ["d2"], id="eq-zulu"),
        pytest.param({"eq": "2024-01-01T02:00:00.5"}, ["d2"], id="eq-without-offset-is-utc"),
        pytest.param({"lt": "2024-01-01T03:00:00+01:00"}, ["d1"], id="lt-with-offset"),
        pytest.param({"gte": "2024-01-01T03:00:00"}, ["d4"], id="gte-without-offset"),
        pytest.param({"eq": "2024-01-01T02:00:00+00:00"}, [], id="eq-needs-the-microseconds"),
        pytest.param({"isNull": True}, [], id="isNull-true"),
        pytest.param({"isNull": False}, ["d1", "d2", "d3", "d4"], id="isNull-false"),
    ],
)
async def test_datetime_filter(
    gql: GraphQL, moments: Dataset, condition: dict[str, Any], expected: list[str]
) -> None:
    assert await names(gql, {"createdAt": condition}) == expected


async def test_datetime_filters_of_posts_and_comments(gql: GraphQL, blog: Dataset) -> None:
    # insert_dataset stamps the n-th row of each table at T0 + n hours.
    assert await titles(gql, {"createdAt": {"lte": "2024-01-01T02:00:00+00:00"}}) == [
        "Analytical Engine",
        "Notes on Bernoulli",
    ]
    assert await bodies(gql, {"createdAt": {"gt": "2024-01-01T04:00:00Z"}}) == ["On a trashed post"]


async def test_datetime_filter_refuses_a_bad_value(gql: GraphQL, moments: Dataset) -> None:
    body = await gql(USERS, {"where": {"createdAt": {"eq": "yesterday"}}})

    assert "data" not in body
    assert [error["extensions"]["code"] for error in body["errors"]] == ["BAD_USER_INPUT"]


# -- and / or / not -----------------------------------------------------------------

ADA = {"author": {"name": {"startsWith": "Ada"}}}
LIVE_TITLES = [
    "Analytical Engine",
    "Notes on Bernoulli",
    "Building things",
    "Can we fix it",
    "Ghost post",
]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        pytest.param({"and": [{"published": {"eq": True}}, ADA]}, ["Analytical Engine"], id="and"),
        pytest.param(
            {"or": [{"title": {"startsWith": "Ana"}}, {"title": {"startsWith": "Can"}}]},
            ["Analytical Engine", "Can we fix it"],
            id="or",
        ),
        pytest.param({"not": ADA}, ["Building things", "Can we fix it", "Ghost post"], id="not"),
        pytest.param(
            {"not": {"or": [ADA, {"title": {"contains": "fix"}}]}},
            ["Building things", "Ghost post"],
            id="not-or",
        ),
        pytest.param(
            {"not": {"not": ADA}}, ["Analytical Engine", "Notes on Bernoulli"], id="not-not"
        ),
        pytest.param(
            {
                "or": [
                    {"and": [{"published": {"eq": False}}, ADA]},
                    {"and": [{"title": {"endsWith": "it"}}, {"not": ADA}]},
                ]
            },
            ["Notes on Bernoulli", "Can we fix it"],
            id="or-of-ands",
        ),
        pytest.param(
            {
                "published": {"eq": True},
                "or": [{"title": {"contains": "in"}}, {"title": {"contains": "post"}}],
            },
            ["Analytical Engine", "Building things", "Ghost post"],
            id="fields-and-logic-are-anded",
        ),
        pytest.param(
            {"and": [{"title": {"contains": "n"}}], "not": {"title": {"contains": "g"}}},
            ["Notes on Bernoulli", "Can we fix it"],
            id="and-with-not",
        ),
        pytest.param({"and": []}, LIVE_TITLES, id="and-empty-matches-everything"),
        pytest.param({"or": []}, [], id="or-empty-matches-nothing"),
        pytest.param({"not": {}}, [], id="not-empty-matches-nothing"),
        pytest.param({"not": {"and": []}}, [], id="not-and-empty-matches-nothing"),
        pytest.param({"not": {"or": []}}, LIVE_TITLES, id="not-or-empty-matches-everything"),
        pytest.param({}, LIVE_TITLES, id="empty-filter"),
        pytest.param(None, LIVE_TITLES, id="null-filter"),
    ],
)
async def test_logical_filters(
    gql: GraphQL, blog: Dataset, where: dict[str, Any] | None, expected: list[str]
) -> None:
    assert await titles(gql, where) == expected


def chain(levels: int) -> dict[str, Any]:
    """A user filter of ``levels`` relation filters, each inside the one before."""
    where: dict[str, Any] = {"name": {"eq": "Bob Builder"}}
    for level in range(levels):
        where = {"author": where} if level % 2 == 0 else {"posts": {"some": where}}
    return where


@pytest.mark.parametrize(
    ("levels", "allowed"),
    [
        pytest.param(8, True, id="under-the-limit"),
        pytest.param(MAX_FILTER_RELATIONS + 2, False, id="over-the-limit"),
        pytest.param(30, False, id="far-over-the-limit"),
    ],
)
async def test_relation_filters_nested_too_deep_are_refused(
    gql: GraphQL, blog: Dataset, levels: int, allowed: bool
) -> None:
    body = await gql(USERS, {"where": chain(levels)})

    if allowed:
        assert body == {"data": {"users": {"nodes": [{"name": "Bob Builder"}]}}}
    else:
        assert body["data"] is None
        path = "where" + ".posts.some.author" * (MAX_FILTER_RELATIONS // 2) + ".posts.some"
        assert problems(body) == [bad_input(["users"], path)]


# -- relation filters -----------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "where", "expected"),
    [
        pytest.param(
            POSTS, {"author": {"name": {"eq": "Cyd Gone"}}}, ["Ghost post"], id="post-author"
        ),
        pytest.param(
            POSTS, {"author": {"id": {"eq": "user:cyd"}}}, ["Ghost post"], id="post-author-id"
        ),
        pytest.param(
            POSTS,
            {"author": {"email": {"in": ["bob@example.com", "dee@example.com"]}}},
            ["Building things", "Can we fix it"],
            id="post-author-email",
        ),
        pytest.param(
            COMMENTS,
            {"post": {"title": {"eq": "Trashed idea"}}},
            ["On a trashed post"],
            id="comment-post-soft-deleted",
        ),
        pytest.param(
            COMMENTS,
            {"post": {"published": {"eq": True}, "author": {"name": {"startsWith": "Bob"}}}},
            ["Nice work"],
            id="comment-post-author",
        ),
        pytest.param(
            COMMENTS,
            {"author": {"name": {"eq": "Cyd Gone"}}},
            ["From the other side"],
            id="comment-author-soft-deleted",
        ),
        pytest.param(
            COMMENTS,
            {"author": {"posts": {"some": {}}}},
            ["Brilliant", "From the other side", "Nice work", "On a trashed post"],
            id="comment-author-with-posts",
        ),
        pytest.param(
            COMMENTS,
            {"not": {"author": {"name": {"startsWith": "B"}}}},
            ["From the other side", "Quietly impressed", "Nice work"],
            id="not-author",
        ),
        pytest.param(
            USERS,
            {"posts": {"some": {}}},
            ["Ada Lovelace", "Bob Builder"],
            id="users-some-empty-has-at-least-one",
        ),
        pytest.param(USERS, {"posts": {"none": {}}}, ["Dee Quiet"], id="users-none-empty"),
        pytest.param(
            USERS,
            {"posts": {}},
            ["Ada Lovelace", "Bob Builder", "Dee Quiet"],
            id="users-posts-empty",
        ),
        pytest.param(
            USERS,
            {"posts": {"some": {"published": {"eq": False}}}},
            ["Ada Lovelace"],
            id="users-some",
        ),
        pytest.param(
            USERS,
            {"posts": {"none": {"published": {"eq": False}}}},
            ["Bob Builder", "Dee Quiet"],
            id="users-none",
        ),
        pytest.param(
            USERS,
            {"posts": {"some": {"title": {"eq": "Trashed idea"}}}},
            [],
            id="users-some-ignores-soft-deleted-posts",
        ),
        pytest.param(
            USERS,
            {"posts": {"none": {"title": {"eq": "Trashed idea"}}}},
            ["Ada Lovelace", "Bob Builder", "Dee Quiet"],
            id="users-none-ignores-soft-deleted-posts",
        ),
        pytest.param(
            USERS,
            {"posts": {"some": {"published": {"eq": True}}, "none": {"published": {"eq": False}}}},
            ["Bob Builder"],
            id="users-some-and-none",
        ),
        pytest.param(
            USERS,
            {"posts": {"some": {"comments": {"some": {"author": {"name": {"eq": "Dee Quiet"}}}}}}},
            ["Ada Lovelace"],
            id="users-posts-comments-author",
        ),
        pytest.param(
            USERS,
            {"or": [{"posts": {"none": {}}}, {"name": {"startsWith": "Bob"}}]},
            ["Bob Builder", "Dee Quiet"],
            id="users-or-none",
        ),
        pytest.param(
            POSTS, {"comments": {"some": {}}}, ["Analytical Engine", "Building things"], id="some"
        ),
        pytest.param(
            POSTS,
            {"comments": {"none": {}}},
            ["Notes on Bernoulli", "Can we fix it", "Ghost post"],
            id="none",
        ),
        pytest.param(
            POSTS,
            {"comments": {"some": {"author": {"name": {"eq": "Bob Builder"}}}}},
            ["Analytical Engine"],
            id="posts-some-comment-author",
        ),
        pytest.param(
            POSTS,
            {
                "comments": {
                    "some": {"body": {"contains": "i"}},
                    "none": {"author": {"name": {"eq": "Dee Quiet"}}},
                }
            },
            ["Building things"],
            id="posts-some-and-none",
        ),
    ],
)
async def test_relation_filters(
    gql: GraphQL, blog: Dataset, query: str, where: dict[str, Any], expected: list[str]
) -> None:
    data = await gql.data(query, {"where": resolve_ids(blog, where)})

    connection = next(iter(data.values()))
    assert [next(iter(node.values())) for node in connection["nodes"]] == expected


async def test_posts_some_with_trashed_users(gql: GraphQL, blog: Dataset) -> None:
    query = """
    query($where: UserFilter) {
      users(where: $where, trashed: WITH) { nodes { name } }
    }
    """

    data = await gql.data(query, {"where": {"posts": {"some": {}}}})

    assert data == {
        "users": {
            "nodes": [{"name": "Ada Lovelace"}, {"name": "Bob Builder"}, {"name": "Cyd Gone"}]
        }
    }


async def test_a_user_whose_only_post_is_soft_deleted_has_none(
    gql: GraphQL, committed_engine: AsyncEngine
) -> None:
    await insert_dataset(
        committed_engine,
        users=[
            {"key": "eve", "name": "Eve", "email": "eve@example.com"},
            {"key": "fay", "name": "Fay", "email": "fay@example.com"},
        ],
        posts=[
            {"key": "e1", "author": "eve", "title": "Gone", "deleted_at": T0},
            {"key": "f1", "author": "fay", "title": "Here"},
        ],
    )

    assert await names(gql, {"posts": {"some": {}}}) == ["Fay"]
    assert await names(gql, {"posts": {"none": {}}}) == ["Eve"]


async def test_a_filter_nested_past_what_the_database_parses_is_query_too_complex(
    gql: GraphQL, blog: Dataset, backend: str
) -> None:
    # Within every limit of the request, but SQLite's parser has a fixed stack:
    # forty NOTs around two relation filters overflow it. A clean error, not a crash.
    where: dict[str, Any] = {"posts": {"some": {"author": {"name": {"eq": "Bob Builder"}}}}}
    for _ in range(40):
        where = {"not": where}

    body = await gql(USERS, {"where": where})

    if backend == "sqlite":
        assert body["data"] is None
        assert [error["extensions"] for error in body["errors"]] == [{"code": "QUERY_TOO_COMPLEX"}]
    else:
        assert body == {"data": {"users": {"nodes": [{"name": "Bob Builder"}]}}}
