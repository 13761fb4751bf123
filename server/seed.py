"""Deterministic demo data: the same rows, timestamps included, for the same numbers and seed.

Rows are generated in Python from ``random.Random(seed)`` with explicit
primary keys and inserted in batched executemany statements, so the
result is identical on SQLite and PostgreSQL and 60,000 rows take seconds.

Every user gets the plan's password, hashed once: the same Argon2id hash for
all, its salt drawn from the seed too, so even the hashes are the same for
the same plan. User 1 is always a live admin, the one to log in as.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from fast_query import Base
from models import Comment, Post, Role, User, user_roles
from server.auth.passwords import default_passwords

ROLE_NAMES = ("admin", "editor", "author", "moderator", "reader")
ADMIN_ROLE_ID = 1  # "admin"
DEFAULT_PASSWORD = "password"
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
BATCH_SIZE = 2000

FIRST_NAMES = (
    "Ada", "Alan", "Barbara", "Claude", "Dennis", "Donald", "Edsger", "Frances", "Grace",
    "Guido", "Hedy", "Ivan", "John", "Ken", "Linus", "Margaret", "Niklaus", "Radia",
    "Shafi", "Sophie", "Tim", "Vint", "Whitfield", "Yukihiro", "Zhang", "Élodie", "Søren",
)  # fmt: skip
LAST_NAMES = (
    "Lovelace", "Turing", "Liskov", "Shannon", "Ritchie", "Knuth", "Dijkstra", "Allen",
    "Hopper", "van Rossum", "Lamarr", "Sutherland", "McCarthy", "Thompson", "Torvalds",
    "Hamilton", "Wirth", "Perlman", "Goldwasser", "Wilson", "Berners-Lee", "Cerf",
    "Diffie", "Matsumoto", "Wei", "Dupré", "Kierkegaard",
)  # fmt: skip
WORDS = (
    "async", "query", "schema", "cursor", "index", "latency", "graph", "node", "edge",
    "resolver", "batch", "loader", "commit", "rollback", "replica", "shard", "cache",
    "token", "filter", "order", "page", "window", "lateral", "join", "tuple", "vector",
    "stream", "buffer", "packet", "socket", "thread", "kernel", "signal", "pipeline",
    "the", "a", "of", "and", "to", "in", "with", "for", "on", "fast", "slow", "clean",
)  # fmt: skip


class DatabaseNotEmpty(Exception):
    """``seed`` refuses a database that already has users unless told to reset it."""


@dataclass(frozen=True, slots=True)
class SeedPlan:
    users: int = 50
    posts_per_user: int = 5
    comments_per_post: int = 3
    seed: int = 42
    #: Every seeded user's password (a demo password, yet kept out of ``repr``).
    password: str = field(default=DEFAULT_PASSWORD, repr=False)

    @property
    def salt(self) -> bytes:
        """The salt of the users' password hash: drawn from the seed, so seeding is repeatable."""
        return random.Random(f"password salt {self.seed}").randbytes(16)


@dataclass(frozen=True, slots=True)
class SeedCounts:
    roles: int
    users: int
    posts: int
    comments: int
    user_roles: int


Progress = Callable[[str, int, int], None]
"""Called as ``progress(table, rows_done, rows_total)`` after each batch."""


def _quiet(_table: str, _done: int, _total: int) -> None:
    return None


def _sentence(rng: random.Random, low: int, high: int) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(low, high))]
    return " ".join(words).capitalize() + "."


def _about(rng: random.Random, mean: int) -> int:
    """A count near ``mean`` (within half of it either way)."""
    spread = mean // 2
    return rng.randint(mean - spread, mean + spread)


def _moment(start: datetime, rng: random.Random, max_days: float) -> datetime:
    # Microseconds are kept on purpose: the API must round-trip them.
    return start + timedelta(microseconds=rng.randrange(int(max_days * 86_400_000_000)))


@dataclass(slots=True)
class _Rows:
    roles: list[dict[str, Any]]
    users: list[dict[str, Any]]
    user_roles: list[dict[str, Any]]
    posts: list[dict[str, Any]]
    comments: list[dict[str, Any]]


def generate(plan: SeedPlan, *, password_hash: str | None = None) -> _Rows:
    """Every row of the plan, in insertion order, as plain dictionaries.

    ``password_hash`` is the hash of ``plan.password`` with ``plan.salt``
    when the caller has made it already (``seed`` makes it off the event
    loop); without it, it is made here, which blocks for one hash.
    """
    if password_hash is None:
        password_hash = default_passwords().hash_blocking(plan.password, salt=plan.salt)
    rng = random.Random(plan.seed)
    roles = [
        {"id": index, "name": name, "created_at": EPOCH, "updated_at": EPOCH}
        for index, name in enumerate(ROLE_NAMES, start=1)
    ]
    users: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    for user_id in range(1, plan.users + 1):
        user, role_ids = _user(rng, user_id)
        users.append(user | {"password_hash": password_hash})
        links.extend({"user_id": user_id, "role_id": role_id} for role_id in role_ids)
    posts: list[dict[str, Any]] = []
    for user in users:
        for _ in range(_about(rng, plan.posts_per_user)):
            created = _moment(user["created_at"], rng, 200)
            updated = _moment(created, rng, 20)
            deleted = _moment(updated, rng, 5) if rng.random() < 0.03 else None
            posts.append(
                {
                    "id": len(posts) + 1,
                    "user_id": user["id"],
                    "title": _sentence(rng, 3, 8)[:200],
                    "body": "\n\n".join(_sentence(rng, 12, 40) for _ in range(rng.randint(1, 4))),
                    "published": rng.random() < 0.7,
                    "created_at": created,
                    "updated_at": deleted or updated,
                    "deleted_at": deleted,
                }
            )
    comments: list[dict[str, Any]] = []
    for post in posts:
        for _ in range(_about(rng, plan.comments_per_post)):
            created = _moment(post["created_at"], rng, 30)
            comments.append(
                {
                    "id": len(comments) + 1,
                    "post_id": post["id"],
                    "user_id": rng.randint(1, plan.users),
                    "body": _sentence(rng, 4, 25),
                    "created_at": created,
                    "updated_at": _moment(created, rng, 2),
                }
            )
    return _Rows(roles, users, links, posts, comments)


def _user(rng: random.Random, user_id: int) -> tuple[dict[str, Any], list[int]]:
    """The row of user ``user_id`` and its role ids (user 1: a live admin, always)."""
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    created = _moment(EPOCH, rng, 365)
    updated = _moment(created, rng, 30)
    deleted = _moment(updated, rng, 10) if rng.random() < 0.05 else None
    local = f"{first}.{last}".lower().replace(" ", "").replace("é", "e").replace("ø", "o")
    role_ids = sorted(rng.sample(range(1, len(ROLE_NAMES) + 1), rng.randint(1, 2)))
    if user_id == 1:
        # The random draws above are made all the same, so every other row stays as it was.
        deleted = None
        if ADMIN_ROLE_ID not in role_ids:
            role_ids = sorted([ADMIN_ROLE_ID, *role_ids[1:]])
    user = {
        "id": user_id,
        "name": f"{first} {last}",
        "email": f"{local}.{user_id}@example.com",
        "created_at": created,
        "updated_at": deleted or updated,
        "deleted_at": deleted,
    }
    return user, role_ids


def admin_email(plan: SeedPlan) -> str | None:
    """The email of a live admin among the plan's users (user 1), or ``None`` without users."""
    if plan.users < 1:
        return None
    user, _ = _user(random.Random(plan.seed), 1)
    return str(user["email"])


#: The tables ``seed`` fills, in insertion order, by the name of their rows in ``_Rows``.
SEEDED_TABLES: tuple[tuple[str, Table], ...] = (
    ("roles", cast(Table, Role.__table__)),
    ("users", cast(Table, User.__table__)),
    ("user_roles", user_roles),
    ("posts", cast(Table, Post.__table__)),
    ("comments", cast(Table, Comment.__table__)),
)
#: A table whose ``info`` says so keeps its rows on ``--reset``: they are the server's own
#: state, not data (``auth_keys``: every process of the database signs with its key).
KEEP_ON_RESET = "keep_on_reset"


def reset_tables() -> list[Table]:
    """Every model's table ``--reset`` empties, derived from the metadata, children first."""
    return [t for t in reversed(Base.metadata.sorted_tables) if not t.info.get(KEEP_ON_RESET)]


async def seed(
    engine: AsyncEngine, plan: SeedPlan, *, reset: bool = False, progress: Progress = _quiet
) -> SeedCounts:
    """Fill the database with the plan's rows in one transaction; with ``reset``, after
    emptying every model's table (``reset_tables``), one added since included.

    Raises:
        DatabaseNotEmpty: the database has users and ``reset`` is false.
        InvalidPassword: ``plan.password`` breaks the password rules.
    """
    password_hash = await default_passwords().hash(plan.password, salt=plan.salt)
    rows = generate(plan, password_hash=password_hash)
    async with engine.begin() as connection:
        has_users = await connection.scalar(select(func.count()).select_from(User.__table__))
        if has_users and not reset:
            raise DatabaseNotEmpty(f"the database already has {has_users} users")
        # Without users, only what seeding writes is cleared (roles may be there already).
        await _clear(connection, reset_tables() if reset else [t for _, t in SEEDED_TABLES][::-1])
        for name, table in SEEDED_TABLES:
            batch_rows: list[dict[str, Any]] = getattr(rows, name)
            done = 0
            progress(name, 0, len(batch_rows))
            for batch in _batches(batch_rows, BATCH_SIZE):
                await connection.execute(insert(table), batch)
                done += len(batch)
                progress(name, done, len(batch_rows))
        await _reset_sequences(connection)
    return SeedCounts(
        roles=len(rows.roles),
        users=len(rows.users),
        posts=len(rows.posts),
        comments=len(rows.comments),
        user_roles=len(rows.user_roles),
    )


def _batches(rows: Sequence[dict[str, Any]], size: int) -> Iterator[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


async def _clear(connection: AsyncConnection, tables: Sequence[Table]) -> None:
    """Empty ``tables`` (children first): on ``--reset``, every model's (``reset_tables``)."""
    if connection.dialect.name == "postgresql":
        names = ", ".join(connection.dialect.identifier_preparer.format_table(t) for t in tables)
        await connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        return
    for table in tables:
        await connection.execute(table.delete())


async def _reset_sequences(connection: AsyncConnection) -> None:
    """Explicit ids leave PostgreSQL's sequences behind; move them past the rows."""
    if connection.dialect.name != "postgresql":
        return
    for name, table in SEEDED_TABLES:
        if "id" not in table.c:
            continue
        await connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                f"COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {name}"
            )
        )
