"""``create_user``, which ``ftf create-user`` runs (its command line: test_cli)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncEngine

from fast_query import create_session_factory
from models import Role, User, user_roles
from repositories import UserRepository
from server.auth.accounts import AccountError, CreatedUser, create_user
from server.auth.passwords import Passwords
from tests.server.test_seed import read_rows

SECRET = "correct horse battery staple"


async def add_roles(engine: AsyncEngine, *names: str) -> None:
    now = datetime.now(UTC)
    async with engine.begin() as connection:
        await connection.execute(
            insert(Role.__table__),  # type: ignore[arg-type]
            [{"name": name, "created_at": now, "updated_at": now} for name in names],
        )


async def add_user(engine: AsyncEngine, email: str, *, deleted: bool = False) -> None:
    now = datetime.now(UTC)
    async with engine.begin() as connection:
        await connection.execute(
            insert(User.__table__),  # type: ignore[arg-type]
            {
                "name": "Someone",
                "email": email,
                "created_at": now,
                "updated_at": now,
                "deleted_at": now if deleted else None,
            },
        )


async def stored_user(engine: AsyncEngine, user_id: int) -> dict[str, Any]:
    async with engine.connect() as connection:
        row = (await connection.execute(select(User.__table__).where(User.id == user_id))).one()
        roles = await connection.scalars(
            select(Role.name)
            .join(user_roles, user_roles.c.role_id == Role.id)
            .where(user_roles.c.user_id == user_id)
            .order_by(Role.name)
        )
        return {**row._asdict(), "roles": list(roles)}


async def test_create_user_stores_the_hash_and_the_roles(
    committed_engine: AsyncEngine, cheap: Passwords
) -> None:
    await add_roles(committed_engine, "admin", "editor", "reader")

    created = await create_user(
        committed_engine,
        name="  Ada Lovelace ",
        email=" Ada@Example.COM ",
        password=SECRET,
        roles=["admin", " editor", "admin"],
        passwords=cheap,
    )

    expected = CreatedUser(created.id, "Ada Lovelace", "ada@example.com", ("admin", "editor"))
    assert created == expected
    user = await stored_user(committed_engine, created.id)
    assert (user["name"], user["email"], user["deleted_at"]) == (
        "Ada Lovelace",
        "ada@example.com",
        None,
    )
    assert user["roles"] == ["admin", "editor"]
    assert user["password_hash"].startswith("$argon2id$")
    assert await cheap.verify(SECRET, user["password_hash"])
    assert SECRET not in repr(await read_rows(committed_engine))


async def test_a_user_without_roles(committed_engine: AsyncEngine, cheap: Passwords) -> None:
    created = await create_user(
        committed_engine, name="Bo", email="bo@example.com", password=SECRET, passwords=cheap
    )
    assert created.roles == ()
    assert (await stored_user(committed_engine, created.id))["roles"] == []


async def test_the_password_column_is_not_loaded_with_users(
    committed_engine: AsyncEngine, cheap: Passwords
) -> None:
    """Reads of users leave the hash out; asking for it on such a row is an error, not a query."""
    created = await create_user(
        committed_engine, name="Cy", email="cy@example.com", password=SECRET, passwords=cheap
    )
    async with create_session_factory(committed_engine)() as session:
        user = await UserRepository(session).find_or_fail(created.id)
        with pytest.raises(InvalidRequestError, match="password_hash"):
            _ = user.password_hash


@pytest.mark.parametrize(
    ("inputs", "problems"),
    [
        pytest.param(
            {"name": "  ", "email": "nobody", "password": "short", "roles": ["admin", " "]},
            {
                "--name": "must not be blank",
                "--email": "must be a valid email address",
                "--role": "must not be blank",
                "password": "must be 8 to 128 characters",
            },
            id="every-rule",
        ),
        pytest.param(
            {"name": "x" * 101, "email": f"{'a' * 250}@b.co", "password": " " * 12},
            {
                "--name": "must be 1 to 100 characters",
                "--email": "must be at most 254 characters",
                "password": "must not be blank",
            },
            id="lengths",
        ),
        pytest.param(
            {"name": "Nul\x00", "email": "ok@example.com", "password": "x" * 129},
            {
                "--name": "must not contain the NUL character",
                "password": "must be 8 to 128 characters",
            },
            id="nul-and-long",
        ),
    ],
)
async def test_invalid_inputs_are_all_reported_and_nothing_is_written(
    committed_engine: AsyncEngine,
    cheap: Passwords,
    inputs: dict[str, Any],
    problems: dict[str, str],
) -> None:
    await add_roles(committed_engine, "admin")
    before = await read_rows(committed_engine)

    with pytest.raises(AccountError) as excinfo:
        await create_user(committed_engine, passwords=cheap, **inputs)

    assert excinfo.value.problems == problems
    assert inputs["password"] not in str(excinfo.value)
    assert await read_rows(committed_engine) == before


async def test_a_taken_email_and_missing_roles_write_nothing(
    committed_engine: AsyncEngine, cheap: Passwords
) -> None:
    await add_roles(committed_engine, "admin")
    await add_user(committed_engine, "gone@example.com", deleted=True)
    before = await read_rows(committed_engine)

    with pytest.raises(AccountError) as excinfo:
        await create_user(
            committed_engine,
            name="Again",
            email="GONE@example.com",
            password=SECRET,
            roles=["admin", "wizard", "ghost"],
            passwords=cheap,
        )

    assert excinfo.value.problems == {
        "--role": "no roles named 'wizard', 'ghost'",
        "--email": "already taken",  # by a soft-deleted user too: the column is unique
    }
    assert await read_rows(committed_engine) == before


async def test_an_email_taken_after_the_check_writes_nothing(
    committed_engine: AsyncEngine, cheap: Passwords, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race: the insert itself finds the email taken; the role links are not written."""
    await add_roles(committed_engine, "admin")
    await add_user(committed_engine, "ada@example.com")
    before = await read_rows(committed_engine)

    async def not_found(self: UserRepository, email: str) -> None:
        return None

    monkeypatch.setattr(UserRepository, "find_by_email", not_found)
    with pytest.raises(AccountError) as excinfo:
        await create_user(
            committed_engine,
            name="Ada",
            email="ada@example.com",
            password=SECRET,
            roles=["admin"],
            passwords=cheap,
        )

    assert excinfo.value.problems == {"--email": "already taken"}
    assert await read_rows(committed_engine) == before
