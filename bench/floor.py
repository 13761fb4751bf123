"""The raw floor: each workload as a hand-written endpoint, the physical limit we measure against.

A small Starlette app with SQL written by hand (asyncpg on PostgreSQL,
aiosqlite on SQLite) and one connection pool; no SQLAlchemy and no GraphQL.
Each endpoint answers exactly the bytes our server answers for its workload:
global IDs, ``DateTime`` text, key order, ordering, soft-delete rules and the
contract's rules of who may see what (section 8) included. Parameters come in
the query string, as a REST endpoint's would.

Who asks: no ``Authorization`` header is an anonymous request; ``Bearer
<token>`` is verified here with PyJWT (HS256 only, the contract's claims,
issuer, audience, 30 s of leeway), then one statement reads the user's roles
on the condition that the user is live (and the token's session, when it
names one, not ended), as our server does. The rules become SQL: a post is
visible when published, to its author, or to editors and admins (who get
statements without the condition); a comment when its post is; ``email`` only
to that user and to admins (anonymous statements do not read it).

Served by uvicorn, one worker (``python -m bench`` starts it)::

    FLOOR_DATABASE=postgresql://postgres@127.0.0.1:5432/ftf_bench \\
        uvicorn bench.floor:app --port 8001

``FLOOR_DATABASE`` is a ``postgresql://`` DSN or ``sqlite:///path/to/file``;
``FLOOR_POOL_SIZE`` (default 10) bounds the pool, as ``DB_POOL_SIZE`` does ours.
The key is ``AUTH_JWT_SECRET`` when set, else the database's (table
``auth_keys``, made if missing, as ``server/auth/keys.py`` does);
``AUTH_JWT_ISSUER`` and ``AUTH_JWT_AUDIENCE`` as our server reads them.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

import aiosqlite
import asyncpg
import jwt
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

Payload = dict[str, Any]
Row = Sequence[Any]

W2_SIZE, W3_USERS, W3_POSTS, W3_COMMENTS, W5_SIZE, W6_SIZE, W7_SIZE = 50, 20, 10, 5, 100, 10_000, 50
MAX_COMMENT_BODY = 10_000
JWT_LEEWAY_S = 30
DEFAULT_ISSUER = "fast-track-graphql"
MIN_SECRET_BYTES = 32
GENERATED_KEY_ID = 1


class BadInput(Exception):
    """A parameter the endpoint cannot use: answered like the server's ``BAD_USER_INPUT``."""


class Unauthenticated(Exception):
    """A token that does not sign anyone in: HTTP 401, as our server answers it."""

    def __init__(self) -> None:
        super().__init__(
            "The access token is not valid (malformed, expired, or signed out): sign in again."
        )


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


# -- who is asking ------------------------------------------------------------

Scope = Literal["all", "published", "own"]
"""The posts a viewer sees: all of them; the published ones; those and its own."""
SCOPES: tuple[Scope, ...] = ("all", "published", "own")
SEES_ALL_POSTS = frozenset({"admin", "editor"})


@dataclass(frozen=True, slots=True)
class Viewer:
    user_id: int | None
    roles: frozenset[str] = frozenset()

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    @property
    def posts(self) -> Scope:
        if self.roles & SEES_ALL_POSTS:
            return "all"
        return "published" if self.user_id is None else "own"

    def sees_email_of(self, user_id: int) -> bool:
        return self.is_admin or user_id == self.user_id


ANONYMOUS = Viewer(None)


@dataclass(frozen=True, slots=True)
class Keys:
    """What an access token is checked against: our server's settings."""

    secret: bytes
    issuer: str
    audience: str | None

    @property
    def required(self) -> list[str]:
        """The contract's claims; ``aud`` when an audience is configured."""
        return ["sub", "exp", "iat", "iss", *(["aud"] if self.audience else [])]

    def claims(self, token: str) -> tuple[int, int | None]:
        """The user id and session id (if any) of a token that verifies.

        Raises:
            Unauthenticated: anything PyJWT refuses, or a subject or session
                that is not an id.
        """
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=["HS256"],
                issuer=self.issuer,
                audience=self.audience,
                leeway=JWT_LEEWAY_S,
                options={"require": self.required},
            )
        except jwt.PyJWTError:
            raise Unauthenticated() from None
        session = claims.get("sid")
        if session is not None and (type(session) is not int or session <= 0):
            raise Unauthenticated()
        try:
            user_id = parse_gid(str(claims["sub"]), "User")
        except BadInput:
            raise Unauthenticated() from None
        return user_id, session


def bearer(header: str) -> str:
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or any(c.isspace() for c in token):
        raise Unauthenticated()
    return token


# -- the SQL ------------------------------------------------------------------


def visible(alias: str, scope: Scope, viewer_param: str) -> str:
    """`` AND`` the condition on posts ``alias`` that the viewer may see; empty for all."""
    if scope == "all":
        return ""
    if scope == "published":
        return f" AND {alias}.published"
    return f" AND ({alias}.published OR {alias}.user_id = {viewer_param})"


class Sql:
    """Every statement of the floor in one dialect, by workload and posts' scope.

    The viewer's id, when a statement needs it (scope ``own``), is the last
    parameter. PostgreSQL numbers parameters ``$n``, SQLite ``?n``.
    """

    def __init__(self, postgres: bool) -> None:
        def p(n: int) -> str:
            return f"${n}" if postgres else f"?{n}"

        self.postgres = postgres
        user_columns = "SELECT id, name, {}, created_at FROM users "
        user_where = f"WHERE id = {p(1)} AND deleted_at IS NULL"
        #: W1, by whether the viewer may see an email at all (anonymous: never).
        self.w1 = {
            False: user_columns.format("NULL") + user_where,
            True: user_columns.format("email") + user_where,
        }
        self.w2 = {
            s: "SELECT p.title, u.name FROM posts AS p JOIN users AS u ON u.id = p.user_id "
            f"WHERE p.deleted_at IS NULL{visible('p', s, p(2))} ORDER BY p.id LIMIT {p(1)}"
            for s in SCOPES
        }
        self.w3 = {s: (self._w3_postgres if postgres else self._w3_sqlite)(s) for s in SCOPES}
        if postgres:
            insert = "SELECT $1::int, $2::int, $3::text, now(), now()"
            post, author, viewer = "$1::int", "$2::int", "$4::int"
        else:
            insert = "SELECT ?1, ?2, ?3, ?4, ?4"
            post, author, viewer = "?1", "?2", "?5"
        self.w4 = {
            s: "INSERT INTO comments (post_id, user_id, body, created_at, updated_at) "
            f"{insert} WHERE EXISTS (SELECT 1 FROM posts AS p WHERE p.id = {post} "
            f"AND p.deleted_at IS NULL{visible('p', s, viewer)}) "
            f"AND EXISTS (SELECT 1 FROM users WHERE id = {author} AND deleted_at IS NULL) "
            "RETURNING id, body"
            for s in SCOPES
        }
        self.w5 = {
            s: "SELECT p.id, p.title, p.body, p.created_at FROM posts AS p "
            f"WHERE p.deleted_at IS NULL{visible('p', s, p(2))} ORDER BY p.id LIMIT {p(1)}"
            for s in SCOPES
        }
        self.w6 = {
            s: "SELECT c.id, c.body FROM comments AS c "
            + (
                ""
                if s == "all"
                else "WHERE EXISTS (SELECT 1 FROM posts AS p WHERE p.id = c.post_id"
                f"{visible('p', s, p(2))}) "
            )
            + f"ORDER BY c.id LIMIT {p(1)}"
            for s in SCOPES
        }
        self.w7_first = {
            s: "SELECT p.id, p.title FROM posts AS p "
            f"WHERE p.deleted_at IS NULL{visible('p', s, p(2))} ORDER BY p.id LIMIT {p(1)}"
            for s in SCOPES
        }
        self.w7_after = {
            s: "SELECT p.id, p.title FROM posts AS p WHERE p.deleted_at IS NULL "
            f"AND p.id > {p(1)}{visible('p', s, p(3))} ORDER BY p.id LIMIT {p(2)}"
            for s in SCOPES
        }
        roles = (
            "SELECT r.name FROM users AS u "
            "LEFT JOIN user_roles AS ur ON ur.user_id = u.id "
            "LEFT JOIN roles AS r ON r.id = ur.role_id "
            f"WHERE u.id = {p(1)} AND u.deleted_at IS NULL"
        )
        #: The viewer's roles if it is live, by whether its token names a session.
        self.viewer = {
            False: roles,
            True: roles + " AND EXISTS (SELECT 1 FROM auth_sessions AS s "
            f"WHERE s.id = {p(2)} AND s.user_id = u.id AND s.ended_at IS NULL)",
        }
        if postgres:
            self.insert_key = (
                "INSERT INTO auth_keys (id, secret, created_at) VALUES ($1, $2, now()) "
                "ON CONFLICT DO NOTHING"
            )
        else:
            self.insert_key = (
                "INSERT INTO auth_keys (id, secret, created_at) VALUES (?1, ?2, ?3) "
                "ON CONFLICT DO NOTHING"
            )
        self.select_key = f"SELECT secret FROM auth_keys WHERE id = {p(1)}"

    @staticmethod
    def _w3_postgres(scope: Scope) -> str:
        return f"""
SELECT u.id, u.name, p.id, p.title, c.id, c.body, a.name
FROM (SELECT id, name FROM users WHERE deleted_at IS NULL ORDER BY id LIMIT $1) AS u
LEFT JOIN LATERAL (
    SELECT x.id, x.title FROM posts AS x
    WHERE x.user_id = u.id AND x.deleted_at IS NULL{visible("x", scope, "$4")}
    ORDER BY x.id LIMIT $2
) AS p ON true
LEFT JOIN LATERAL (
    SELECT id, body, user_id FROM comments WHERE post_id = p.id ORDER BY id LIMIT $3
) AS c ON true
LEFT JOIN users AS a ON a.id = c.user_id
ORDER BY u.id, p.id, c.id
"""

    # SQLite has no LATERAL: each level keeps its parents' first rows with a correlated
    # ``IN (... ORDER BY id LIMIT n)``, which uses the foreign-key index per parent
    # (measured faster here than ``row_number()`` windows over every parent's rows).
    @staticmethod
    def _w3_sqlite(scope: Scope) -> str:
        return f"""
WITH u AS (
    SELECT id, name FROM users WHERE deleted_at IS NULL ORDER BY id LIMIT ?1
), p AS (
    SELECT posts.id, posts.user_id, posts.title FROM u JOIN posts ON posts.id IN (
        SELECT x.id FROM posts AS x
        WHERE x.user_id = u.id AND x.deleted_at IS NULL{visible("x", scope, "?4")}
        ORDER BY x.id LIMIT ?2
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


# -- the two databases --------------------------------------------------------


class Database(Protocol):
    async def fetch(self, sql: str, parameters: Sequence[Any] = ()) -> list[Row]: ...
    async def close(self) -> None: ...


class PostgresPool:
    """asyncpg: one pool; prepared statements are cached per connection by asyncpg itself."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @classmethod
    async def open(cls, dsn: str, size: int) -> PostgresPool:
        return cls(await asyncpg.create_pool(dsn, min_size=1, max_size=size))

    async def fetch(self, sql: str, parameters: Sequence[Any] = ()) -> list[Row]:
        return list(await self.pool.fetch(sql, *parameters))

    async def close(self) -> None:
        await asyncio.wait_for(self.pool.close(), timeout=10)


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


def sqlite_now() -> str:
    """Now as SQLite holds ``DateTime`` columns: naive UTC text with microseconds."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


# -- the endpoints' work ------------------------------------------------------


class Backend:
    """Each workload's statement for a viewer, and the dictionaries the server answers."""

    def __init__(self, db: Database, postgres: bool) -> None:
        self.db = db
        self.sql = Sql(postgres)
        self.postgres = postgres
        self.time: Callable[[Any], str] = iso if postgres else iso_sqlite

    async def close(self) -> None:
        await self.db.close()

    async def _fetch(
        self, statements: dict[Scope, str], viewer: Viewer, parameters: tuple[Any, ...]
    ) -> list[Row]:
        scope = viewer.posts
        if scope == "own":
            parameters = (*parameters, viewer.user_id)
        return await self.db.fetch(statements[scope], parameters)

    async def keys(self) -> Keys:
        """``AUTH_JWT_SECRET``, else the database's key (made if missing, as our server does)."""
        issuer = os.environ.get("AUTH_JWT_ISSUER") or DEFAULT_ISSUER
        audience = os.environ.get("AUTH_JWT_AUDIENCE") or None
        configured = os.environ.get("AUTH_JWT_SECRET", "")
        if configured:
            return Keys(configured.encode("utf-8", "surrogatepass"), issuer, audience)
        made = secrets.token_urlsafe(48)
        extra = () if self.postgres else (sqlite_now(),)
        await self.db.fetch(self.sql.insert_key, (GENERATED_KEY_ID, made, *extra))
        rows = await self.db.fetch(self.sql.select_key, (GENERATED_KEY_ID,))
        secret = str(rows[0][0]).encode("ascii")
        if len(secret) < MIN_SECRET_BYTES:
            raise RuntimeError("the database's signing key is too short")
        return Keys(secret, issuer, audience)

    async def viewer(self, user_id: int, session_id: int | None) -> Viewer:
        """One statement: the user's roles if it is live and its session (if any) not ended."""
        if session_id is None:
            rows = await self.db.fetch(self.sql.viewer[False], (user_id,))
        else:
            rows = await self.db.fetch(self.sql.viewer[True], (user_id, session_id))
        if not rows:
            raise Unauthenticated()
        return Viewer(user_id, frozenset(row[0] for row in rows if row[0] is not None))

    async def w1(self, viewer: Viewer, user_id: int) -> Payload | None:
        rows = await self.db.fetch(self.sql.w1[viewer.user_id is not None], (user_id,))
        if not rows:
            return None
        key, name, email, created = rows[0]
        return {
            "id": gid("User", key),
            "name": name,
            "email": email if viewer.sees_email_of(key) else None,
            "createdAt": self.time(created),
        }

    async def w2(self, viewer: Viewer) -> list[Payload]:
        rows = await self._fetch(self.sql.w2, viewer, (W2_SIZE,))
        return [{"title": r[0], "author": {"name": r[1]}} for r in rows]

    async def w3(self, viewer: Viewer) -> list[Payload]:
        return nest_w3(await self._fetch(self.sql.w3, viewer, (W3_USERS, W3_POSTS, W3_COMMENTS)))

    async def w4(self, viewer: Viewer, post_id: int, author_id: int, body: str) -> Payload | None:
        now = () if self.postgres else (sqlite_now(),)
        rows = await self._fetch(self.sql.w4, viewer, (post_id, author_id, body, *now))
        return {"id": gid("Comment", rows[0][0]), "body": rows[0][1]} if rows else None

    async def w5(self, viewer: Viewer) -> list[Payload]:
        rows = await self._fetch(self.sql.w5, viewer, (W5_SIZE,))
        time = self.time
        return [
            {"id": gid("Post", r[0]), "title": r[1], "body": r[2], "createdAt": time(r[3])}
            for r in rows
        ]

    async def w6(self, viewer: Viewer) -> list[Payload]:
        rows = await self._fetch(self.sql.w6, viewer, (W6_SIZE,))
        return [{"id": gid("Comment", r[0]), "body": r[1]} for r in rows]

    async def w7(self, viewer: Viewer, after: int | None) -> list[Payload]:
        if after is None:
            rows = await self._fetch(self.sql.w7_first, viewer, (W7_SIZE,))
        else:
            rows = await self._fetch(self.sql.w7_after, viewer, (after, W7_SIZE))
        return [{"id": gid("Post", r[0]), "title": r[1]} for r in rows]


async def open_backend(database: str, size: int) -> Backend:
    if database.startswith(("postgresql://", "postgres://")):
        return Backend(await PostgresPool.open(database, size), postgres=True)
    if database.startswith("sqlite:///"):
        return Backend(SqlitePool(database.removeprefix("sqlite:///"), size), postgres=False)
    raise ValueError(f"FLOOR_DATABASE={database!r}: expected postgresql://... or sqlite:///...")


# -- HTTP ---------------------------------------------------------------------


def respond(payload: Payload) -> Response:
    return Response(orjson.dumps(payload), media_type="application/json")


def field_error(field: str, code: str, message: str, **extensions: Any) -> Response:
    error = {"message": message, "path": [field], "extensions": {"code": code, **extensions}}
    return respond({"data": {field: None}, "errors": [error]})


def not_found(field: str, model: str, given: str) -> Response:
    return field_error(field, "NOT_FOUND", f"{model} not found", model=model, id=given)


def bad_input(field: str, problem: BadInput) -> Response:
    return field_error(field, "BAD_USER_INPUT", str(problem))


def unauthenticated(problem: Unauthenticated) -> Response:
    error = {"message": str(problem), "extensions": {"code": "UNAUTHENTICATED"}}
    return Response(
        orjson.dumps({"errors": [error]}),
        status_code=401,
        media_type="application/json",
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


def backend_of(request: Request) -> Backend:
    backend: Backend = request.app.state.backend
    return backend


async def viewer_of(request: Request) -> Viewer:
    """Anonymous without ``Authorization``; else the live user its token names.

    Raises:
        Unauthenticated: another scheme, a token that does not verify, a user
            gone or soft-deleted, or a session ended.
    """
    header = request.headers.get("authorization")
    if header is None or not header.strip():
        return ANONYMOUS
    keys: Keys = request.app.state.keys
    user_id, session_id = keys.claims(bearer(header))
    return await backend_of(request).viewer(user_id, session_id)


ViewerEndpoint = Callable[[Request, Viewer], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


def authenticated(endpoint: ViewerEndpoint) -> Endpoint:
    """The endpoint, given the request's viewer; a refused token never reaches it."""

    async def resolved(request: Request) -> Response:
        try:
            viewer = await viewer_of(request)
        except Unauthenticated as problem:
            return unauthenticated(problem)
        return await endpoint(request, viewer)

    return resolved


async def w1(request: Request, viewer: Viewer) -> Response:
    given = request.query_params.get("id", "")
    try:
        user = await backend_of(request).w1(viewer, parse_gid(given, "User"))
    except BadInput as problem:
        return bad_input("user", problem)
    if user is None:
        return not_found("user", "User", given)
    return respond({"data": {"user": user}})


async def w2(request: Request, viewer: Viewer) -> Response:
    return respond({"data": {"posts": {"nodes": await backend_of(request).w2(viewer)}}})


async def w3(request: Request, viewer: Viewer) -> Response:
    return respond({"data": {"users": {"nodes": await backend_of(request).w3(viewer)}}})


async def w4(request: Request, viewer: Viewer) -> Response:
    field = "createComment"
    if viewer.user_id is None:
        return field_error(field, "UNAUTHENTICATED", "Sign in to do this.")
    params = request.query_params
    try:
        post_id = parse_gid(params.get("postId", ""), "Post")
        author_id = parse_gid(params.get("authorId", ""), "User")
        body = check_comment_body(params.get("body", ""))
    except BadInput as problem:
        return bad_input(field, problem)
    if author_id != viewer.user_id and not viewer.is_admin:
        return field_error(field, "FORBIDDEN", "You may not do this.", model="Comment")
    comment = await backend_of(request).w4(viewer, post_id, author_id, body)
    if comment is None:
        return bad_input(field, BadInput("the post or the author is not found"))
    return respond({"data": {field: comment}})


async def w5(request: Request, viewer: Viewer) -> Response:
    return respond({"data": {"posts": {"nodes": await backend_of(request).w5(viewer)}}})


async def w6(request: Request, viewer: Viewer) -> Response:
    return respond({"data": {"comments": {"nodes": await backend_of(request).w6(viewer)}}})


async def w7(request: Request, viewer: Viewer) -> Response:
    after = request.query_params.get("after")
    try:
        nodes = await backend_of(request).w7(
            viewer, None if after is None else parse_id_cursor(after)
        )
    except BadInput as problem:
        return bad_input("posts", problem)
    return respond({"data": {"posts": {"nodes": nodes}}})


async def health(request: Request) -> Response:
    return respond({"status": "ok"})


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    database = os.environ.get("FLOOR_DATABASE", "")
    size = int(os.environ.get("FLOOR_POOL_SIZE", "10"))
    app.state.backend = backend = await open_backend(database, size)
    try:
        app.state.keys = await backend.keys()
        yield
    finally:
        await backend.close()


ENDPOINTS: dict[str, ViewerEndpoint] = {"/w1": w1, "/w2": w2, "/w3": w3, "/w4": w4, "/w5": w5}
ENDPOINTS.update({"/w6": w6, "/w7": w7})

app = Starlette(
    routes=[
        Route("/health", health, methods=["GET"]),
        *(
            Route(path, authenticated(endpoint), methods=["GET", "POST"])
            for path, endpoint in ENDPOINTS.items()
        ),
    ],
    lifespan=lifespan,
)
