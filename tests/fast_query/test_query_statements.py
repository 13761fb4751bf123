"""QueryBuilder as a statement: generative copies, scopes, criteria, statement, to_sql."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Select
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from fast_query import NoSessionBound, QueryBuilder
from models import Post, Role, User
from tests.fast_query.support import EPOCH, SELECT_USERS, Blog, where_clause

# Every test here reads one blog, seeded once for the module (see conftest.py).
SEEDED_ONCE = True


# -- scopes, criteria, statement, to_sql ----------------------------------------


def published(query: QueryBuilder[Post]) -> QueryBuilder[Post]:
    return query.where(published=True)


def by_author(
    query: QueryBuilder[Post], user_id: int, *, newest_first: bool = False
) -> QueryBuilder[Post]:
    query = query.where(user_id=user_id)
    return query.latest() if newest_first else query.oldest()


async def test_apply_reusable_scopes(session: AsyncSession, blog: Blog) -> None:
    posts = QueryBuilder(Post, session)
    ada = blog.users["Ada"]
    assert await posts.apply(published).order_by("id").pluck("title") == [
        "GraphQL basics",
        "Bob writes",
        "Ghost story",
    ]
    newest = posts.apply(by_author, ada, newest_first=True)
    assert await newest.pluck("title") == ["SQL tricks", "GraphQL basics"]
    assert await newest.apply(published).pluck("title") == ["GraphQL basics"]
    assert await posts.with_trashed().apply(by_author, ada).pluck("title") == [
        "GraphQL basics",
        "SQL tricks",
        "Old news",
    ]


def test_criteria_is_the_whole_where_clause() -> None:
    assert str(QueryBuilder(User).criteria) == "users.deleted_at IS NULL"
    assert QueryBuilder(User).with_trashed().criteria is None
    assert QueryBuilder(Role).criteria is None
    query = QueryBuilder(User).where(name="Ada").order_by("id").after([5]).before([9])
    assert str(query.criteria) == (
        "users.name = :name_1 AND users.deleted_at IS NULL "
        "AND users.id > :param_1 AND users.id < :param_2"
    )


def test_statement_is_a_select_of_the_model() -> None:
    statement = QueryBuilder(Post).where(published=True).latest().limit(5).offset(10).statement
    assert isinstance(statement, Select)
    assert statement.column_descriptions[0]["entity"] is Post
    assert str(statement) == (
        "SELECT posts.id, posts.user_id, posts.title, posts.body, posts.published, "
        "posts.created_at, posts.updated_at, posts.deleted_at \nFROM posts \n"
        "WHERE posts.published = true AND posts.deleted_at IS NULL "
        "ORDER BY posts.created_at DESC\n LIMIT :param_1 OFFSET :param_2"
    )
    assert statement.compile().params == {"param_1": 5, "param_2": 10}


@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        pytest.param(
            "sqlite",
            "users.created_at >= '2024-01-01 00:00:00.000000' AND users.name LIKE '100\\%' "
            "ESCAPE '\\' AND users.deleted_at IS NULL",
            id="sqlite-name",
        ),
        pytest.param(
            "postgresql",
            "users.created_at >= '2024-01-01 00:00:00+00:00' AND users.name LIKE '100\\%' "
            "ESCAPE '\\' AND users.deleted_at IS NULL",
            id="postgresql-name",
        ),
        pytest.param(
            sqlite.dialect(),
            "users.created_at >= '2024-01-01 00:00:00.000000' AND users.name LIKE '100\\%' "
            "ESCAPE '\\' AND users.deleted_at IS NULL",
            id="sqlite-dialect",
        ),
        pytest.param(
            make_url("postgresql+asyncpg://").get_dialect()(),
            "users.created_at >= '2024-01-01 00:00:00+00:00' AND users.name LIKE '100\\%' "
            "ESCAPE '\\' AND users.deleted_at IS NULL",
            id="asyncpg-dialect",
        ),
    ],
)
def test_to_sql_inlines_values_for_a_dialect(dialect: Any, expected: str) -> None:
    query = QueryBuilder(User).where(User.created_at >= EPOCH).where_like("name", "100\\%")
    sql = query.to_sql(dialect)
    assert sql == SELECT_USERS + "WHERE " + expected


async def test_to_sql_uses_the_sessions_dialect(session: AsyncSession, dialect: str) -> None:
    query = QueryBuilder(User, session).where(created_at=EPOCH)
    value = {"sqlite": "'2024-01-01 00:00:00.000000'", "postgresql": "'2024-01-01 00:00:00+00:00'"}
    assert query.to_sql() == (
        SELECT_USERS + f"WHERE users.created_at = {value[dialect]} AND users.deleted_at IS NULL"
    )
    assert query.to_sql() == query.to_sql(dialect)


def test_to_sql_without_session_or_dialect_uses_the_default_dialect() -> None:
    assert QueryBuilder(User).where(id=3).to_sql() == (
        SELECT_USERS + "WHERE users.id = 3 AND users.deleted_at IS NULL"
    )


async def test_terminals_need_a_session() -> None:
    query = QueryBuilder(User).where(name="Ada")
    with pytest.raises(NoSessionBound, match=r"QueryBuilder\(User\) has no session"):
        await query.get()
    with pytest.raises(NoSessionBound):
        await query.count()


def test_statement_binds_values_as_parameters() -> None:
    statement = QueryBuilder(User).where(name="Ada'; DROP TABLE users; --").statement
    assert isinstance(statement, Select)
    compiled = statement.compile()
    assert str(compiled) == (
        SELECT_USERS + "WHERE users.name = :name_1 AND users.deleted_at IS NULL"
    )
    assert compiled.params == {"name_1": "Ada'; DROP TABLE users; --"}


@pytest.mark.parametrize(
    ("dialect", "lock"),
    [
        pytest.param(
            make_url("postgresql+asyncpg://").get_dialect()(), " FOR NO KEY UPDATE", id="pg"
        ),
        pytest.param(sqlite.dialect(), "", id="sqlite-has-no-row-locks"),
    ],
)
def test_lock_for_update_locks_the_rows_read(dialect: Any, lock: str) -> None:
    query = QueryBuilder(User).where(id=3)

    locked = query.lock_for_update()

    assert locked.to_sql(dialect) == query.to_sql(dialect) + lock
    assert locked.statement.get_execution_options() == {"populate_existing": True}
    assert query.statement.get_execution_options() == {}


def test_builders_are_generative() -> None:
    base = QueryBuilder(User).where(name="Ada")
    narrowed = base.where(email="ada@example.com").order_by("id").limit(3)
    widened = base.or_where(name="Bob")
    assert where_clause(base) == "users.name = 'Ada' AND users.deleted_at IS NULL"
    assert where_clause(narrowed) == (
        "users.name = 'Ada' AND users.email = 'ada@example.com' AND users.deleted_at IS NULL "
        "ORDER BY users.id ASC LIMIT 3 OFFSET 0"
    )
    assert where_clause(widened) == (
        "(users.name = 'Ada' OR users.name = 'Bob') AND users.deleted_at IS NULL"
    )
    assert base.orders == ()
    assert [key.descending for key in narrowed.orders] == [False]


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        pytest.param("email", "users.email", id="name"),
        pytest.param(User.email, "users.email", id="attribute"),
        pytest.param(User.__table__.c.email, "users.email", id="column"),
        pytest.param(User.name + "!", "users.name || :name_1", id="expression"),
    ],
)
def test_column_resolves_names_attributes_and_expressions(ref: Any, expected: str) -> None:
    assert str(QueryBuilder(User).column(ref)) == expected
