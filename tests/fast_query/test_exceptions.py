"""The error tree, and integrity_errors() turning driver errors into it on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from fast_query import (
    FastQueryError,
    ForeignKeyViolation,
    IntegrityViolation,
    InvalidQuery,
    NoSessionBound,
    NotNullViolation,
    RecordNotFound,
    UniqueViolation,
    integrity_errors,
)
from models import Comment, Role, User, user_roles
from tests.fast_query.support import Blog


@pytest.mark.parametrize(
    ("error", "parent"),
    [
        pytest.param(RecordNotFound, FastQueryError, id="not-found"),
        pytest.param(InvalidQuery, FastQueryError, id="invalid-query"),
        pytest.param(NoSessionBound, FastQueryError, id="no-session"),
        pytest.param(IntegrityViolation, FastQueryError, id="integrity"),
        pytest.param(UniqueViolation, IntegrityViolation, id="unique"),
        pytest.param(ForeignKeyViolation, IntegrityViolation, id="foreign-key"),
        pytest.param(NotNullViolation, IntegrityViolation, id="not-null"),
    ],
)
def test_error_tree(error: type[Exception], parent: type[Exception]) -> None:
    assert error.__mro__[1] is parent
    assert issubclass(error, FastQueryError)


def test_record_not_found() -> None:
    error = RecordNotFound("User", 42)
    assert (error.model, error.id, str(error)) == ("User", 42, "User 42 not found")
    assert str(RecordNotFound("Post", "abc")) == "Post 'abc' not found"


def test_integrity_violation_fields() -> None:
    error = UniqueViolation("boom", table="users", columns=["email"], constraint="uq_users_email")
    assert (str(error), error.table, error.columns, error.constraint) == (
        "boom",
        "users",
        ("email",),
        "uq_users_email",
    )
    bare = IntegrityViolation("bare")
    assert (bare.table, bare.columns, bare.constraint) == (None, (), None)


async def test_composite_unique_key(session: AsyncSession, blog: Blog, dialect: str) -> None:
    link = {"user_id": blog.users["Ada"], "role_id": blog.roles["admin"]}  # already linked
    with pytest.raises(UniqueViolation) as caught, integrity_errors():
        await session.execute(insert(user_roles).values(**link))
    assert isinstance(caught.value.__cause__, IntegrityError)
    assert (caught.value.table, caught.value.columns) == ("user_roles", ("user_id", "role_id"))
    constraint = {"sqlite": None, "postgresql": "pk_user_roles"}
    assert caught.value.constraint == constraint[dialect]
    assert str(caught.value) == "UniqueViolation on user_roles['user_id', 'role_id']"


async def test_not_null(session: AsyncSession, blog: Blog) -> None:
    with pytest.raises(NotNullViolation) as caught, integrity_errors():
        await session.execute(
            insert(Comment).values(post_id=blog.posts["SQL tricks"], user_id=blog.users["Ada"])
        )
    assert (caught.value.table, caught.value.columns) == ("comments", ("body",))
    assert str(caught.value) == "NotNullViolation on comments['body']"


async def test_foreign_key(session: AsyncSession, blog: Blog, dialect: str) -> None:
    with pytest.raises(ForeignKeyViolation) as caught, integrity_errors():
        await session.execute(insert(user_roles).values(user_id=blog.users["Ada"], role_id=10_000))
    message = {
        "sqlite": "ForeignKeyViolation on ?",
        "postgresql": "ForeignKeyViolation on user_roles['role_id']",
    }
    assert str(caught.value) == message[dialect]


async def test_unique_with_orm_insert(session: AsyncSession) -> None:
    session.add_all([Role(name="admin"), Role(name="admin")])
    with pytest.raises(UniqueViolation) as caught, integrity_errors():
        await session.flush()
    assert (caught.value.table, caught.value.columns) == ("roles", ("name",))


async def test_other_errors_pass_through(session: AsyncSession) -> None:
    with pytest.raises(DBAPIError, match="no_such_table") as caught, integrity_errors():
        await session.execute(text("SELECT * FROM no_such_table"))
    assert not isinstance(caught.value, FastQueryError)


def test_nothing_raised_nothing_changed() -> None:
    with integrity_errors():
        value = User(name="Ada", email="ada@example.com")
    assert value.name == "Ada"
