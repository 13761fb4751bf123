"""Free predicates: values_in/values_not_in (a list as one parameter), text matches, all_of."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import ColumnElement, bindparam, case, literal, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from fast_query import (
    InvalidQuery,
    QueryBuilder,
    RawSelect,
    all_of,
    compile_select,
    text_contains,
    text_ends_with,
    text_starts_with,
    values_in,
    values_not_in,
    where_all,
)
from models import User
from tests.conftest import StatementCounter
from tests.fast_query.support import EPOCH, Blog

# Every test here reads one blog, seeded once for the module (see conftest.py).
SEEDED_ONCE = True


MANY = 3_000

SQLITE = make_url("sqlite+aiosqlite://").get_dialect()()
ASYNCPG = make_url("postgresql+asyncpg://").get_dialect()()


def where_sql(condition: ColumnElement[bool], dialect: Any) -> str:
    return str(select(User.id).where(condition).compile(dialect=dialect)).split("WHERE ")[1]


@pytest.mark.parametrize(
    ("condition", "dialect", "sql"),
    [
        pytest.param(
            values_in(User.id, [1, 2]),
            SQLITE,
            "users.id IN (SELECT value FROM json_each(?))",
            id="sqlite-in",
        ),
        pytest.param(
            values_not_in(User.id, [1, 2]),
            SQLITE,
            "users.id NOT IN (SELECT value FROM json_each(?))",
            id="sqlite-not-in",
        ),
        pytest.param(
            values_in(User.id, [1, 2]), ASYNCPG, "users.id = ANY ($1::INTEGER[])", id="pg-in"
        ),
        # No length in the cast: VARCHAR(100)[] would cut a longer value down to a match.
        pytest.param(
            values_not_in(User.name, ["a"]),
            ASYNCPG,
            "users.name != ALL ($1::VARCHAR[])",
            id="pg-not-in",
        ),
        pytest.param(
            ~values_in(User.id, [1]),
            SQLITE,
            "users.id NOT IN (SELECT value FROM json_each(?))",
            id="inverted",
        ),
        pytest.param(
            values_in(User.id, [1]) | (User.name == "Ada"),
            ASYNCPG,
            "users.id = ANY ($1::INTEGER[]) OR users.name = $2::VARCHAR",
            id="pg-or",
        ),
    ],
)
def test_values_in_sql(condition: ColumnElement[bool], dialect: Any, sql: str) -> None:
    assert where_sql(condition, dialect) == sql


@pytest.mark.parametrize(
    "length",
    [pytest.param(0, id="empty"), pytest.param(1, id="one"), pytest.param(MANY, id="many")],
)
def test_the_list_is_one_parameter_whatever_its_length(length: int) -> None:
    for dialect in (SQLITE, ASYNCPG):
        statement = select(User.id).where(values_in(User.id, range(length)))
        compiled = statement.compile(dialect=dialect)
        assert compiled.params == {"id_1": list(range(length))}
        assert where_sql(values_in(User.id, range(length)), dialect) == where_sql(
            values_in(User.id, [7]), dialect
        )


@pytest.mark.parametrize(
    ("column", "known", "filler"),
    [
        pytest.param("id", ("Ada", "Bob", "Cyd"), lambda i: 1_000_000 + i, id="ints"),
        pytest.param("name", ("Ada", "Bob", "Cyd"), lambda i: f"nobody {i}", id="strings"),
    ],
)
async def test_thousands_of_values(
    session: AsyncSession,
    blog: Blog,
    statements: StatementCounter,
    column: str,
    known: tuple[str, ...],
    filler: Callable[[int], Any],
) -> None:
    listed = [blog.users[name] if column == "id" else name for name in known]
    values = [*listed, *(filler(i) for i in range(MANY - len(listed)))]
    users = QueryBuilder(User, session).order_by("id")
    statements.reset()
    assert await users.where_in(column, values).pluck("name") == ["Ada", "Bob"]  # Cyd is trashed
    assert await users.where_not_in(column, values).pluck("name") == ["Dee", "Eve"]
    placeholder = "?" if session.get_bind().dialect.name == "sqlite" else "$1"
    assert [sql.count(placeholder) for sql in statements.statements] == [1, 1]
    assert "$2" not in " ".join(statements.statements)


NAMES = [
    "Élodie",
    "élodie",
    "E\u0301lodie",  # É as E and a combining accent
    "straße",
    "STRASSE",
    "smile 😀",
    'quote " and \\ backslash',
    "tab\tand\nnewline",
    "x" * 100,
]
PROBES = [
    ["Élodie"],
    ["ÉLODIE", "elodie"],
    ["E\u0301lodie"],
    ["strasse", "Straße"],
    ["STRASSE"],
    ["smile 😀", "smile"],
    ['quote " and \\ backslash'],
    ["tab\tand\nnewline"],
    ["x" * 100 + "y", "x" * 99],
    ["ada", "ADA", "Ada "],
    ["Ada", None],
    [None],
]


@pytest.fixture
async def named(session: AsyncSession, blog: Blog) -> QueryBuilder[User]:
    """Users named ``NAMES`` besides the blog's, and a builder over all of them."""
    emails = [f"{index}@values.test" for index in range(len(NAMES))]
    session.add_all(User(name=name, email=email) for name, email in zip(NAMES, emails, strict=True))
    await session.flush()
    return QueryBuilder(User, session).with_trashed().order_by("id")


@pytest.mark.parametrize("probe", PROBES)
async def test_strings_compare_as_in_does(named: QueryBuilder[User], probe: list[Any]) -> None:
    found = await named.where_in("name", probe).pluck("name")
    assert found == await named.where(User.name.in_(probe)).pluck("name")
    left = await named.where_not_in("name", probe).pluck("name")
    assert left == await named.where(User.name.not_in(probe)).pluck("name")


async def test_strings_match_exactly(named: QueryBuilder[User]) -> None:
    assert await named.where_in("name", ["élodie", "ada", "Straße"]).pluck("name") == ["élodie"]
    assert await named.where_in("name", ["Ada", "E\u0301lodie"]).pluck("name") == [
        "Ada",
        "E\u0301lodie",
    ]


CYD_DELETED = EPOCH + timedelta(days=30)
# Dee's name as NULL: a nullable string column.
NAME_OR_NULL = case((User.name == "Dee", None), else_=User.name)


@pytest.mark.parametrize(
    ("column", "values"),
    [
        pytest.param(User.deleted_at, [CYD_DELETED], id="datetime"),
        pytest.param(User.deleted_at, [CYD_DELETED, None], id="datetime-and-null"),
        pytest.param(User.deleted_at, [None], id="only-null"),
        pytest.param(User.deleted_at, [], id="empty"),
        pytest.param(NAME_OR_NULL, ["Ada", "Cyd"], id="string"),
        pytest.param(NAME_OR_NULL, ["Ada", None], id="string-and-null"),
        pytest.param(NAME_OR_NULL, [], id="string-empty"),
    ],
)
async def test_null_compares_as_in_does(
    session: AsyncSession, blog: Blog, column: Any, values: list[Any]
) -> None:
    everyone = QueryBuilder(User, session).with_trashed().order_by("id")
    found = await everyone.where(values_in(column, values)).pluck("name")
    assert found == await everyone.where(column.in_(values)).pluck("name")
    left = await everyone.where(values_not_in(column, values)).pluck("name")
    assert left == await everyone.where(column.not_in(values)).pluck("name")


async def test_empty_lists(session: AsyncSession, blog: Blog) -> None:
    everyone = QueryBuilder(User, session).with_trashed().order_by("id")
    assert await everyone.where_in("id", []).pluck("name") == []
    # NOT IN an empty list holds for every row, a NULL column's too.
    assert await everyone.where(values_not_in(User.deleted_at, [])).count() == 5
    assert await everyone.where(values_in(literal(None, User.id.type), [])).count() == 0
    assert await everyone.where(values_not_in(literal(None, User.id.type), [])).count() == 5


async def test_a_compiled_template_runs_lists_of_any_length(
    session: AsyncSession, blog: Blog
) -> None:
    connection = await session.connection()
    statement = (
        select(User.name)
        .where(values_in(User.id, bindparam("ids")), values_not_in(User.name, bindparam("not")))
        .order_by(User.id)
    )
    template = compile_select(statement, connection.dialect)
    assert isinstance(template, RawSelect)  # no SQL rendered at execution time
    ids = list(blog.users.values())
    cases: list[tuple[list[int], list[str], list[str]]] = [
        ([], [], []),
        (ids[:1], [], ["Ada"]),
        (ids, ["Bob"], ["Ada", "Cyd", "Dee", "Eve"]),
        ([*ids, *range(1_000_000, 1_000_000 + MANY)], ["Ada", "Eve"], ["Bob", "Cyd", "Dee"]),
    ]
    for keys, hidden, expected in cases:
        rows = await template.fetch(connection, {"ids": keys, "not": hidden})
        assert [row[0] for row in rows] == expected
        # The same statement through SQLAlchemy, compiled once for every length.
        result = await connection.execute(statement, {"ids": keys, "not": hidden})
        assert result.scalars().all() == expected


async def test_sqlalchemy_compiles_once_for_every_length(session: AsyncSession, blog: Blog) -> None:
    connection = await session.connection()
    compiled = []
    for length in (1, 2, MANY):
        statement = select(User.name).where(values_in(User.id, range(length)))
        compiled.append((await connection.execute(statement)).context.compiled)
    assert compiled[0] is compiled[1] is compiled[2]


def test_a_list_parameter_needs_a_name() -> None:
    with pytest.raises(InvalidQuery, match="needs a name"):
        values_in(User.id, bindparam(None, [1], unique=True))


# -- all_of, where_all ----------------------------------------------------------------


def test_all_of_ands_the_conditions_given() -> None:
    a, b = User.name == "Ada", User.id > 3
    assert all_of() is None
    assert all_of(None, None) is None
    assert all_of(None, a) is a
    assert str(all_of(a, None, b)) == "users.name = :name_1 AND users.id > :id_1"


def test_where_all_filters_by_the_conditions_given() -> None:
    statement = select(User.id)
    assert where_all(statement, None) is statement
    assert str(where_all(statement, User.id > 3, None)) == str(statement.where(User.id > 3))


HAYSTACKS = ["", "a", "abc", "Abc", "a%c", "a_c", "a\\c", "éclair", "x\U0001f600y", "ab" * 40_000]
NEEDLES = ["", "a", "c", "bc", "ab", "A", "abcd", "%", "_", "\\", "é", "\U0001f600y", "b" * 3]


@pytest.mark.parametrize("haystack", HAYSTACKS, ids=range(len(HAYSTACKS)))
async def test_text_matches_compare_text_as_python_does(
    session: AsyncSession, haystack: str
) -> None:
    # Text, not a LIKE pattern: no escaping, no length limit, %, _ and \\ are characters.
    hay = literal(haystack)
    tests = [
        test
        for needle in NEEDLES
        for test in (
            text_contains(hay, needle),
            text_contains(hay, needle, case_sensitive=False),
            text_starts_with(hay, needle),
            text_ends_with(hay, needle),
        )
    ]
    found = list((await session.execute(select(*tests))).one())
    expected = [
        want
        for needle in NEEDLES
        for want in (
            needle in haystack,
            needle.lower() in haystack.lower(),
            haystack.startswith(needle),
            haystack.endswith(needle),
        )
    ]
    assert [bool(value) for value in found] == expected


async def test_text_matches_of_null_match_nothing(session: AsyncSession) -> None:
    null = literal(None, type_=User.name.type)
    tests = [text_contains(null, "a"), text_starts_with(null, ""), text_ends_with(null, "")]
    assert list((await session.execute(select(*tests))).one()) == [None, None, None]
