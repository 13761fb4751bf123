"""The raw floor: each workload as a hand-written endpoint, the physical limit we measure against.

A small Starlette app with SQL written by hand (asyncpg on PostgreSQL,
aiosqlite on SQLite) and one connection pool; no SQLAlchemy and no GraphQL.
Each endpoint answers exactly the bytes our server answers for its workload:
global IDs, ``DateTime`` text, key order, ordering and soft-delete rules
included. Parameters come in the query string, as a REST endpoint's would.

Served by uvicorn, one worker (``python -m bench`` starts it)::

    FLOOR_DATABASE=postgresql://postgres@127.0.0.1:5432/ftf_bench \\
        uvicorn bench.floor:app --port 8001

``FLOOR_DATABASE`` is a ``postgresql://`` DSN or ``sqlite:///path/to/file``;
``FLOOR_POOL_SIZE`` (default 10) bounds the pool, as ``DB_POOL_SIZE`` does ours.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Protocol

import aiosqlite
import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

Payload = dict[str, Any]
Row = Sequence[Any]

W2_SIZE, W3_USERS, W3_POSTS, W3_COMMENTS, W5_SIZE, W6_SIZE, W7_SIZE = 50, 20, 10, 5, 100, 10_000, 50
MAX_COMMENT_BODY = 10_000


class BadInput(Exception):
    """A parameter the endpoint cannot use: answered like the server's ``BAD_USER_INPUT``."""


# -- the contract's encodings -------------------------------------------------


def gid(type_name: str, key: int) -> str:
    return base64.b64encode(f"{type_name}:{key}".encode()).decode("ascii")


def parse_gid(value: str, type_name: str) -> int:
    try:
        name, _, key = base64.b64decode(value, validate=True).decode().partition(":")
        if name != type_name:
            raise ValueError(name)
        return int(key)
    except (ValueError, UnicodeError, binascii.Error):
        raise BadInput(f"malformed {type_name} ID") from None


def parse_id_cursor(cursor: str) -> int:
    """The ``id`` a cursor of the default order (``id`` ascending) holds."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        version, signature, values = json.loads(base64.urlsafe_b64decode(padded))
        if version != 1 or signature != "id:a" or len(values) != 1:
            raise ValueError(cursor)
        key = values[0]
        if not isinstance(key, int) or isinstance(key, bool):
            raise ValueError(cursor)
        return key
    except (ValueError, TypeError, UnicodeError, binascii.Error):
        raise BadInput("malformed cursor") from None


def iso(value: datetime) -> str:
    """``DateTime`` as the server writes it: UTC, six fractional digits, ``+00:00``."""
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def iso_sqlite(value: str) -> str:
    """The same from SQLite's naive UTC text (``2024-05-01 12:00:00.000000``)."""
    return datetime.fromisoformat(value).replace(tzinfo=UTC).isoformat(timespec="microseconds")


def nest_w3(rows: Sequence[Row]) -> list[Payload]:
    """users > posts > comments > author from flat rows ordered by user, post and comment.

    Columns: user id, user name, post id, post title, comment id, comment
    body, comment author's name; a missing post or comment is NULL (outer join).
    """
    users: list[Payload] = []
    posts: list[Payload] = []
    comments: list[Payload] = []
    last_user = last_post = None
    for user_id, user_name, post_id, title, comment_id, body, author in rows:
        if user_id != last_user:
            last_user, last_post, posts = user_id, None, []
            users.append({"name": user_name, "posts": {"nodes": posts}})
        if post_id is None:
            continue
        if post_id != last_post:
            last_post, comments = post_id, []
            posts.append({"title": title, "comments": {"nodes": comments}})
        if comment_id is not None:
            comments.append({"body": body, "author": {"name": author}})
    return users


def check_comment_body(body: str) -> str:
    if not 1 <= len(body.strip()) <= MAX_COMMENT_BODY:
        raise BadInput("a comment's body has 1 to 10,000 characters")
    return body


# -- the two backends ---------------------------------------------------------


class Backend(Protocol):
    async def close(self) -> None: ...
    async def w1(self, user_id: int) -> Payload | None: ...
    async def w2(self) -> list[Payload]: ...
    async def w3(self) -> list[Payload]: ...
    async def w4(self, post_id: int, author_id: int, body: str) -> Payload | None: ...
    async def w5(self) -> list[Payload]: ...
    async def w6(self) -> list[Payload]: ...
    async def w7(self, after: int | None) -> list[Payload]: ...


PG_W3 = """
SELECT u.id, u.name, p.id, p.title, c.id, c.body, a.name
FROM (SELECT id, name FROM users WHERE deleted_at IS NULL ORDER BY id LIMIT $1) AS u
LEFT JOIN LATERAL (
    SELECT id, title FROM posts
    WHERE user_id = u.id AND deleted_at IS NULL ORDER BY id LIMIT $2
) AS p ON true
LEFT JOIN LATERAL (
    SELECT id, body, user_id FROM comments WHERE post_id = p.id ORDER BY id LIMIT $3
) AS c ON true
LEFT JOIN users AS a ON a.id = c.user_id
ORDER BY u.id, p.id, c.id
"""

PG_W4 = """
INSERT INTO comments (post_id, user_id, body, created_at, updated_at)
SELECT $1::int, $2::int, $3::text, now(), now()
WHERE EXISTS (SELECT 1 FROM posts WHERE id = $1::int AND deleted_at IS NULL)
  AND EXISTS (SELECT 1 FROM users WHERE id = $2::int AND deleted_at IS NULL)
RETURNING id, body
"""


class Postgres:
    """asyncpg: one pool; prepared statements are cached per connection by asyncpg itself."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @classmethod
    async def open(cls, dsn: str, size: int) -> Postgres:
        return cls(await asyncpg.create_pool(dsn, min_size=1, max_size=size))

    async def close(self) -> None:
        await asyncio.wait_for(self.pool.close(), timeout=10)

    async def w1(self, user_id: int) -> Payload | None:
        row = await self.pool.fetchrow(
            "SELECT id, name, email, created_at FROM users WHERE id = $1 AND deleted_at IS NULL",
            user_id,
        )
        if row is None:
            return None
        return {
            "id": gid("User", row[0]),
            "name": row[1],
            "email": row[2],
            "createdAt": iso(row[3]),
        }

    async def w2(self) -> list[Payload]:
        rows = await self.pool.fetch(
            "SELECT p.title, u.name FROM posts AS p JOIN users AS u ON u.id = p.user_id "
            "WHERE p.deleted_at IS NULL ORDER BY p.id LIMIT $1",
            W2_SIZE,
        )
        return [{"title": r[0], "author": {"name": r[1]}} for r in rows]

    async def w3(self) -> list[Payload]:
        return nest_w3(await self.pool.fetch(PG_W3, W3_USERS, W3_POSTS, W3_COMMENTS))

    async def w4(self, post_id: int, author_id: int, body: str) -> Payload | None:
        row = await self.pool.fetchrow(PG_W4, post_id, author_id, body)
        return None if row is None else {"id": gid("Comment", row[0]), "body": row[1]}

    async def w5(self) -> list[Payload]:
        rows = await self.pool.fetch(
            "SELECT id, title, body, created_at FROM posts WHERE deleted_at IS NULL "
            "ORDER BY id LIMIT $1",
            W5_SIZE,
        )
        return [
            {"id": gid("Post", r[0]), "title": r[1], "body": r[2], "createdAt": iso(r[3])}
            for r in rows
        ]

    async def w6(self) -> list[Payload]:
        rows = await self.pool.fetch("SELECT id, body FROM comments ORDER BY id LIMIT $1", W6_SIZE)
        return [{"id": gid("Comment", r[0]), "body": r[1]} for r in rows]

    async def w7(self, after: int | None) -> list[Payload]:
        if after is None:
            rows = await self.pool.fetch(
                "SELECT id, title FROM posts WHERE deleted_at IS NULL ORDER BY id LIMIT $1",
                W7_SIZE,
            )
        else:
            rows = await self.pool.fetch(
                "SELECT id, title FROM posts WHERE deleted_at IS NULL AND id > $1 "
                "ORDER BY id LIMIT $2",
                after,
                W7_SIZE,
            )
        return [{"id": gid("Post", r[0]), "title": r[1]} for r in rows]


# SQLite has no LATERAL: each level keeps its parents' first rows with a correlated
# ``IN (... ORDER BY id LIMIT n)``, which uses the foreign-key index per parent
# (measured faster here than ``row_number()`` windows over every parent's rows).
SQLITE_W3 = """
WITH u AS (
    SELECT id, name FROM users WHERE deleted_at IS NULL ORDER BY id LIMIT ?1
), p AS (
    SELECT posts.id, posts.user_id, posts.title FROM u JOIN posts ON posts.id IN (
        SELECT x.id FROM posts AS x
        WHERE x.user_id = u.id AND x.deleted_at IS NULL ORDER BY x.id LIMIT ?2
    )
), c AS (
    SELECT comments.id, comments.post_id, comments.user_id, comments.body
    FROM p JOIN comments ON comments.id IN (
        SELECT y.id FROM comments AS y WHERE y.post_id = p.id ORDER BY y.id LIMIT ?3
    )
)
SELECT u.id, u.name, p.id, p.title, c.id, c.body, a.name
FROM u
LEFT JOIN p ON p.user_id = u.id
LEFT JOIN c ON c.post_id = p.id
LEFT JOIN users AS a ON a.id = c.user_id
ORDER BY u.id, p.id, c.id
"""

SQLITE_W4 = """
INSERT INTO comments (post_id, user_id, body, created_at, updated_at)
SELECT ?1, ?2, ?3, ?4, ?4
WHERE EXISTS (SELECT 1 FROM posts WHERE id = ?1 AND deleted_at IS NULL)
  AND EXISTS (SELECT 1 FROM users WHERE id = ?2 AND deleted_at IS NULL)
RETURNING id, body
"""


class SqlitePool:
    """At most ``size`` aiosqlite connections (a thread each), opened when first needed."""

    def __init__(self, path: str, size: int) -> None:
        self.path = path
        self.idle: list[aiosqlite.Connection] = []
        self.opened: list[aiosqlite.Connection] = []
        self.slots = asyncio.Semaphore(size)

    async def _open(self) -> aiosqlite.Connection:
        # Autocommit (one statement, one transaction) and the server's pragmas.
        connection = await aiosqlite.connect(self.path, isolation_level=None)
        for pragma in (
            "PRAGMA foreign_keys = ON",
            "PRAGMA busy_timeout = 5000",
            "PRAGMA journal_mode = WAL",
            "PRAGMA synchronous = NORMAL",
        ):
            await connection.execute(pragma)
        self.opened.append(connection)
        return connection

    async def fetch(self, sql: str, parameters: Sequence[Any] = ()) -> list[Row]:
        async with self.slots:
            connection = self.idle.pop() if self.idle else await self._open()
            try:
                return list(await connection.execute_fetchall(sql, parameters))
            finally:
                self.idle.append(connection)

    async def close(self) -> None:
        for connection in self.opened:
            await asyncio.wait_for(connection.close(), timeout=10)


class Sqlite:
    def __init__(self, pool: SqlitePool) -> None:
        self.pool = pool

    @classmethod
    async def open(cls, path: str, size: int) -> Sqlite:
        return cls(SqlitePool(path, size))

    async def close(self) -> None:
        await self.pool.close()

    async def w1(self, user_id: int) -> Payload | None:
        rows = await self.pool.fetch(
            "SELECT id, name, email, created_at FROM users WHERE id = ? AND deleted_at IS NULL",
            (user_id,),
        )
        if not rows:
            return None
        row = rows[0]
        return {
            "id": gid("User", row[0]),
            "name": row[1],
            "email": row[2],
            "createdAt": iso_sqlite(row[3]),
        }

    async def w2(self) -> list[Payload]:
        rows = await self.pool.fetch(
            "SELECT p.title, u.name FROM posts AS p JOIN users AS u ON u.id = p.user_id "
            "WHERE p.deleted_at IS NULL ORDER BY p.id LIMIT ?",
            (W2_SIZE,),
        )
        return [{"title": r[0], "author": {"name": r[1]}} for r in rows]

    async def w3(self) -> list[Payload]:
        return nest_w3(await self.pool.fetch(SQLITE_W3, (W3_USERS, W3_POSTS, W3_COMMENTS)))

    async def w4(self, post_id: int, author_id: int, body: str) -> Payload | None:
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        rows = await self.pool.fetch(SQLITE_W4, (post_id, author_id, body, now))
        return {"id": gid("Comment", rows[0][0]), "body": rows[0][1]} if rows else None

    async def w5(self) -> list[Payload]:
        rows = await self.pool.fetch(
            "SELECT id, title, body, created_at FROM posts WHERE deleted_at IS NULL "
            "ORDER BY id LIMIT ?",
            (W5_SIZE,),
        )
        return [
            {"id": gid("Post", r[0]), "title": r[1], "body": r[2], "createdAt": iso_sqlite(r[3])}
            for r in rows
        ]

    async def w6(self) -> list[Payload]:
        rows = await self.pool.fetch(
            "SELECT id, body FROM comments ORDER BY id LIMIT ?", (W6_SIZE,)
        )
        return [{"id": gid("Comment", r[0]), "body": r[1]} for r in rows]

    async def w7(self, after: int | None) -> list[Payload]:
        if after is None:
            rows = await self.pool.fetch(
                "SELECT id, title FROM posts WHERE deleted_at IS NULL ORDER BY id LIMIT ?",
                (W7_SIZE,),
            )
        else:
            rows = await self.pool.fetch(
                "SELECT id, title FROM posts WHERE deleted_at IS NULL AND id > ? "
                "ORDER BY id LIMIT ?",
                (after, W7_SIZE),
            )
        return [{"id": gid("Post", r[0]), "title": r[1]} for r in rows]


async def open_backend(database: str, size: int) -> Backend:
    if database.startswith(("postgresql://", "postgres://")):
        return await Postgres.open(database, size)
    if database.startswith("sqlite:///"):
        return await Sqlite.open(database.removeprefix("sqlite:///"), size)
    raise ValueError(f"FLOOR_DATABASE={database!r}: expected postgresql://... or sqlite:///...")


# -- HTTP ---------------------------------------------------------------------


def respond(payload: Payload) -> Response:
    return Response(orjson.dumps(payload), media_type="application/json")


def not_found(field: str, model: str, given: str) -> Response:
    error = {
        "message": f"{model} not found",
        "path": [field],
        "extensions": {"code": "NOT_FOUND", "model": model, "id": given},
    }
    return respond({"data": {field: None}, "errors": [error]})


def bad_input(field: str, problem: BadInput) -> Response:
    error = {"message": str(problem), "path": [field], "extensions": {"code": "BAD_USER_INPUT"}}
    return respond({"data": {field: None}, "errors": [error]})


def backend_of(request: Request) -> Backend:
    backend: Backend = request.app.state.backend
    return backend


async def w1(request: Request) -> Response:
    given = request.query_params.get("id", "")
    try:
        user = await backend_of(request).w1(parse_gid(given, "User"))
    except BadInput as problem:
        return bad_input("user", problem)
    if user is None:
        return not_found("user", "User", given)
    return respond({"data": {"user": user}})


async def w2(request: Request) -> Response:
    return respond({"data": {"posts": {"nodes": await backend_of(request).w2()}}})


async def w3(request: Request) -> Response:
    return respond({"data": {"users": {"nodes": await backend_of(request).w3()}}})


async def w4(request: Request) -> Response:
    params = request.query_params
    try:
        comment = await backend_of(request).w4(
            parse_gid(params.get("postId", ""), "Post"),
            parse_gid(params.get("authorId", ""), "User"),
            check_comment_body(params.get("body", "")),
        )
        if comment is None:
            raise BadInput("the post or the author is not found")
    except BadInput as problem:
        return bad_input("createComment", problem)
    return respond({"data": {"createComment": comment}})


async def w5(request: Request) -> Response:
    return respond({"data": {"posts": {"nodes": await backend_of(request).w5()}}})


async def w6(request: Request) -> Response:
    return respond({"data": {"comments": {"nodes": await backend_of(request).w6()}}})


async def w7(request: Request) -> Response:
    after = request.query_params.get("after")
    try:
        nodes = await backend_of(request).w7(None if after is None else parse_id_cursor(after))
    except BadInput as problem:
        return bad_input("posts", problem)
    return respond({"data": {"posts": {"nodes": nodes}}})


async def health(request: Request) -> Response:
    return respond({"status": "ok"})


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    database = os.environ.get("FLOOR_DATABASE", "")
    size = int(os.environ.get("FLOOR_POOL_SIZE", "10"))
    app.state.backend = await open_backend(database, size)
    try:
        yield
    finally:
        await app.state.backend.close()


Endpoint = Callable[[Request], Awaitable[Response]]
ENDPOINTS: dict[str, Endpoint] = {"/w1": w1, "/w2": w2, "/w3": w3, "/w4": w4, "/w5": w5}
ENDPOINTS.update({"/w6": w6, "/w7": w7})

app = Starlette(
    routes=[
        Route("/health", health, methods=["GET"]),
        *(Route(path, endpoint, methods=["GET", "POST"]) for path, endpoint in ENDPOINTS.items()),
    ],
    lifespan=lifespan,
)
