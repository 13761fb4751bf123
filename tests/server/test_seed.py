"""Deterministic demo data: ``server.seed.seed`` and ``ftf seed``, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from fast_query import Base, create_engine, create_session_factory
from migrations import alembic_config
from models import Role, User, auth_keys, auth_login_failures, auth_sessions, user_roles
from repositories import CommentRepository, PostRepository, RoleRepository, UserRepository
from server.auth.keys import stored_secret
from server.auth.passwords import InvalidPassword, Passwords, verify_password
from server.seed import (
    ADMIN_ROLE_ID,
    BATCH_SIZE,
    SEEDED_TABLES,
    DatabaseNotEmpty,
    SeedCounts,
    SeedPlan,
    admin_email,
    generate,
    reset_tables,
    seed,
)
from tests.conftest import Ftf, in_thread

TABLES: dict[str, Table] = dict(SEEDED_TABLES)
ROLES = ["admin", "editor", "author", "moderator", "reader"]

Rows = dict[str, list[tuple[Any, ...]]]


async def read_rows(engine: AsyncEngine) -> Rows:
    """Every row of every table, all columns, ordered by primary key."""
    rows: Rows = {}
    async with engine.connect() as connection:
        for name, table in TABLES.items():
            result = await connection.execute(select(table).order_by(*table.primary_key.columns))
            rows[name] = [tuple(row) for row in result]
    return rows


def generated_rows(plan: SeedPlan) -> Rows:
    """What ``seed`` should write for ``plan``, in the shape of ``read_rows``."""
    generated = generate(plan)
    return {
        name: [
            tuple(row[column.name] for column in table.columns) for row in getattr(generated, name)
        ]
        for name, table in TABLES.items()
    }


async def count(engine: AsyncEngine, table: Table) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(table)) or 0)


async def test_seed_makes_the_planned_rows(committed_engine: AsyncEngine) -> None:
    plan = SeedPlan(users=400, posts_per_user=5, comments_per_post=3, seed=42)

    counts = await seed(committed_engine, plan)

    rows = await read_rows(committed_engine)
    assert counts == SeedCounts(
        roles=5,
        users=400,
        posts=len(rows["posts"]),
        comments=len(rows["comments"]),
        user_roles=len(rows["user_roles"]),
    )
    assert [role[1] for role in rows["roles"]] == ROLES
    users = [dict(zip(TABLES["users"].columns.keys(), row, strict=True)) for row in rows["users"]]
    posts = [dict(zip(TABLES["posts"].columns.keys(), row, strict=True)) for row in rows["posts"]]
    assert [user["id"] for user in users] == list(range(1, 401))
    assert 0.02 * 400 <= sum(user["deleted_at"] is not None for user in users) <= 0.09 * 400
    assert 0.01 * len(posts) <= sum(post["deleted_at"] is not None for post in posts)
    assert sum(post["deleted_at"] is not None for post in posts) <= 0.06 * len(posts)
    assert 4.5 <= len(posts) / 400 <= 5.5
    assert 2.7 <= len(rows["comments"]) / len(posts) <= 3.3
    assert len({user["email"] for user in users}) == 400
    assert all(user["email"] == user["email"].lower() for user in users)
    roles_per_user: dict[int, int] = {}
    for user_id, _role_id in rows["user_roles"]:
        roles_per_user[user_id] = roles_per_user.get(user_id, 0) + 1
    assert set(roles_per_user) == set(range(1, 401))
    assert set(roles_per_user.values()) == {1, 2}
    for row in [*users, *posts]:
        assert row["created_at"].tzinfo is UTC
        assert row["created_at"] <= row["updated_at"]
        if row["deleted_at"] is not None:
            assert row["updated_at"] == row["deleted_at"]


async def test_seed_writes_exactly_the_generated_rows(committed_engine: AsyncEngine) -> None:
    plan = SeedPlan(users=30, posts_per_user=4, comments_per_post=2, seed=7)

    await seed(committed_engine, plan)

    assert await read_rows(committed_engine) == generated_rows(plan)


async def test_the_same_plan_gives_identical_rows_twice(committed_engine: AsyncEngine) -> None:
    plan = SeedPlan(users=40, seed=3)
    await seed(committed_engine, plan)
    first = await read_rows(committed_engine)

    await seed(committed_engine, plan, reset=True)

    assert await read_rows(committed_engine) == first
    assert len(first["users"]) == 40


async def test_sqlite_and_postgresql_get_identical_rows(
    new_database: Callable[[str], str],
) -> None:
    plan = SeedPlan(users=60, posts_per_user=5, comments_per_post=3, seed=11)
    rows: dict[str, Rows] = {}
    for backend in ("sqlite", "postgresql"):
        url = new_database(backend)
        in_thread(command.upgrade, alembic_config(url), "head")
        engine = create_engine(url)
        try:
            await seed(engine, plan)
            rows[backend] = await read_rows(engine)
        finally:
            await engine.dispose()

    assert rows["sqlite"] == rows["postgresql"]
    assert len(rows["sqlite"]["users"]) == 60


async def test_a_different_seed_gives_different_rows(committed_engine: AsyncEngine) -> None:
    await seed(committed_engine, SeedPlan(users=20, seed=1))
    first = await read_rows(committed_engine)

    await seed(committed_engine, SeedPlan(users=20, seed=2), reset=True)

    second = await read_rows(committed_engine)
    assert second["roles"] == first["roles"]
    assert len(second["users"]) == len(first["users"]) == 20
    assert second["users"] != first["users"]
    assert second["posts"] != first["posts"]


async def test_seed_refuses_a_database_that_has_users(committed_engine: AsyncEngine) -> None:
    await seed(committed_engine, SeedPlan(users=10, seed=1))
    before = await read_rows(committed_engine)

    with pytest.raises(DatabaseNotEmpty) as excinfo:
        await seed(committed_engine, SeedPlan(users=20, seed=2))

    assert str(excinfo.value) == "the database already has 10 users"
    assert await read_rows(committed_engine) == before


async def test_seed_with_reset_replaces_the_rows(committed_engine: AsyncEngine) -> None:
    await seed(committed_engine, SeedPlan(users=10, seed=1))
    plan = SeedPlan(users=20, posts_per_user=2, comments_per_post=1, seed=2)

    counts = await seed(committed_engine, plan, reset=True)

    assert counts.users == 20
    assert await read_rows(committed_engine) == generated_rows(plan)


async def test_reset_empties_every_models_table_but_keeps_the_signing_key(
    committed_engine: AsyncEngine,
) -> None:
    await seed(committed_engine, SeedPlan(users=3, seed=1))
    now = datetime.now(UTC)
    async with committed_engine.begin() as connection:
        await stored_secret(connection)
        await connection.execute(insert(auth_sessions).values(user_id=1, created_at=now))
        await connection.execute(
            insert(auth_login_failures).values(email_hash="0" * 64, failed_at=now)
        )
        key = await connection.scalar(select(auth_keys.c.secret))

    await seed(committed_engine, SeedPlan(users=2, seed=2), reset=True)

    assert {table.name for table in reset_tables()} == (
        {table.name for table in Base.metadata.tables.values()}
        - {"auth_keys", "persisted_documents"}
    )
    assert await count(committed_engine, auth_sessions) == 0
    assert await count(committed_engine, auth_login_failures) == 0
    async with committed_engine.connect() as connection:
        assert await connection.scalar(select(auth_keys.c.secret)) == key
    assert await read_rows(committed_engine) == generated_rows(SeedPlan(users=2, seed=2))


async def test_rows_inserted_after_seeding_get_new_ids(committed_engine: AsyncEngine) -> None:
    """On PostgreSQL the sequences were moved past the seeded ids."""
    counts = await seed(committed_engine, SeedPlan(users=10, posts_per_user=2, seed=5))

    async with create_session_factory(committed_engine)() as session:
        user = await UserRepository(session).create(name="New", email="new@example.com")
        role = await RoleRepository(session).create(name="guest")
        post = await PostRepository(session).create(user_id=user.id, title="New", body="Body")
        comment = await CommentRepository(session).create(
            post_id=post.id, user_id=user.id, body="Hi"
        )
        await session.commit()

    assert (user.id, role.id, post.id, comment.id) == (
        counts.users + 1,
        counts.roles + 1,
        counts.posts + 1,
        counts.comments + 1,
    )


async def test_progress_is_reported_per_table_ending_at_the_total(
    committed_engine: AsyncEngine,
) -> None:
    calls: list[tuple[str, int, int]] = []

    def progress(table: str, done: int, total: int) -> None:
        calls.append((table, done, total))

    counts = await seed(
        committed_engine,
        SeedPlan(users=200, posts_per_user=5, comments_per_post=3),
        progress=progress,
    )

    assert counts.comments > BATCH_SIZE  # more than one batch
    totals = {
        "roles": counts.roles,
        "users": counts.users,
        "user_roles": counts.user_roles,
        "posts": counts.posts,
        "comments": counts.comments,
    }
    assert list(dict.fromkeys(table for table, _, _ in calls)) == list(TABLES)
    for table, total in totals.items():
        done = [step for name, step, _ in calls if name == table]
        expected = [*range(0, total, BATCH_SIZE), total]
        assert done == expected, table
        assert {seen for name, _, seen in calls if name == table} == {total}


async def test_an_empty_plan_reports_empty_tables(committed_engine: AsyncEngine) -> None:
    calls: list[tuple[str, int, int]] = []

    counts = await seed(
        committed_engine,
        SeedPlan(users=0),
        progress=lambda table, done, total: calls.append((table, done, total)),
    )

    assert counts == SeedCounts(roles=5, users=0, posts=0, comments=0, user_roles=0)
    assert calls == [
        ("roles", 0, 5),
        ("roles", 5, 5),
        ("users", 0, 0),
        ("user_roles", 0, 0),
        ("posts", 0, 0),
        ("comments", 0, 0),
    ]


# -- ftf seed ------------------------------------------------------------------------


async def test_ftf_seed_refuses_a_database_with_users_unless_reset(
    migrated_database_url: str, ftf: Ftf
) -> None:
    url = migrated_database_url

    first = ftf("seed", "--if-empty", database_url=url)  # empty: seeds the defaults
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines()[-1].startswith("seeded 50 users, ")

    refused = ftf("seed", "--users", "5", database_url=url)
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "error: the database already has 50 users; pass --reset to replace them"
    )

    skipped = ftf("seed", "--users", "5", "--if-empty", database_url=url)
    assert skipped.returncode == 0, skipped.stderr
    assert "the database already has users; not seeding" in skipped.stdout

    engine = create_engine(url)
    try:
        assert await read_rows(engine) == generated_rows(SeedPlan())

        reset = ftf(
            "seed", "--users", "7", "--posts-per-user", "2", "--seed", "9", "--reset",
            database_url=url,
        )  # fmt: skip
        assert reset.returncode == 0, reset.stderr
        expected = generated_rows(SeedPlan(users=7, posts_per_user=2, seed=9))
        assert await read_rows(engine) == expected
    finally:
        await engine.dispose()


async def test_ftf_seed_makes_a_thousand_users(migrated_database_url: str, ftf: Ftf) -> None:
    result = ftf(
        "seed", "--users", "1000", "--posts-per-user", "10", "--comments-per-post", "5",
        database_url=migrated_database_url,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr

    generated = generate(SeedPlan(users=1000, posts_per_user=10, comments_per_post=5))
    assert result.stdout.splitlines()[-1] == (
        f"seeded 1000 users, {len(generated.posts)} posts, "
        f"{len(generated.comments)} comments, 5 roles"
    )
    engine = create_engine(migrated_database_url)
    try:
        assert await count(engine, TABLES["users"]) == 1000
        assert await count(engine, TABLES["posts"]) == len(generated.posts)
        assert await count(engine, TABLES["comments"]) == len(generated.comments)
        assert await count(engine, TABLES["user_roles"]) == len(generated.user_roles)
    finally:
        await engine.dispose()


# -- passwords ------------------------------------------------------------------------


async def test_seed_hashes_the_password_once_for_every_user(
    committed_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashed: list[str] = []
    real_hash_now = Passwords._hash_now

    def counted(self: Passwords, password: str, salt: bytes | None) -> str:
        hashed.append(password)
        return real_hash_now(self, password, salt)

    monkeypatch.setattr(Passwords, "_hash_now", counted)

    await seed(committed_engine, SeedPlan(users=30, seed=4))

    assert hashed == ["password"]
    rows = await read_rows(committed_engine)
    hashes = {row[TABLES["users"].columns.keys().index("password_hash")] for row in rows["users"]}
    [stored] = hashes
    assert stored.startswith("$argon2id$")
    assert await verify_password("password", stored)


async def test_seed_refuses_a_password_that_breaks_the_rules(
    committed_engine: AsyncEngine,
) -> None:
    with pytest.raises(InvalidPassword, match="must be 8 to 128 characters"):
        await seed(committed_engine, SeedPlan(users=3, password="short"))
    assert await count(committed_engine, TABLES["users"]) == 0


def test_user_one_is_a_live_admin_whatever_the_seed() -> None:
    for number in range(40):
        plan = SeedPlan(users=3, seed=number)
        rows = generate(plan, password_hash="not hashed here")
        first = rows.users[0]
        assert first["deleted_at"] is None
        assert {"user_id": 1, "role_id": ADMIN_ROLE_ID} in rows.user_roles
        assert sum(link["user_id"] == 1 for link in rows.user_roles) in (1, 2)
        assert admin_email(plan) == first["email"]
    assert admin_email(SeedPlan(users=0)) is None


def test_the_password_stays_out_of_the_plan_repr() -> None:
    assert "hunter22hunter22" not in repr(SeedPlan(password="hunter22hunter22"))


async def test_ftf_seed_gives_every_user_the_password_and_names_an_admin(
    migrated_database_url: str, ftf: Ftf
) -> None:
    password = "demo pass phrase"

    url = migrated_database_url
    result = ftf("seed", "--users", "12", "--password", password, database_url=url)

    assert result.returncode == 0, result.stderr
    assert password not in result.stdout + result.stderr
    plan = SeedPlan(users=12, password=password)
    email = admin_email(plan)
    assert result.stdout.splitlines()[-2] == (
        f"admin to log in as: {email} (password: the value of --password)"
    )
    engine = create_engine(url)
    try:
        rows = await read_rows(engine)
        async with engine.connect() as connection:
            admins = await connection.scalars(
                select(User.email)
                .join(user_roles, user_roles.c.user_id == User.id)
                .join(Role, Role.id == user_roles.c.role_id)
                .where(Role.name == "admin", User.deleted_at.is_(None))
            )
            assert email in set(admins)
            hashes = set(await connection.scalars(select(User.password_hash)))
    finally:
        await engine.dispose()
    assert rows == generated_rows(plan)  # the hash too: its salt comes from the seed
    [stored] = hashes
    assert await verify_password(password, stored)
    assert not await verify_password("password", stored)
    assert password not in repr(rows)


async def test_ftf_seed_refuses_a_password_that_breaks_the_rules(
    migrated_database_url: str, ftf: Ftf
) -> None:
    result = ftf("seed", "--password", "seven77", database_url=migrated_database_url)

    assert result.returncode == 1
    assert result.stderr == "error: --password: must be 8 to 128 characters\n"
    assert "seven77" not in result.stdout
    engine = create_engine(migrated_database_url)
    try:
        assert await count(engine, TABLES["users"]) == 0
    finally:
        await engine.dispose()
