"""Hostile input: generated filters, orders, pages and inputs never break the server.

Property-based tests (hypothesis) send users, posts and comments queries with
generated ``where``/``orderBy``/``first``/``last``/``after``/``before``
variables: strings full of quotes, ``%``, ``_``, backslashes, NUL and odd
Unicode, very long strings, huge and negative numbers, forged cursors, IDs of
every type and garbage IDs, deep ``and``/``or``/``not`` nesting. The answer is
always data or errors coded ``BAD_USER_INPUT``/``QUERY_TOO_COMPLEX``, never
``INTERNAL_SERVER_ERROR`` and never an HTTP 500; every query that gets data is
also answered by the resolvers and compared (the ``app`` fixture verifies the
fast path). ``LIKE`` operators match user text literally, as a Python
reference does.

The examples are derandomized and bounded, so CI runs the same cases each time.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from models import Post, User
from schema.context import FilterLimits
from tests.api import Dataset, GraphQL, StatementCounter, gid, insert_dataset, snapshot

CLEAN_CODES = {"BAD_USER_INPUT", "QUERY_TOO_COMPLEX"}
LIMITS = FilterLimits()
MAX_FILTER_DEPTH, MAX_FILTER_TERMS = LIMITS.depth, LIMITS.terms
MAX_BODY_BYTES = 1024 * 1024

PROPERTY = settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # the app and its data serve every example
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

# -- strategies: text -------------------------------------------------------------

ODD_PIECES = [
    "'",
    '"',
    "%",
    "_",
    "\\",
    "\\%",
    "\\_",
    "%_%",
    "\\\\",
    "''",
    "'; DROP TABLE users; --",
    '" OR 1=1 --',
    "\x00",
    "a\x00b",
    "\u202e",  # right-to-left override
    "\ufeff",  # byte order mark
    "\u200b",  # zero-width space
    "e\u0301",  # e + combining acute accent
    "é",
    "É",
    "ß",
    "İ",
    "ı",
    "Σ",
    "ς",
    "\U0001f600",
    "𝔘",
    "\ud7ff",
    "\ue000",
    "\uffff",
    "\r\n",
    "\t",
    "\x1b[31m",
    "\x7f",
    "$1",
    "?",
    ":name",
    "[a-z]",
    "*",
    "^$",
    "NULL",
    "null",
    "\\u0000",
]
CHARACTERS = st.characters(exclude_categories=["Cs"])  # JSON cannot carry lone surrogates


def texts(max_size: int = 30) -> st.SearchStrategy[str]:
    """Any text, often made of pieces that break naive SQL, LIKE or JSON handling."""
    return st.one_of(
        st.text(CHARACTERS, max_size=max_size),
        st.lists(
            st.one_of(st.sampled_from(ODD_PIECES), st.text(CHARACTERS, max_size=3)), max_size=10
        ).map("".join),
    )


LONG_TEXTS = st.builds(
    lambda piece, times: piece * times,
    st.sampled_from(["%", "_", "\\", "'", "é", "\U0001f600", "ab"]),
    st.sampled_from([201, 5_000, 10_001, 30_000]),
)
STRINGS = st.one_of(texts(), texts(), texts(), LONG_TEXTS, st.none())

# -- strategies: IDs, numbers, date-times, cursors --------------------------------------
#
# Every value below has the type its variable declares, so most requests get past
# variable coercion and reach the filters, pages and cursors; values of the wrong
# type have a property of their own (``test_values_of_the_wrong_type_...``).

TYPE_NAMES = ["User", "Post", "Comment", "Role", "Node", "Query", "PageInfo", "user", "", "Us er"]
KEYS = st.one_of(
    st.integers(-(2**31), 2**31 - 1),
    st.sampled_from([0, -1, 2**31, -(2**31) - 1, 10**30]),
    st.sampled_from(["", "01", "-0", "1.5", " 1", "1e3", "x", "１"]),
)


def raw_global_id(type_name: str, key: object) -> str:
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()


def ids(type_name: str) -> st.SearchStrategy[Any]:
    """Global IDs for a filter on ``type_name``: mostly its own rows, also anything else."""
    return st.one_of(
        st.builds(raw_global_id, st.just(type_name), st.integers(1, 12)),  # rows of the blog
        st.builds(raw_global_id, st.just(type_name), st.integers(1, 12)),
        st.builds(raw_global_id, st.sampled_from(TYPE_NAMES), KEYS),
        st.builds(raw_global_id, st.sampled_from(TYPE_NAMES), KEYS).map(lambda i: i.rstrip("=")),
        st.binary(max_size=24).map(lambda raw: base64.b64encode(raw).decode()),
        texts(max_size=16),
        st.integers(-(2**40), 2**40),  # an ID variable takes a JSON number too
    )


def id_lists(type_name: str) -> st.SearchStrategy[list[Any]]:
    # Lists at and over the term limit: test_a_filter_holds_a_bounded_number_of_terms.
    return st.lists(ids(type_name), max_size=5)


OFFSETS = st.sampled_from(
    [
        UTC,
        timezone(timedelta(hours=14)),
        timezone(-timedelta(hours=12)),
        timezone(timedelta(hours=5, minutes=45)),
    ]
)
DATETIMES = st.one_of(
    st.datetimes(datetime(1, 1, 2), datetime(9999, 12, 30), timezones=OFFSETS).map(
        datetime.isoformat
    ),
    st.datetimes().map(datetime.isoformat),  # naive: taken as UTC
    st.sampled_from(["2024-01-01T01:00:00+00:00", "2024-01-01T01:00:00Z", "2024-01-01"]),
)
#: Date-time strings that do not coerce (they become BAD_USER_INPUT on their variable).
BAD_DATETIMES = st.sampled_from(
    [
        "0001-01-01T00:00:00+05:00",  # before year 1 in UTC
        "9999-12-31T23:59:59-05:00",  # after year 9999 in UTC
        "2024-02-30T00:00:00+00:00",
        "2024-01-01T24:00:00Z",
        "yesterday",
        "",
        "+002024-01-01T00:00:00Z",
        "2024-01-01T00:00:00\x00",
    ]
)
SIGNATURES = st.one_of(
    st.sampled_from(
        [
            "id:a",
            "id:d",
            "name:a,id:a",
            "email:d,id:d",
            "title:a,id:a",
            "title:d,id:d",
            "created_at:a,id:a",
            "updated_at:d,id:d",
            "body:a,id:a",
        ]
    ),
    texts(max_size=12),
)
CURSOR_VALUES = st.one_of(
    st.integers(1, 12),
    st.integers(-(2**63), 2**63),
    texts(max_size=20),
    DATETIMES,
    BAD_DATETIMES,
    st.none(),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
)


def forged_cursor(version: object, signature: object, values: object) -> str:
    payload = json.dumps([version, signature, values]).encode()
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


#: A cursor of the default order (``id`` ascending) at a row of the blog.
ID_CURSORS = st.builds(forged_cursor, st.just(1), st.just("id:a"), st.tuples(st.integers(1, 12)))
CURSORS = st.one_of(
    ID_CURSORS,
    st.builds(
        forged_cursor,
        st.sampled_from([1, 1, 1, 0, 2, "1", None]),
        SIGNATURES,
        st.lists(CURSOR_VALUES, max_size=4),
    ),
    st.binary(max_size=48).map(lambda raw: base64.urlsafe_b64encode(raw).decode()),
    texts(max_size=40),
)
PAGE_SIZES = st.one_of(
    st.integers(0, 100),
    st.integers(-3, 105),
    st.sampled_from([2**31 - 1, -(2**31)]),
)

# -- strategies: filters and orders --------------------------------------------------


def operators(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """An input object with any subset of ``fields``."""
    return st.fixed_dictionaries({}, optional=fields)


def id_filter(type_name: str) -> st.SearchStrategy[dict[str, Any]]:
    return operators(
        {
            "eq": ids(type_name),
            "ne": ids(type_name),
            "in": id_lists(type_name),
            "notIn": id_lists(type_name),
        }
    )


STRING_LISTS = st.lists(st.one_of(texts(), texts(), LONG_TEXTS), max_size=4)
STRING_FILTER = operators(
    {
        "eq": STRINGS,
        "ne": STRINGS,
        "in": STRING_LISTS,
        "notIn": STRING_LISTS,
        "contains": STRINGS,
        "iContains": STRINGS,
        "startsWith": STRINGS,
        "endsWith": STRINGS,
        "isNull": st.one_of(st.booleans(), st.none()),
    }
)
BOOLEAN_FILTER = operators({"eq": st.booleans(), "ne": st.one_of(st.booleans(), st.none())})
DATETIME_FILTER = operators(
    {name: DATETIMES for name in ("eq", "ne", "gt", "gte", "lt", "lte")} | {"isNull": st.booleans()}
)


def logical(fields: dict[str, Any], itself: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    lists = st.lists(itself, max_size=2)
    return st.one_of(operators(fields | {"and": lists, "or": lists, "not": itself}), st.just({}))


USER_FILTER: st.SearchStrategy[Any] = st.deferred(
    lambda: logical(
        {
            "id": id_filter("User"),
            "name": STRING_FILTER,
            "email": STRING_FILTER,
            "createdAt": DATETIME_FILTER,
            "posts": operators({"some": POST_FILTER, "none": POST_FILTER}),
        },
        USER_FILTER,
    )
)
POST_FILTER: st.SearchStrategy[Any] = st.deferred(
    lambda: logical(
        {
            "id": id_filter("Post"),
            "title": STRING_FILTER,
            "body": STRING_FILTER,
            "published": BOOLEAN_FILTER,
            "createdAt": DATETIME_FILTER,
            "author": USER_FILTER,
            "comments": operators({"some": COMMENT_FILTER, "none": COMMENT_FILTER}),
        },
        POST_FILTER,
    )
)
COMMENT_FILTER: st.SearchStrategy[Any] = st.deferred(
    lambda: logical(
        {
            "id": id_filter("Comment"),
            "body": STRING_FILTER,
            "createdAt": DATETIME_FILTER,
            "author": USER_FILTER,
            "post": POST_FILTER,
        },
        COMMENT_FILTER,
    )
)


def nest(where: Any, levels: int, how: str) -> Any:
    """``where`` inside ``levels`` of ``and``/``or``/``not``."""
    for _ in range(levels):
        where = {how: where} if how == "not" else {how: [where]}
    return where


def filters(base: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Generated filters, also nested around the depth limit and wider than the term limit."""
    return st.one_of(
        st.none(),
        base,
        base,
        base,
        base,
        base,
        st.builds(
            nest,
            base,
            st.integers(MAX_FILTER_DEPTH - 2, MAX_FILTER_DEPTH + 4),
            st.sampled_from(["and", "or", "not"]),
        ),
        st.builds(
            lambda item, times, how: {how: [item] * times},
            st.sampled_from([{}, {"not": {}}, {"and": [{}, {}]}]),
            st.just(MAX_FILTER_TERMS + 1),
            st.sampled_from(["and", "or"]),
        ),
    )


def order_by(fields: list[str]) -> st.SearchStrategy[Any]:
    one = st.fixed_dictionaries(
        {"field": st.sampled_from(fields)},
        optional={"direction": st.sampled_from(["ASC", "DESC"])},
    )
    return st.one_of(st.none(), st.lists(one, max_size=6), one)  # one object is a list of one


TRASHED = st.one_of(st.none(), st.sampled_from(["WITHOUT", "WITH", "ONLY"]))
NESTED_PAGE = operators({"nestedFirst": PAGE_SIZES, "nestedLast": PAGE_SIZES})
PAGES = st.one_of(
    operators({"first": PAGE_SIZES}),
    st.fixed_dictionaries({"first": PAGE_SIZES, "after": CURSORS}),
    st.fixed_dictionaries({"last": PAGE_SIZES}, optional={"before": CURSORS}),
    operators({"first": PAGE_SIZES, "last": PAGE_SIZES, "after": CURSORS, "before": CURSORS}),
)


# -- the documents ---------------------------------------------------------------------

PAGE = """
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
"""
NESTED_PAGE_ARGUMENTS = "first: $nestedFirst, last: $nestedLast"
USERS = f"""
query(
  $where: UserFilter, $orderBy: [UserOrder!], $trashed: Trashed,
  $first: Int, $last: Int, $after: String, $before: String,
  $nestedWhere: PostFilter, $nestedOrderBy: [PostOrder!], $nestedFirst: Int, $nestedLast: Int
) {{
  users(
    where: $where, orderBy: $orderBy, trashed: $trashed,
    first: $first, last: $last, after: $after, before: $before
  ) {{
    {PAGE}
    edges {{
      cursor
      node {{
        id name email createdAt deletedAt
        posts(where: $nestedWhere, orderBy: $nestedOrderBy, {NESTED_PAGE_ARGUMENTS}) {{
          totalCount nodes {{ id title }}
        }}
      }}
    }}
  }}
}}
"""
POSTS = f"""
query(
  $where: PostFilter, $orderBy: [PostOrder!], $trashed: Trashed,
  $first: Int, $last: Int, $after: String, $before: String,
  $nestedWhere: CommentFilter, $nestedOrderBy: [CommentOrder!], $nestedFirst: Int, $nestedLast: Int
) {{
  posts(
    where: $where, orderBy: $orderBy, trashed: $trashed,
    first: $first, last: $last, after: $after, before: $before
  ) {{
    {PAGE}
    edges {{
      cursor
      node {{
        id title published createdAt author {{ id name }}
        comments(where: $nestedWhere, orderBy: $nestedOrderBy, {NESTED_PAGE_ARGUMENTS}) {{
          totalCount nodes {{ id body }}
        }}
      }}
    }}
  }}
}}
"""
COMMENTS = f"""
query(
  $where: CommentFilter, $orderBy: [CommentOrder!],
  $first: Int, $last: Int, $after: String, $before: String,
  $nestedWhere: PostFilter, $nestedOrderBy: [PostOrder!], $nestedFirst: Int, $nestedLast: Int
) {{
  comments(
    where: $where, orderBy: $orderBy,
    first: $first, last: $last, after: $after, before: $before
  ) {{
    {PAGE}
    edges {{
      cursor
      node {{
        id body createdAt post {{ id title }}
        author {{
          id
          posts(where: $nestedWhere, orderBy: $nestedOrderBy, {NESTED_PAGE_ARGUMENTS}) {{
            totalCount
          }}
        }}
      }}
    }}
  }}
}}
"""
POST_ORDER = order_by(["ID", "TITLE", "CREATED_AT", "UPDATED_AT"])
ROOTS = {
    "users": (
        USERS,
        filters(USER_FILTER),
        order_by(["ID", "NAME", "EMAIL", "CREATED_AT", "UPDATED_AT"]),
        filters(POST_FILTER),
        POST_ORDER,
    ),
    "posts": (
        POSTS,
        filters(POST_FILTER),
        POST_ORDER,
        filters(COMMENT_FILTER),
        order_by(["ID", "CREATED_AT", "UPDATED_AT"]),
    ),
    "comments": (
        COMMENTS,
        filters(COMMENT_FILTER),
        order_by(["ID", "CREATED_AT", "UPDATED_AT"]),
        filters(POST_FILTER),
        POST_ORDER,
    ),
}


@st.composite
def requests(draw: st.DrawFn, root: str) -> dict[str, Any]:
    """The variables of a ``root`` query: filter, order, page, and the nested connection's."""
    _document, where, order, nested_where, nested_order = ROOTS[root]
    variables: dict[str, Any] = {
        "where": draw(where),
        "orderBy": draw(order),
        "nestedWhere": draw(nested_where),
        "nestedOrderBy": draw(nested_order),
        **draw(PAGES),
        **draw(NESTED_PAGE),
    }
    if root != "comments":
        variables["trashed"] = draw(TRASHED)
    return variables


async def clean_answer(gql: GraphQL, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """Post the request and check that it is answered cleanly; the body."""
    response = await gql.post(query, variables)
    body: dict[str, Any] = response.json()
    if len(response.request.content) > MAX_BODY_BYTES:
        assert response.status_code == 413
        assert [error["extensions"] for error in body["errors"]] == [{"code": "BAD_REQUEST"}]
        return body
    assert response.status_code == 200, response.text
    errors = body.get("errors", [])
    assert {error["extensions"]["code"] for error in errors} <= CLEAN_CODES, errors
    for error in errors:
        assert error["message"]
        if error.get("path") is not None:
            # An argument refused while resolving: BAD_USER_INPUT naming the arguments.
            assert error["extensions"]["code"] == "BAD_USER_INPUT"
            assert error["extensions"]["fields"]
            assert all(isinstance(text, str) for text in error["extensions"]["fields"].values())
    if errors:
        # A query's connection is non-null, so its error nulls `data`; a mutation
        # field is nullable, so `data` keeps the field as null.
        assert body.get("data") is None or set(body["data"].values()) == {None}
    else:
        assert list(body) == ["data"]
    return body


def check_connection(connection: dict[str, Any]) -> None:
    edges, info = connection["edges"], connection["pageInfo"]
    assert 0 <= len(edges) <= min(100, connection["totalCount"])
    assert info["startCursor"] == (edges[0]["cursor"] if edges else None)
    assert info["endCursor"] == (edges[-1]["cursor"] if edges else None)


# -- the properties -----------------------------------------------------------------


@PROPERTY
@given(variables=requests("users"))
async def test_generated_user_queries_answer_data_or_input_errors(
    gql: GraphQL, blog: Dataset, variables: dict[str, Any]
) -> None:
    body = await clean_answer(gql, USERS, variables)

    if "errors" not in body:
        check_connection(body["data"]["users"])


@PROPERTY
@given(variables=requests("posts"))
async def test_generated_post_queries_answer_data_or_input_errors(
    gql: GraphQL, blog: Dataset, variables: dict[str, Any]
) -> None:
    body = await clean_answer(gql, POSTS, variables)

    if "errors" not in body:
        check_connection(body["data"]["posts"])


@PROPERTY
@given(variables=requests("comments"))
async def test_generated_comment_queries_answer_data_or_input_errors(
    gql: GraphQL, blog: Dataset, variables: dict[str, Any]
) -> None:
    body = await clean_answer(gql, COMMENTS, variables)

    if "errors" not in body:
        check_connection(body["data"]["comments"])


#: Values of the wrong JSON type for any variable, and values that do not coerce.
JUNK = st.one_of(
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.sampled_from([2**31, -(2**31) - 1, 10**20]),
    st.floats(allow_nan=False, allow_infinity=False),
    texts(max_size=5),
    BAD_DATETIMES,
    st.sampled_from(["AGE", "id", "asc", "ID ", "__typename", "PASSWORD", "SOMETIMES"]),
    st.just([]),
    st.just({}),
    st.just({"eq": None}),
    st.just([None]),
)


def leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The paths of every value in a JSON structure, containers included."""
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:3]):
            found += leaves(item, (*path, index))
    return found


def replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, *rest = path
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[head] = replaced(value[head], tuple(rest), new)
    return copy


@PROPERTY
@given(root=st.sampled_from(sorted(ROOTS)), data=st.data())
async def test_values_of_the_wrong_type_anywhere_are_bad_user_input(
    gql: GraphQL, blog: Dataset, root: str, data: st.DataObject
) -> None:
    variables = data.draw(requests(root))
    path = data.draw(st.sampled_from(leaves(variables)[1:]))
    variables = replaced(variables, path, data.draw(JUNK))

    await clean_answer(gql, ROOTS[root][0], variables)


# -- LIKE matches user text literally -----------------------------------------------------

#: Wildcards, escapes and quotes, with letters of both cases so case rules matter.
ASCII_ALPHABET = "aAbBzZ%_\\'\" .-*[]^$?"
UNICODE_ALPHABET = ASCII_ALPHABET + "éÉßẞİıiIΣσςжЖ\u0301\U0001f600\u200b"
LIKE_QUERY = """
query($v: String!) {
  contains: posts(first: 100, where: {title: {contains: $v}}) { nodes { title } }
  startsWith: posts(first: 100, where: {title: {startsWith: $v}}) { nodes { title } }
  endsWith: posts(first: 100, where: {title: {endsWith: $v}}) { nodes { title } }
  iContains: posts(first: 100, where: {title: {iContains: $v}}) { nodes { title } }
}
"""


@st.composite
def titles_and_needle(draw: st.DrawFn) -> tuple[list[str], str]:
    """Post titles and a needle: often a piece of one title, so that there are matches."""
    alphabet = draw(st.sampled_from([ASCII_ALPHABET, UNICODE_ALPHABET]))
    title = st.text(alphabet, max_size=40)
    titles = draw(st.lists(title, min_size=1, max_size=8))
    source = draw(st.sampled_from(titles))
    start = draw(st.integers(0, len(source)))
    end = draw(st.integers(start, len(source)))
    piece = source[start:end]
    needle = draw(
        st.one_of(st.just(piece), st.just(piece.swapcase()), st.text(alphabet, max_size=6))
    )
    return titles, needle


async def replace_posts(engine: AsyncEngine, titles: list[str]) -> None:
    """Only these posts (and their author) in the database, in this order."""
    async with engine.begin() as connection:
        await connection.execute(delete(Post))
        await connection.execute(delete(User))
    await insert_dataset(
        engine,
        users=[{"key": "writer", "name": "Writer", "email": "writer@example.com"}],
        posts=[{"key": str(n), "author": "writer", "title": t} for n, t in enumerate(titles)],
    )


@settings(PROPERTY, max_examples=60)
@given(case=titles_and_needle())
async def test_like_operators_match_user_text_literally(
    gql: GraphQL, committed_engine: AsyncEngine, case: tuple[list[str], str]
) -> None:
    titles, needle = case
    await replace_posts(committed_engine, titles)

    data = await gql.data(LIKE_QUERY, {"v": needle})

    found = {key: [node["title"] for node in data[key]["nodes"]] for key in data}
    assert found["contains"] == [title for title in titles if needle in title]
    assert found["startsWith"] == [title for title in titles if title.startswith(needle)]
    assert found["endsWith"] == [title for title in titles if title.endswith(needle)]
    if needle.isascii() and all(title.isascii() for title in titles):
        # Against Python's lower() only for ASCII: see the Unicode test below.
        assert found["iContains"] == [t for t in titles if needle.lower() in t.lower()]
    else:
        # Whatever the case rules, ignoring case finds at least what matching it does.
        assert set(found["contains"]) <= set(found["iContains"])


WORDS = ["Émile Zola", "ЖУК и жук", "ΑΣ", "ΟΔΟΣ", "İstanbul", "STRASSE", "Kelvin \u212a"]


@pytest.mark.parametrize(
    ("needle", "expected"),
    [
        pytest.param("émile", ["Émile Zola"], id="latin-accent"),
        pytest.param("жук", ["ЖУК и жук"], id="cyrillic"),
        pytest.param("kelvin k", ["Kelvin \u212a"], id="kelvin-sign"),
        pytest.param("straße", [], id="no-full-case-folding"),
        # Lower-casing is one character at a time with the simple Unicode mapping,
        # as PostgreSQL does it: Σ is σ wherever it stands, so the final form ς is
        # another letter, and İ is i. SQLite used Python's str.lower(), which
        # lowers a word-final Σ to ς and İ to i + U+0307: there "ΑΣ" contained "Σ"
        # but did not iContain it, and "İstanbul" did not iContain "istanbul".
        pytest.param("Σ", ["ΑΣ", "ΟΔΟΣ"], id="capital-sigma"),
        pytest.param("σ", ["ΑΣ", "ΟΔΟΣ"], id="small-sigma"),
        pytest.param("οδοσ", ["ΟΔΟΣ"], id="medial-sigma-form"),
        pytest.param("οδος", [], id="final-sigma-form-is-another-letter"),
        pytest.param("istanbul", ["İstanbul"], id="dotted-capital-i"),
        pytest.param("İSTANBUL", ["İstanbul"], id="dotted-capital-i-in-the-needle"),
    ],
)
async def test_icontains_lowers_unicode_alike_on_both_databases(
    gql: GraphQL, committed_engine: AsyncEngine, needle: str, expected: list[str]
) -> None:
    # Depends on the PostgreSQL server's ctype lowering non-ASCII letters
    # (C.UTF-8 or any UTF-8 locale); under the plain "C" locale ILIKE folds ASCII only.
    await replace_posts(committed_engine, WORDS)

    data = await gql.data(
        "query($v: String!) { posts(where: {title: {iContains: $v}}) { nodes { title } } }",
        {"v": needle},
    )

    assert [node["title"] for node in data["posts"]["nodes"]] == expected


# -- limits of a filter --------------------------------------------------------------------

USER_NAMES = "query($where: UserFilter) { users(where: $where) { nodes { name } } }"


LIVE_USERS = {
    "data": {
        "users": {
            "nodes": [{"name": "Ada Lovelace"}, {"name": "Bob Builder"}, {"name": "Dee Quiet"}]
        }
    }
}


@pytest.mark.parametrize(
    "where",
    [
        pytest.param({"or": [{}] * 5_000}, id="or-of-5000"),
        pytest.param({"and": [{"name": {"ne": "x"}}] * 3_000}, id="and-of-3000"),
        pytest.param({"id": {"notIn": [gid("User", 999)] * 9_000}}, id="not-in-of-9000"),
        pytest.param({"name": {"notIn": ["x"] * 9_000}}, id="strings-not-in-of-9000"),
        pytest.param(nest({"name": {"ne": "x"}}, 196, "not"), id="196-nots"),
    ],
)
async def test_filters_within_the_request_limits_are_never_refused(
    gql: GraphQL, blog: Dataset, where: dict[str, Any]
) -> None:
    # What the variables' 10,000-value cap and graphql-core's own nesting limit let
    # through, the filter limits' defaults let through too, on both databases.
    assert await gql(USER_NAMES, {"where": where}) == LIVE_USERS


async def test_a_list_of_3000_values_in_the_document_is_one_parameter(
    gql: GraphQL, blog: Dataset, sql: StatementCounter
) -> None:
    # 3,000 IDs are 3,000 tokens, under the 5,000-token limit: the contract lets the
    # document through, and the list is bound as one parameter (no statement grows).
    ids = [gid("User", key) for key in range(1000, 4000)] + [gid("User", blog.users["bob"])]
    listed = ", ".join(f'"{value}"' for value in ids)
    document = f"{{ users(where: {{id: {{in: [{listed}]}}}}) {{ nodes {{ name }} }} }}"
    with sql:
        data = await gql.data(document)

    assert data == {"users": {"nodes": [{"name": "Bob Builder"}]}}
    [statement] = sql.statements
    assert statement.count("?") + statement.count("$") <= 3


@pytest.mark.parametrize("operator", ["contains", "iContains", "startsWith", "endsWith"])
async def test_a_long_text_value_is_compared_on_both_databases(
    gql: GraphQL, blog: Dataset, operator: str
) -> None:
    # Text, not a LIKE pattern: SQLite refuses patterns over 50,000 bytes, but not these.
    query = "query($where: PostFilter) { posts(where: $where) { totalCount } }"
    long = "\U0001f600%_\\" * 20_000  # 80,000 characters, 140,000 bytes in UTF-8
    title = {"title": {operator: "Building things"}}

    assert await gql(query, {"where": {"title": {operator: long}}}) == {
        "data": {"posts": {"totalCount": 0}}
    }
    assert await gql(query, {"where": title}) == {"data": {"posts": {"totalCount": 1}}}


# -- NUL and other hostile text in mutation inputs -------------------------------------------

NUL = "must not contain the NUL character"


@pytest.mark.parametrize(
    ("document", "variables", "fields"),
    [
        pytest.param(
            "mutation($a: String!, $b: String!) {"
            " createUser(input: {name: $a, email: $b}) { id } }",
            {"a": "Nul\x00Name", "b": "nul\x00@example.com"},
            {"input.name": NUL, "input.email": NUL},
            id="createUser",
        ),
        pytest.param(
            "mutation($id: ID!, $a: String!) { updateUser(id: $id, input: {name: $a}) { id } }",
            {"a": "\x00"},
            {"input.name": NUL},
            id="updateUser",
        ),
        pytest.param(
            "mutation($id: ID!, $a: String!, $b: String!) {"
            " createPost(input: {authorId: $id, title: $a, body: $b}) { id } }",
            {"a": "Title\x00", "b": "\x00body"},
            {"input.title": NUL, "input.body": NUL},
            id="createPost",
        ),
        pytest.param(
            "mutation($a: String!) { createRole(input: {name: $a}) { id } }",
            {"a": "ro\x00le"},
            {"input.name": NUL},
            id="createRole",
        ),
    ],
)
async def test_nul_in_a_mutation_input_is_bad_user_input(
    gql: GraphQL,
    blog: Dataset,
    committed_engine: AsyncEngine,
    document: str,
    variables: dict[str, Any],
    fields: dict[str, str],
) -> None:
    # PostgreSQL cannot store NUL in text (it failed as INTERNAL_SERVER_ERROR there):
    # both databases refuse it as input.
    if "$id" in document:
        variables = {**variables, "id": gid("User", blog.users["ada"])}
    field = document.split("{", 1)[1].split("(", 1)[0].strip()
    before = await snapshot(committed_engine)

    body = await gql(document, variables)

    assert body["data"] == {field: None}
    assert [error["extensions"] for error in body["errors"]] == [
        {"code": "BAD_USER_INPUT", "fields": fields}
    ]
    assert await snapshot(committed_engine) == before


async def test_nul_in_a_comment_body_is_bad_user_input(gql: GraphQL, blog: Dataset) -> None:
    body = await gql(
        "mutation($post: ID!, $author: ID!, $body: String!) {"
        " createComment(input: {postId: $post, authorId: $author, body: $body}) { id } }",
        {
            "post": gid("Post", blog.posts["a1"]),
            "author": gid("User", blog.users["bob"]),
            "body": "\x00",
        },
    )

    assert body["data"] == {"createComment": None}
    assert [error["extensions"] for error in body["errors"]] == [
        {"code": "BAD_USER_INPUT", "fields": {"input.body": NUL}}
    ]


CREATE_POST = """
mutation($author: ID!, $title: String!, $body: String!) {
  createPost(input: {authorId: $author, title: $title, body: $body}) { id title body }
}
"""


@settings(PROPERTY, max_examples=40)
@given(title=st.one_of(texts(), LONG_TEXTS), text=st.one_of(texts(), LONG_TEXTS))
async def test_hostile_text_in_a_new_post_is_stored_as_sent_or_refused(
    gql: GraphQL, blog: Dataset, title: str, text: str
) -> None:
    body = await clean_answer(
        gql, CREATE_POST, {"author": gid("User", blog.users["ada"]), "title": title, "body": text}
    )

    if "errors" in body:
        assert {e["extensions"]["code"] for e in body["errors"]} == {"BAD_USER_INPUT"}
        return
    created = body["data"]["createPost"]
    assert (created["title"], created["body"]) == (title.strip(), text)
    stored = await gql.data(
        "query($id: ID!) { post(id: $id) { title body } }", {"id": created["id"]}
    )
    assert stored == {"post": {"title": title.strip(), "body": text}}
