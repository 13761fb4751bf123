"""The standard data set on each database: create, migrate, seed (once), clean, and pick rows.

PostgreSQL gets the database ``ftf_bench`` (created if missing; no other
database is touched) and SQLite the file ``bench/.data/bench.sqlite3``. Both
are filled by ``ftf migrate`` and ``ftf seed --users 1000 --posts-per-user 10
--comments-per-post 5 --reset``. A marker in ``bench/.data`` remembers the
plan a database holds, so a rerun skips seeding while the plan, the seeding
code, the migrations and the row counts all still match. The comments W4
wrote in earlier runs are deleted before each run, so every run reads the
same rows. ``clone`` copies the data set to another database, for a run
that writes (the soak test) without touching these rows.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import asyncpg

from bench.workloads import Params

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / ".data"
SQLITE_FILE = DATA / "bench.sqlite3"
PG_DATABASE = "ftf_bench"
SEED_ARGS = ("--users", "1000", "--posts-per-user", "10", "--comments-per-post", "5")
#: Every seeded user's password: ``ftf seed``'s default ``--password``.
SEED_PASSWORD = "password"
MIGRATE_TIMEOUT = 120.0
SEED_TIMEOUT = 600.0
SQL_TIMEOUT = 120.0

Kind = Literal["postgresql", "sqlite"]
Log = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Target:
    """One database of the benchmark, as each side addresses it."""

    kind: Kind
    server_url: str
    """``DATABASE_URL`` for our server (SQLAlchemy URL)."""
    floor_url: str
    """``FLOOR_DATABASE`` for the floor (a ``postgresql://`` DSN or ``sqlite:///file``)."""

    @property
    def marker(self) -> Path:
        return DATA / f"{self.kind}.seeded.json"

    @property
    def database(self) -> str:
        """PostgreSQL: the database's name."""
        return self.floor_url.rsplit("/", 1)[1]

    @property
    def maintenance_dsn(self) -> str:
        """PostgreSQL: the server's ``postgres`` database, to create or drop this one from."""
        return self.floor_url.rsplit("/", 1)[0] + "/postgres"


def target(
    kind: Kind,
    postgres_server: str,
    *,
    database: str = PG_DATABASE,
    sqlite_file: Path = SQLITE_FILE,
) -> Target:
    """The target of one kind: ``database`` on ``postgres_server``, or ``sqlite_file``."""
    base = postgres_server.rstrip("/")
    host = urlsplit(base).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"the benchmark talks to 127.0.0.1 only, not {host!r}")
    if kind == "postgresql":
        return Target(
            kind,
            base.replace("postgresql://", "postgresql+asyncpg://", 1) + f"/{database}",
            f"{base}/{database}",
        )
    return Target(kind, f"sqlite+aiosqlite:///{sqlite_file}", f"sqlite:///{sqlite_file}")


def targets(kinds: list[Kind], postgres_server: str) -> list[Target]:
    """The standard targets for ``kinds``; ``postgres_server`` is ``postgresql://user@host:port``."""
    return [target(kind, postgres_server) for kind in kinds]


def ftf_command() -> list[str]:
    """The ``ftf`` console script of this interpreter's environment (else ``python -m server``)."""
    script = Path(sys.executable).parent / "ftf"
    return [str(script)] if script.exists() else [sys.executable, "-m", "server"]


def _ftf(target: Target, args: list[str], timeout: float) -> None:
    env = {**os.environ, "DATABASE_URL": target.server_url}
    # The table goes to stdout: the tool's chatter goes to stderr with ours.
    subprocess.run(
        [*ftf_command(), *args],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=timeout,
        stdout=sys.stderr,
        stdin=subprocess.DEVNULL,
    )


# -- talking SQL to either database ------------------------------------------


async def _pg_query(dsn: str, sql: str, rows: bool) -> list[Any]:
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        if rows:
            return list(await connection.fetch(sql, timeout=SQL_TIMEOUT))
        # The simple protocol: VACUUM refuses to run as a prepared statement.
        await connection.execute(sql, timeout=SQL_TIMEOUT)
        return []
    finally:
        await asyncio.wait_for(connection.close(), timeout=10)


def sqlite_path(target: Target) -> Path:
    """The file of a SQLite target (``sqlite:///file``)."""
    return Path(target.floor_url.removeprefix("sqlite:///"))


def query(target: Target, sql: str, *, rows: bool = True) -> list[Any]:
    """The rows of one statement without parameters, in autocommit mode."""
    if target.kind == "postgresql":
        return asyncio.run(_pg_query(target.floor_url, sql, rows))
    connection = sqlite3.connect(sqlite_path(target), timeout=30, isolation_level=None)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def _ensure_database(target: Target) -> None:
    if target.kind == "sqlite":
        DATA.mkdir(parents=True, exist_ok=True)
        return
    asyncio.run(_create_database(target, fresh=False))


async def _create_database(target: Target, *, fresh: bool) -> None:
    """Create ``target``'s PostgreSQL database if missing; ``fresh``: drop it first."""
    connection = await asyncpg.connect(target.maintenance_dsn, timeout=10)
    try:
        if fresh:
            await connection.execute(
                f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)', timeout=60
            )
        exists = await connection.fetchval(
            "SELECT 1 FROM pg_database WHERE datname = $1", target.database
        )
        if not exists:
            await connection.execute(f'CREATE DATABASE "{target.database}"', timeout=60)
    finally:
        await asyncio.wait_for(connection.close(), timeout=10)


# -- the marker -----------------------------------------------------------------


def _plan() -> dict[str, Any]:
    seed_code = (ROOT / "server" / "seed.py").read_bytes()
    return {"args": list(SEED_ARGS), "seed_py_sha256": hashlib.sha256(seed_code).hexdigest()}


def _state(target: Target) -> dict[str, Any]:
    """What the database holds now: its migration, its identity and its row counts."""
    revision = query(target, "SELECT version_num FROM alembic_version")
    (users, posts, comments, max_comment), *_ = query(
        target,
        "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM posts), "
        "(SELECT count(*) FROM comments), (SELECT coalesce(max(id), 0) FROM comments)",
    )
    identity: Any = str(SQLITE_FILE)
    if target.kind == "postgresql":
        identity = query(
            target, "SELECT oid::int8 FROM pg_database WHERE datname = current_database()"
        )[0][0]
    return {
        "revision": [row[0] for row in revision],
        "identity": identity,
        "users": users,
        "posts": posts,
        "comments": comments,
        "max_comment_id": max_comment,
    }


def _marker_matches(target: Target, state: dict[str, Any]) -> bool:
    try:
        marker = json.loads(target.marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    seeded = marker.get("state", {})
    return bool(
        marker.get("plan") == _plan()
        and seeded.get("revision") == state["revision"]
        and seeded.get("identity") == state["identity"]
        and seeded.get("users") == state["users"]
        and seeded.get("posts") == state["posts"]
        # W4's comments come after the seeded ones: they are deleted below.
        and state["max_comment_id"] >= seeded.get("max_comment_id", -1)
        and state["comments"] >= seeded.get("comments", -1)
    )


def migrate(target: Target) -> None:
    """``ftf migrate`` on ``target``."""
    _ftf(target, ["migrate"], MIGRATE_TIMEOUT)


def prepare(target: Target, log: Log) -> Params:
    """Make ``target`` hold the standard data set (seeding only when needed); pick the rows."""
    _ensure_database(target)
    log(f"{target.kind}: ftf migrate")
    migrate(target)
    state = _state(target)
    if _marker_matches(target, state):
        seeded = json.loads(target.marker.read_text(encoding="utf-8"))["state"]
        extra = state["comments"] - seeded["comments"]
        log(f"{target.kind}: the standard data set is loaded; deleting {extra} comment(s) of W4")
        if extra:
            _delete_benchmark_comments(target, seeded["max_comment_id"])
    else:
        log(f"{target.kind}: ftf seed {' '.join(SEED_ARGS)} --reset")
        target.marker.unlink(missing_ok=True)
        _ftf(target, ["seed", *SEED_ARGS, "--reset"], SEED_TIMEOUT)
        _analyze(target)
        state = _state(target)
        DATA.mkdir(parents=True, exist_ok=True)
        target.marker.write_text(
            json.dumps({"plan": _plan(), "state": state}, indent=2) + "\n", encoding="utf-8"
        )
    return pick_params(target)


def _delete_benchmark_comments(target: Target, max_seeded_id: int) -> None:
    query(target, f"DELETE FROM comments WHERE id > {int(max_seeded_id)}", rows=False)
    _analyze(target)


def _analyze(target: Target) -> None:
    if target.kind == "postgresql":
        query(target, "VACUUM ANALYZE", rows=False)
    else:
        query(target, "ANALYZE", rows=False)


def pick_params(target: Target) -> Params:
    """The rows the workloads name; the same ids on both databases (the seed is deterministic)."""
    live_posts = "SELECT id FROM posts WHERE deleted_at IS NULL ORDER BY id"
    user = query(
        target, "SELECT id FROM users WHERE deleted_at IS NULL AND id >= 500 ORDER BY id LIMIT 1"
    )
    deep = query(target, f"{live_posts} LIMIT 1 OFFSET 8999")
    last = query(target, "SELECT id FROM posts WHERE deleted_at IS NULL ORDER BY id DESC LIMIT 1")
    admin = query(
        target,
        "SELECT u.id, u.email FROM users AS u JOIN user_roles AS ur ON ur.user_id = u.id "
        "JOIN roles AS r ON r.id = ur.role_id "
        "WHERE r.name = 'admin' AND u.deleted_at IS NULL ORDER BY u.id LIMIT 1",
    )
    if not (user and deep and last):
        raise RuntimeError(f"{target.kind}: the data set is smaller than the standard one")
    if not admin:
        raise RuntimeError(f"{target.kind}: the data set has no live admin to sign in as")
    params = Params(
        user_id=user[0][0],
        comment_post_id=last[0][0],
        comment_author_id=user[0][0],
        after_post_id=deep[0][0],
        admin_id=admin[0][0],
        admin_email=admin[0][1],
    )
    return params


# -- a copy for a run that writes -------------------------------------------------

#: The tables of the data set, parents first, and those with a serial ``id``.
COPIED_TABLES = ("roles", "users", "user_roles", "posts", "comments")
SERIAL_TABLES = ("roles", "users", "posts", "comments")


def clone(source: Target, copy: Target) -> None:
    """Make ``copy`` (same kind) a fresh copy of ``source``'s data set, replacing what it held.

    The copy is made while others may be using ``source``: SQLite's online
    backup, or on PostgreSQL ``ftf migrate`` on a new database and a binary
    ``COPY`` of every table from one snapshot (``CREATE DATABASE ...
    TEMPLATE`` would need ``source`` to have no sessions).
    """
    if source.kind == "sqlite":
        copy_file = sqlite_path(copy)
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{copy_file}{suffix}").unlink(missing_ok=True)
        reader = sqlite3.connect(sqlite_path(source), timeout=30)
        try:
            writer = sqlite3.connect(copy_file)
            try:
                reader.backup(writer)
            finally:
                writer.close()
        finally:
            reader.close()
        return
    asyncio.run(_create_database(copy, fresh=True))
    migrate(copy)
    asyncio.run(_copy_postgres(source.floor_url, copy.floor_url))


async def _copy_postgres(source_dsn: str, copy_dsn: str) -> None:
    source = await asyncpg.connect(source_dsn, timeout=10)
    try:
        copy = await asyncpg.connect(copy_dsn, timeout=10)
        try:
            async with source.transaction(isolation="repeatable_read", readonly=True):
                for table in COPIED_TABLES:
                    buffer = io.BytesIO()
                    await source.copy_from_table(
                        table, output=buffer, format="binary", timeout=SQL_TIMEOUT
                    )
                    buffer.seek(0)
                    await copy.copy_to_table(
                        table, source=buffer, format="binary", timeout=SQL_TIMEOUT
                    )
            for table in SERIAL_TABLES:
                await copy.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}",
                    timeout=SQL_TIMEOUT,
                )
            await copy.execute("ANALYZE", timeout=SQL_TIMEOUT)
        finally:
            await asyncio.wait_for(copy.close(), timeout=10)
    finally:
        await asyncio.wait_for(source.close(), timeout=10)


def describe(params: Params) -> str:
    return ", ".join(f"{name}={value}" for name, value in asdict(params).items())


def server_version(target: Target) -> str:
    if target.kind == "postgresql":
        return str(query(target, "SHOW server_version")[0][0]).split(" ")[0]
    return str(query(target, "SELECT sqlite_version()")[0][0])
