"""The standard data set on each database: create, migrate, seed (once), clean, and pick rows.

PostgreSQL gets the database ``ftf_bench`` (created if missing; no other
database is touched) and SQLite the file ``bench/.data/bench.sqlite3``. Both
are filled by ``ftf migrate`` and ``ftf seed --users 1000 --posts-per-user 10
--comments-per-post 5 --reset``. A marker in ``bench/.data`` remembers the
plan a database holds, so a rerun skips seeding while the plan, the seeding
code, the migrations and the row counts all still match. The comments W4
wrote in earlier runs are deleted before each run, so every run reads the
same rows.
"""

from __future__ import annotations

import asyncio
import hashlib
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


def targets(kinds: list[Kind], postgres_server: str) -> list[Target]:
    """The targets for ``kinds``; ``postgres_server`` is ``postgresql://user@host:port``."""
    base = postgres_server.rstrip("/")
    host = urlsplit(base).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"the benchmark talks to 127.0.0.1 only, not {host!r}")
    made: list[Target] = []
    for kind in kinds:
        if kind == "postgresql":
            made.append(
                Target(
                    kind,
                    base.replace("postgresql://", "postgresql+asyncpg://", 1) + f"/{PG_DATABASE}",
                    f"{base}/{PG_DATABASE}",
                )
            )
        else:
            made.append(
                Target(kind, f"sqlite+aiosqlite:///{SQLITE_FILE}", f"sqlite:///{SQLITE_FILE}")
            )
    return made


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
    maintenance = target.floor_url.rsplit("/", 1)[0] + "/postgres"

    async def create() -> None:
        connection = await asyncpg.connect(maintenance, timeout=10)
        try:
            exists = await connection.fetchval(
                "SELECT 1 FROM pg_database WHERE datname = $1", PG_DATABASE
            )
            if not exists:
                await connection.execute(f'CREATE DATABASE "{PG_DATABASE}"')
        finally:
            await asyncio.wait_for(connection.close(), timeout=10)

    asyncio.run(create())


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
    if not (user and deep and last):
        raise RuntimeError(f"{target.kind}: the data set is smaller than the standard one")
    params = Params(
        user_id=user[0][0],
        comment_post_id=last[0][0],
        comment_author_id=user[0][0],
        after_post_id=deep[0][0],
    )
    return params


def describe(params: Params) -> str:
    return ", ".join(f"{name}={value}" for name, value in asdict(params).items())


def server_version(target: Target) -> str:
    if target.kind == "postgresql":
        return str(query(target, "SHOW server_version")[0][0]).split(" ")[0]
    return str(query(target, "SELECT sqlite_version()")[0][0])
