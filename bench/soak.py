"""``python -m bench.soak``: issue 5's load script, a soak test of the running server.

It prepares the benchmark's standard data set (``bench.dataset``), copies it
to a database of its own (so the benchmark's rows stay as they were), starts
our server under uvicorn (``ftf serve``, one worker unless ``--workers``),
and drives it from this process with ``--clients`` concurrent clients
(asyncio and httpx) for ``--duration`` seconds on a weighted mix of the
contract's queries and mutations. It prints, overall and per operation, the
requests, throughput, latency percentiles and the errors by kind, telling
the expected ones (a client looks up a row another client deleted) from the
unexpected ones. After the run it stops the server and reads the database
directly to check that every mutation the server confirmed is there, and
that nothing it refused or never confirmed is. It exits 1 when anything
unexpected happened, 2 when it could not run, 130 on Ctrl-C, 143 on SIGTERM.

Only 127.0.0.1 is contacted. Every request has a client-side timeout, every
loop a deadline, and the server is stopped at the end, on an error and on
Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import io
import json
import math
import os
import random
import shlex
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

import asyncpg
import httpx

from bench import dataset, services
from bench.dataset import DATA, Kind, Target
from bench.workloads import global_id

_T = TypeVar("_T")

SOAK_PG_DATABASE = "ftf_bench_soak"
SOAK_SQLITE_FILE = DATA / "soak.sqlite3"
MAX_DURATION = 3600
MAX_CLIENTS = 500
MAX_WORKERS = 16
#: Seconds the clients get, after the deadline and their own timeout, to finish.
GRACE = 15.0
#: The tables of the data set, parents first, and those with a serial ``id``.
COPIED_TABLES = ("roles", "users", "user_roles", "posts", "comments")
SERIAL_TABLES = ("roles", "users", "posts", "comments")
SQL_TIMEOUT = 120.0
#: How long all clients aim their ``assignRole`` calls at the same fresh user.
HOT_SLOT_SECONDS = 2.0
EXAMPLES = 20
#: Server logs kept per database (``bench/.data/logs/<db>-soak-<run>-server.log``).
KEPT_LOGS = 10
#: Seconds a client keeps an idle connection for reuse: well under uvicorn's keep-alive
#: timeout (5 s), so that the server never closes a connection a request is being sent on.
KEEPALIVE = 2.0
#: ``deleteComment`` picks among the newest comments half of the time, so clients race.
RECENT_COMMENTS = 10


def log(message: str) -> None:
    print(f"[soak {datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


# -- the documents --------------------------------------------------------------

USER_BY_ID = """query userById($id: ID!) {
  user(id: $id) { id name email createdAt roles { name }
    posts(first: 3, orderBy: [{field: CREATED_AT, direction: DESC}]) {
      totalCount nodes { id title } } } }"""

POST_BY_ID = """query postById($id: ID!) {
  post(id: $id) { id title published deletedAt author { id name }
    comments(first: 5) { totalCount nodes { id body author { name } } } } }"""

COMMENT_BY_ID = """query commentById($id: ID!) {
  comment(id: $id) { id body createdAt post { id title } author { id name } } }"""

USERS_FILTERED = """query usersFiltered($where: UserFilter, $orderBy: [UserOrder!]) {
  users(first: 20, where: $where, orderBy: $orderBy) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id name email } } } }"""

POSTS_FILTERED = """query postsFiltered($first: Int, $where: PostFilter, $orderBy: [PostOrder!]) {
  posts(first: $first, where: $where, orderBy: $orderBy) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id title published createdAt author { name } } } }"""

COMMENTS_FILTERED = """query commentsFiltered($where: CommentFilter, $orderBy: [CommentOrder!]) {
  comments(first: 10, where: $where, orderBy: $orderBy) {
    totalCount nodes { id body createdAt author { name } post { title } } } }"""

POSTS_PAGE = """query postsPage($after: String, $where: PostFilter, $orderBy: [PostOrder!]) {
  posts(first: 20, after: $after, where: $where, orderBy: $orderBy) {
    pageInfo { hasNextPage endCursor } edges { cursor node { id title createdAt } } } }"""

USERS_PAGE = """query usersPage($after: String, $where: UserFilter, $orderBy: [UserOrder!]) {
  users(first: 20, after: $after, where: $where, orderBy: $orderBy) {
    pageInfo { hasNextPage endCursor } edges { cursor node { id name } } } }"""

COMMENTS_PAGE = """query commentsPage($after: String, $where: CommentFilter,
    $orderBy: [CommentOrder!]) {
  comments(first: 20, after: $after, where: $where, orderBy: $orderBy) {
    pageInfo { hasNextPage endCursor } edges { cursor node { id body } } } }"""

NESTED = """query nested($after: String) {
  users(first: 5, after: $after) { pageInfo { hasNextPage endCursor } nodes { id name
    posts(first: 5, orderBy: [{field: CREATED_AT, direction: DESC}]) { nodes { id title
      comments(first: 5) { nodes { id body author { id name } } } } } } } }"""

NODE_FIELDS = """__typename id ... on User { name } ... on Post { title }
    ... on Comment { body } ... on Role { name }"""
NODE = f"query node($id: ID!) {{ node(id: $id) {{ {NODE_FIELDS} }} }}"
NODES = f"query nodes($ids: [ID!]!) {{ nodes(ids: $ids) {{ {NODE_FIELDS} }} }}"

CREATE_USER = """mutation createUser($input: CreateUserInput!) {
  createUser(input: $input) { id name email createdAt } }"""
UPDATE_USER = """mutation updateUser($id: ID!, $input: UpdateUserInput!) {
  updateUser(id: $id, input: $input) { id name email updatedAt } }"""
CREATE_POST = """mutation createPost($input: CreatePostInput!) {
  createPost(input: $input) { id title body published author { id } } }"""
UPDATE_POST = """mutation updatePost($id: ID!, $input: UpdatePostInput!) {
  updatePost(id: $id, input: $input) { id title published updatedAt } }"""
DELETE_POST = "mutation deletePost($id: ID!) { deletePost(id: $id) { id deletedAt } }"
RESTORE_POST = "mutation restorePost($id: ID!) { restorePost(id: $id) { id deletedAt } }"
CREATE_COMMENT = """mutation createComment($input: CreateCommentInput!) {
  createComment(input: $input) { id body post { id } author { id } } }"""
DELETE_COMMENT = "mutation deleteComment($id: ID!) { deleteComment(id: $id) { id body } }"
ASSIGN_ROLE = """mutation assignRole($userId: ID!, $roleId: ID!) {
  assignRole(userId: $userId, roleId: $roleId) { id roles { id name } } }"""
REVOKE_ROLE = """mutation revokeRole($userId: ID!, $roleId: ID!) {
  revokeRole(userId: $userId, roleId: $roleId) { id roles { id name } } }"""

WORDS = ("commit", "index", "latency", "window", "replica", "cursor", "query", "socket", "kernel")
FRAGMENTS = ("an", "el", "ar", "on", "is", "ra", "ie", "ch")
INITIALS = "ABDEGJKLMRTW"


def operation_name(document: str) -> str:
    return document.split("(", 1)[0].split()[1]


def decode_id(value: Any) -> tuple[str, int] | None:
    """``(type name, key)`` of a global ID, or None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        type_name, _, key = base64.b64decode(value, validate=True).decode().partition(":")
        return type_name, int(key)
    except (binascii.Error, UnicodeError, ValueError):
        return None


# -- what the clients know ---------------------------------------------------------


@dataclass(slots=True)
class Reference:
    """Rows of the copied data set, read before the run. None of them is deleted by the run."""

    users: list[int]
    posts: list[int]
    roles: dict[int, str]
    hot_users: list[int]
    """Live users with one role: every client assigns roles to the same one at a time."""
    max_user: int
    max_post: int
    max_comment: int
    seeded_counts: tuple[int, ...]
    seeded_roles: set[tuple[int, int]]


@dataclass(slots=True)
class UserRecord:
    email: str
    name: str
    roles: set[int] = field(default_factory=set)
    uncertain: bool = False
    """A mutation of it got no answer: its final state is unknown."""


@dataclass(slots=True)
class PostRecord:
    author: int
    title: str
    body: str
    published: bool
    deleted: bool = False
    uncertain: bool = False


@dataclass(slots=True)
class CommentRecord:
    post: int
    author: int
    body: str
    deleted: bool = False
    uncertain: bool = False


@dataclass(slots=True)
class Ledger:
    """What the server confirmed (or refused), to be found in the database afterwards."""

    users: dict[int, UserRecord] = field(default_factory=dict)
    posts: dict[int, PostRecord] = field(default_factory=dict)
    comments: dict[int, CommentRecord] = field(default_factory=dict)
    refused_emails: set[str] = field(default_factory=set)
    refused_titles: set[str] = field(default_factory=set)
    refused_bodies: set[str] = field(default_factory=set)
    unknown: Counter[str] = field(default_factory=Counter)
    """Creates that got no answer, by table: each may or may not have committed."""
    unknown_emails: set[str] = field(default_factory=set)
    hot_roles: set[tuple[int, int]] = field(default_factory=set)
    hot_unknown: set[tuple[int, int]] = field(default_factory=set)


@dataclass(slots=True)
class Watch:
    """Rows other clients may delete: whether each is surely live, and a change counter.

    A row is "maybe gone" for a request when it was not surely live when the
    request was sent or answered, or changed in between. Rows never watched
    (the seeded ones) are always live.
    """

    live: dict[int, bool] = field(default_factory=dict)
    epoch: dict[int, int] = field(default_factory=dict)

    def snapshot(self, key: int) -> tuple[bool, int]:
        return self.live.get(key, True), self.epoch.get(key, 0)

    def maybe_gone(self, key: int, before: tuple[bool, int], own_changes: int = 0) -> bool:
        live, epoch = self.snapshot(key)
        return not before[0] or epoch != before[1] + own_changes or (not live and not own_changes)

    def change(self, key: int, live: bool) -> None:
        self.live[key] = live
        self.epoch[key] = self.epoch.get(key, 0) + 1


@dataclass(slots=True)
class World:
    """The state all clients share (one event loop: no locks needed)."""

    ref: Reference
    tag: str
    started: float
    ledger: Ledger = field(default_factory=Ledger)
    posts: Watch = field(default_factory=Watch)
    comments: Watch = field(default_factory=Watch)
    created_users: list[int] = field(default_factory=list)
    created_posts: list[int] = field(default_factory=list)
    created_comments: list[int] = field(default_factory=list)
    comment_pool: list[int] = field(default_factory=list)
    """Created comments not known to be deleted: any client may delete one."""
    stopping: bool = False


# -- recording ----------------------------------------------------------------------


@dataclass(slots=True)
class Expect:
    """The errors a request may meet without anything being wrong."""

    codes: frozenset[str] = frozenset()
    fields: frozenset[str] = frozenset()
    """For ``BAD_USER_INPUT``: the argument paths it may name."""


NOTHING = Expect()
GONE = Expect(frozenset({"NOT_FOUND"}))


@dataclass(slots=True)
class OpStats:
    latencies: list[float] = field(default_factory=list)
    expected: Counter[str] = field(default_factory=Counter)
    unexpected: Counter[str] = field(default_factory=Counter)
    expected_requests: int = 0
    unexpected_requests: int = 0


@dataclass(slots=True)
class Example:
    operation: str
    request_id: str
    kind: str
    detail: str


@dataclass(slots=True)
class Recorder:
    ops: dict[str, OpStats] = field(default_factory=dict)
    examples: list[Example] = field(default_factory=list)
    answered: int = 0

    def stats(self, operation: str) -> OpStats:
        return self.ops.setdefault(operation, OpStats())

    def unexpected(self, operation: str, request_id: str, kind: str, detail: str) -> None:
        self.stats(operation).unexpected[kind] += 1
        if len(self.examples) < EXAMPLES:
            self.examples.append(Example(operation, request_id, kind, detail[:300]))


@dataclass(slots=True)
class Reply:
    request_id: str
    answered: bool
    """The server answered 200 with a GraphQL body: the outcome is known."""
    data: dict[str, Any] | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)

    def field(self, name: str) -> Any:
        return (self.data or {}).get(name)


def error_kind(error: Any) -> tuple[str, str]:
    """``(code, kind)`` of one GraphQL error; the kind names the fields of BAD_USER_INPUT."""
    extensions = error.get("extensions") if isinstance(error, dict) else None
    code = str((extensions or {}).get("code") or "NO_CODE")
    if code == "BAD_USER_INPUT" and isinstance(extensions, dict):
        fields = extensions.get("fields")
        if isinstance(fields, dict):
            return code, f"{code}({','.join(sorted(fields))})"
    return code, code


def is_expected(error: Any, expect: Expect) -> bool:
    code, _ = error_kind(error)
    if code not in expect.codes:
        return False
    if code != "BAD_USER_INPUT":
        return True
    fields = (error.get("extensions") or {}).get("fields")
    return isinstance(fields, dict) and bool(fields) and set(fields) <= expect.fields


# -- the clients ----------------------------------------------------------------------


@dataclass(slots=True)
class PageSession:
    """A client paging forward through one list with the cursors the server gave it."""

    operation: str
    document: str
    variables: dict[str, Any]
    type_name: str
    check: str  # "ascending": ids grow; "distinct": no id twice; "": none
    pages_left: int
    after: str | None = None
    last_key: int = 0
    seen: set[int] = field(default_factory=set)


ExpectSource = Expect | Callable[[], Expect]


class Client:
    """One user of the API: a loop of weighted operations until the deadline."""

    def __init__(
        self,
        index: int,
        http: httpx.AsyncClient,
        world: World,
        recorder: Recorder,
        timeout: float,
        seed: int,
    ) -> None:
        self.index = index
        self.http = http
        self.world = world
        self.recorder = recorder
        self.timeout = timeout
        self.rng = random.Random(seed * 1000 + index)
        self.sequence = 0
        self.owned_users: list[int] = []
        self.live_posts: list[int] = []
        self.deleted_posts: list[int] = []
        self.paging: PageSession | None = None
        self.nested_after: str | None = None
        reads: list[tuple[Callable[[], Any], int]] = [
            (self.user_by_id, 9),
            (self.post_by_id, 9),
            (self.comment_by_id, 4),
            (self.users_filtered, 5),
            (self.posts_filtered, 7),
            (self.comments_filtered, 3),
            (self.page_forward, 12),
            (self.nested, 6),
            (self.node, 5),
            (self.nodes, 5),
        ]
        writes: list[tuple[Callable[[], Any], int]] = [
            (self.create_user, 3),
            (self.update_user, 3),
            (self.create_post, 4),
            (self.update_post, 3),
            (self.delete_or_restore_post, 4),
            (self.create_comment, 7),
            (self.delete_comment, 4),
            (self.assign_role, 4),
            (self.revoke_role, 3),
        ]
        self.operations = [operation for operation, _ in reads + writes]
        self.weights = [weight for _, weight in reads + writes]

    async def run(self, deadline: float) -> None:
        loop = asyncio.get_running_loop()
        while loop.time() < deadline and not self.world.stopping:
            operation = self.rng.choices(self.operations, self.weights)[0]
            await operation()

    # -- one request --

    async def call(
        self, operation: str, document: str, variables: dict[str, Any], expect: ExpectSource
    ) -> Reply:
        self.sequence += 1
        request_id = f"soak-{self.world.tag}-c{self.index:02d}-{self.sequence}"
        body = {"query": document, "variables": variables, "operationName": operation}
        stats = self.recorder.stats(operation)
        steps: list[str] = []

        async def trace(event: str, _info: dict[str, Any]) -> None:
            steps.append(event)  # httpcore's progress: what a transport error interrupted

        started = time.perf_counter()
        try:
            response = await asyncio.wait_for(
                self.http.post(
                    "/graphql",
                    json=body,
                    headers={"X-Request-ID": request_id},
                    extensions={"trace": trace},
                ),
                self.timeout,
            )
        except (TimeoutError, httpx.TransportError) as exc:
            elapsed = time.perf_counter() - started
            stats.latencies.append(elapsed)
            stats.unexpected_requests += 1
            timeout = isinstance(exc, TimeoutError | httpx.TimeoutException)
            kind = "timeout" if timeout else f"transport {type(exc).__name__}"
            failed = [step for step in steps if step.endswith(".failed")]
            if not steps:
                where = "waiting for a connection (none assigned)"
            else:
                new = any(step.startswith("connection.connect_tcp") for step in steps)
                step = failed[0] if failed else steps[-1]
                where = f"{'a new' if new else 'a reused keep-alive'} connection, at {step}"
            sent = f"{datetime.now() - timedelta(seconds=elapsed):%H:%M:%S.%f}"[:-3]
            detail = f"{type(exc).__name__} {exc} sent at {sent}, after {elapsed:.3f} s, {where}"
            self.recorder.unexpected(operation, request_id, kind, detail)
            return Reply(request_id, answered=False)
        stats.latencies.append(time.perf_counter() - started)
        if response.status_code != 200:
            stats.unexpected_requests += 1
            kind = f"HTTP {response.status_code}"
            self.recorder.unexpected(operation, request_id, kind, response.text)
            return Reply(request_id, answered=False)
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
            stats.unexpected_requests += 1
            self.recorder.unexpected(operation, request_id, "bad response", response.text)
            return Reply(request_id, answered=False)
        self.recorder.answered += 1
        errors = payload.get("errors") or []
        reply = Reply(request_id, True, payload["data"], errors if isinstance(errors, list) else [])
        if reply.errors:
            wanted = expect() if callable(expect) else expect
            kinds_expected: set[str] = set()
            kinds_unexpected: dict[str, str] = {}
            for error in reply.errors:
                _, kind = error_kind(error)
                if is_expected(error, wanted):
                    kinds_expected.add(kind)
                else:
                    kinds_unexpected[kind] = json.dumps(error)
            for kind in kinds_expected:
                stats.expected[kind] += 1
            for kind, detail in kinds_unexpected.items():
                self.recorder.unexpected(operation, request_id, kind, detail)
            if kinds_unexpected:
                stats.unexpected_requests += 1
            else:
                stats.expected_requests += 1
        return reply

    def flag(self, operation: str, reply: Reply, what: str, detail: Any = "") -> None:
        """A client-side check failed on an answer the server gave without error."""
        stats = self.recorder.stats(operation)
        stats.unexpected_requests += 1
        self.recorder.unexpected(operation, reply.request_id, f"check: {what}", str(detail))

    def number(self) -> int:
        self.sequence += 1
        return self.sequence

    def stable_user(self) -> int:
        created = self.world.created_users
        if created and self.rng.random() < 0.2:
            return self.rng.choice(created)
        return self.rng.choice(self.world.ref.users)

    def sentence(self, count: int) -> str:
        words = [self.rng.choice(WORDS) for _ in range(count)]
        return " ".join(words).capitalize() + "."

    def key(self, operation: str, reply: Reply, value: Any, type_name: str) -> int | None:
        decoded = decode_id(value)
        if decoded is None or decoded[0] != type_name:
            self.flag(operation, reply, f"not a {type_name} ID", value)
            return None
        return decoded[1]

    # -- reads --

    async def user_by_id(self) -> None:
        key = self.stable_user()
        reply = await self.call("userById", USER_BY_ID, {"id": global_id("User", key)}, NOTHING)
        user = reply.field("user")
        if (
            reply.answered
            and not reply.errors
            and (user is None or user["id"] != global_id("User", key))
        ):
            self.flag("userById", reply, "a live user missing", key)

    async def post_by_id(self) -> None:
        posts = self.world.posts
        if self.world.created_posts and self.rng.random() < 0.3:
            key = self.rng.choice(self.world.created_posts)
        else:
            key = self.rng.choice(self.world.ref.posts)
        before = posts.snapshot(key)
        reply = await self.call(
            "postById",
            POST_BY_ID,
            {"id": global_id("Post", key)},
            lambda: GONE if posts.maybe_gone(key, before) else NOTHING,
        )
        if reply.answered and not reply.errors and reply.field("post") is None:
            self.flag("postById", reply, "null without error", key)

    async def comment_by_id(self) -> None:
        comments = self.world.comments
        if self.world.created_comments and self.rng.random() < 0.5:
            key = self.rng.choice(self.world.created_comments)
        else:
            key = self.rng.randint(1, self.world.ref.max_comment)
        before = comments.snapshot(key)
        reply = await self.call(
            "commentById",
            COMMENT_BY_ID,
            {"id": global_id("Comment", key)},
            lambda: GONE if comments.maybe_gone(key, before) else NOTHING,
        )
        if reply.answered and not reply.errors and reply.field("comment") is None:
            self.flag("commentById", reply, "null without error", key)

    async def users_filtered(self) -> None:
        rng = self.rng
        first, second = rng.sample(INITIALS, 2)
        where = rng.choice(
            [
                {"name": {"iContains": rng.choice(FRAGMENTS)}},
                {"name": {"startsWith": first}},
                {
                    "email": {"endsWith": "@example.com"},
                    "createdAt": {"gte": "2024-06-01T00:00:00Z"},
                },
                {
                    "posts": {
                        "some": {
                            "published": {"eq": True},
                            "title": {"contains": rng.choice(WORDS)},
                        }
                    }
                },
                {"or": [{"name": {"startsWith": first}}, {"name": {"startsWith": second}}]},
                {"not": {"email": {"startsWith": "soak."}}},
            ]
        )
        order = rng.choice(
            [
                None,
                [{"field": "NAME"}],
                [{"field": "EMAIL", "direction": "DESC"}],
                [{"field": "CREATED_AT", "direction": "DESC"}],
                [{"field": "NAME"}, {"field": "CREATED_AT", "direction": "DESC"}],
            ]
        )
        reply = await self.call(
            "usersFiltered", USERS_FILTERED, {"where": where, "orderBy": order}, NOTHING
        )
        self.check_connection("usersFiltered", reply, reply.field("users"), "edges")

    async def posts_filtered(self) -> None:
        rng = self.rng
        where = rng.choice(
            [
                {"published": {"eq": True}},
                {"title": {"contains": rng.choice(WORDS)}},
                {"body": {"iContains": rng.choice(WORDS)}},
                {"author": {"name": {"startsWith": rng.choice(INITIALS)}}},
                {"comments": {"some": {"body": {"contains": rng.choice(WORDS)}}}},
                {
                    "and": [
                        {"published": {"eq": False}},
                        {"createdAt": {"gte": "2025-01-01T00:00:00Z"}},
                    ]
                },
                {
                    "id": {
                        "in": [
                            global_id("Post", key) for key in rng.sample(self.world.ref.posts, 5)
                        ]
                    }
                },
            ]
        )
        order = rng.choice(
            [
                None,
                [{"field": "TITLE"}],
                [{"field": "CREATED_AT", "direction": "DESC"}],
                [{"field": "UPDATED_AT", "direction": "DESC"}],
                [{"field": "TITLE", "direction": "DESC"}, {"field": "CREATED_AT"}],
            ]
        )
        variables = {"first": rng.choice([10, 20, 50]), "where": where, "orderBy": order}
        reply = await self.call("postsFiltered", POSTS_FILTERED, variables, NOTHING)
        self.check_connection("postsFiltered", reply, reply.field("posts"), "nodes")

    async def comments_filtered(self) -> None:
        rng = self.rng
        where = rng.choice(
            [
                {"post": {"id": {"eq": global_id("Post", rng.choice(self.world.ref.posts))}}},
                {"author": {"id": {"eq": global_id("User", rng.choice(self.world.ref.users))}}},
                {"body": {"startsWith": rng.choice(WORDS).capitalize()}},
                {"createdAt": {"gte": "2025-01-01T00:00:00Z", "lt": "2025-02-01T00:00:00Z"}},
            ]
        )
        order = rng.choice([None, [{"field": "CREATED_AT", "direction": "DESC"}]])
        reply = await self.call(
            "commentsFiltered", COMMENTS_FILTERED, {"where": where, "orderBy": order}, NOTHING
        )
        self.check_connection("commentsFiltered", reply, reply.field("comments"), "nodes")

    def check_connection(self, operation: str, reply: Reply, connection: Any, items: str) -> None:
        if not reply.answered or reply.errors:
            return
        if not isinstance(connection, dict) or not isinstance(connection.get(items), list):
            self.flag(operation, reply, "no connection", connection)
        elif connection["totalCount"] < len(connection[items]):
            self.flag(operation, reply, "totalCount below the page", connection["totalCount"])

    def new_page_session(self) -> PageSession:
        rng = self.rng
        pages = rng.randint(3, 15)
        variant = rng.randrange(5)
        if variant == 0:
            return PageSession("postsPage", POSTS_PAGE, {}, "Post", "ascending", pages)
        if variant == 1:
            month = f"2025-{rng.randint(1, 6):02d}-01T00:00:00Z"
            variables = {
                "where": {"published": {"eq": True}, "createdAt": {"lte": month}},
                "orderBy": [{"field": "CREATED_AT", "direction": "DESC"}],
            }
            return PageSession("postsPage", POSTS_PAGE, variables, "Post", "distinct", pages)
        if variant == 2:
            # Titles of posts created in the run change: a row may move past the cursor.
            variables = {
                "where": {"author": {"name": {"startsWith": rng.choice(INITIALS)}}},
                "orderBy": [{"field": "TITLE"}],
            }
            return PageSession("postsPage", POSTS_PAGE, variables, "Post", "", pages)
        if variant == 3:
            variables = {"where": {"email": {"endsWith": "@example.com"}}}
            return PageSession("usersPage", USERS_PAGE, variables, "User", "ascending", pages)
        variables = {"orderBy": [{"field": "CREATED_AT", "direction": "DESC"}]}
        return PageSession("commentsPage", COMMENTS_PAGE, variables, "Comment", "distinct", pages)

    async def page_forward(self) -> None:
        session = self.paging
        if session is None or session.pages_left <= 0:
            session = self.paging = self.new_page_session()
        session.pages_left -= 1
        variables = {**session.variables, "after": session.after}
        reply = await self.call(session.operation, session.document, variables, NOTHING)
        if not reply.answered or reply.errors:
            self.paging = None
            return
        connection: Any = next(iter(reply.data.values()), None) if reply.data else None
        try:
            edges = connection["edges"]
            page_info = connection["pageInfo"]
        except (TypeError, KeyError):
            self.flag(session.operation, reply, "no connection", connection)
            self.paging = None
            return
        for edge in edges:
            key = self.key(session.operation, reply, edge["node"]["id"], session.type_name)
            if key is None:
                break
            if session.check == "ascending" and key <= session.last_key:
                self.flag(session.operation, reply, "page order broken", (session.last_key, key))
                break
            if session.check == "distinct" and key in session.seen:
                self.flag(session.operation, reply, "a row on two pages", key)
                break
            session.last_key = key
            session.seen.add(key)
        if edges and page_info["endCursor"] != edges[-1]["cursor"]:
            self.flag(session.operation, reply, "endCursor is not the last edge's cursor")
        if not page_info["hasNextPage"]:
            self.paging = None
        else:
            session.after = page_info["endCursor"]

    async def nested(self) -> None:
        reply = await self.call("nested", NESTED, {"after": self.nested_after}, NOTHING)
        users = reply.field("users")
        if not reply.answered or reply.errors or not isinstance(users, dict):
            self.nested_after = None
            return
        info = users["pageInfo"]
        # Page on through the users, ten pages at most, then start again.
        more = info["hasNextPage"] and self.rng.random() < 0.9
        self.nested_after = info["endCursor"] if more else None

    def pick_node(self) -> tuple[str, str, Callable[[], bool]]:
        """A global ID, its type, and whether a null answer is acceptable for it."""
        rng = self.rng
        world = self.world
        draw = rng.random()
        never: Callable[[], bool] = lambda: False  # noqa: E731
        if draw < 0.12 and world.created_posts:
            key = rng.choice(world.created_posts)
            before = world.posts.snapshot(key)
            return global_id("Post", key), "Post", lambda: world.posts.maybe_gone(key, before)
        if draw < 0.24 and world.created_comments:
            key = rng.choice(world.created_comments)
            before = world.comments.snapshot(key)
            return (
                global_id("Comment", key),
                "Comment",
                lambda: world.comments.maybe_gone(key, before),
            )
        if draw < 0.5:
            return global_id("User", self.stable_user()), "User", never
        if draw < 0.75:
            return global_id("Post", rng.choice(world.ref.posts)), "Post", never
        if draw < 0.93:
            return global_id("Comment", rng.randint(1, world.ref.max_comment)), "Comment", never
        return global_id("Role", rng.choice(list(world.ref.roles))), "Role", never

    def check_node(
        self, operation: str, reply: Reply, node: Any, picked: tuple[str, str, Callable[[], bool]]
    ) -> None:
        wanted, type_name, may_be_null = picked
        if node is None:
            if not may_be_null():
                self.flag(operation, reply, "null for a live row", wanted)
        elif node.get("id") != wanted or node.get("__typename") != type_name:
            self.flag(operation, reply, "another node", (wanted, node))

    async def node(self) -> None:
        picked = self.pick_node()
        reply = await self.call("node", NODE, {"id": picked[0]}, NOTHING)
        if reply.answered and not reply.errors:
            self.check_node("node", reply, reply.field("node"), picked)

    async def nodes(self) -> None:
        picks = [self.pick_node() for _ in range(self.rng.randint(3, 15))]
        reply = await self.call("nodes", NODES, {"ids": [pick[0] for pick in picks]}, NOTHING)
        if not reply.answered or reply.errors:
            return
        found = reply.field("nodes")
        if not isinstance(found, list) or len(found) != len(picks):
            self.flag("nodes", reply, "not one answer per ID", found)
            return
        for node, picked in zip(found, picks, strict=True):
            self.check_node("nodes", reply, node, picked)

    # -- writes --

    async def create_user(self) -> None:
        ledger = self.world.ledger
        number = self.number()
        email = f"Soak.{self.world.tag}.c{self.index}.{number}@Example.TEST"
        name = f"Soak User {self.index}-{number}"
        sent_name = f"  {name} " if self.rng.random() < 0.3 else name  # stored trimmed
        reply = await self.call(
            "createUser", CREATE_USER, {"input": {"name": sent_name, "email": email}}, NOTHING
        )
        if not reply.answered:
            ledger.unknown["users"] += 1
            ledger.unknown_emails.add(email.lower())
            return
        user = reply.field("createUser")
        if user is None:
            ledger.refused_emails.add(email.lower())
            return
        key = self.key("createUser", reply, user["id"], "User")
        if key is None:
            return
        if (user["name"], user["email"]) != (name, email.lower()):
            self.flag("createUser", reply, "stored other values", user)
        ledger.users[key] = UserRecord(email.lower(), name)
        self.owned_users.append(key)
        self.world.created_users.append(key)

    async def update_user(self) -> None:
        if not self.owned_users:
            await self.create_user()
            return
        key = self.rng.choice(self.owned_users)
        record = self.world.ledger.users[key]
        change: dict[str, str] = {}
        draw = self.rng.random()
        if draw < 0.8:
            change["name"] = f"Soak Renamed {self.index}-{self.number()}"
        if draw > 0.6:
            change["email"] = f"soak.{self.world.tag}.c{self.index}.{self.number()}@EXAMPLE.test"
        reply = await self.call(
            "updateUser", UPDATE_USER, {"id": global_id("User", key), "input": change}, NOTHING
        )
        if not reply.answered:
            record.uncertain = True
            return
        user = reply.field("updateUser")
        if user is None:
            if "email" in change:
                self.world.ledger.refused_emails.add(change["email"].lower())
            return
        record.name = change.get("name", record.name)
        record.email = change.get("email", record.email).lower()
        if (user["name"], user["email"]) != (record.name, record.email):
            self.flag("updateUser", reply, "stored other values", user)

    async def create_post(self) -> None:
        ledger = self.world.ledger
        if self.owned_users and self.rng.random() < 0.5:
            author = self.rng.choice(self.owned_users)
        else:
            author = self.rng.choice(self.world.ref.users)
        title = f"Soak post {self.world.tag} c{self.index} #{self.number()}"
        body = self.sentence(self.rng.randint(5, 40))
        published = self.rng.random() < 0.5
        variables = {
            "input": {
                "authorId": global_id("User", author),
                "title": title,
                "body": body,
                "published": published,
            }
        }
        reply = await self.call("createPost", CREATE_POST, variables, NOTHING)
        if not reply.answered:
            ledger.unknown["posts"] += 1
            return
        post = reply.field("createPost")
        if post is None:
            ledger.refused_titles.add(title)
            return
        key = self.key("createPost", reply, post["id"], "Post")
        if key is None:
            return
        returned = (post["title"], post["body"], post["published"], post["author"]["id"])
        if returned != (title, body, published, global_id("User", author)):
            self.flag("createPost", reply, "stored other values", post)
        ledger.posts[key] = PostRecord(author, title, body, published)
        self.world.posts.change(key, True)
        self.live_posts.append(key)
        self.world.created_posts.append(key)

    async def update_post(self) -> None:
        if not self.live_posts:
            await self.create_post()
            return
        key = self.rng.choice(self.live_posts)
        record = self.world.ledger.posts[key]
        change: dict[str, Any] = {}
        if self.rng.random() < 0.7:
            change["title"] = f"Soak post {self.world.tag} c{self.index} #{self.number()} (edited)"
        if not change or self.rng.random() < 0.5:
            change["published"] = not record.published
        reply = await self.call(
            "updatePost", UPDATE_POST, {"id": global_id("Post", key), "input": change}, NOTHING
        )
        if not reply.answered:
            record.uncertain = True
            return
        post = reply.field("updatePost")
        if post is None:
            return
        record.title = change.get("title", record.title)
        record.published = change.get("published", record.published)
        if (post["title"], post["published"]) != (record.title, record.published):
            self.flag("updatePost", reply, "stored other values", post)

    async def delete_or_restore_post(self) -> None:
        """Soft-delete one of this client's posts, or restore one it deleted earlier.

        Between the two, other clients looking the post up get NOT_FOUND,
        and their comments on it BAD_USER_INPUT: both expected.
        """
        restore = bool(self.deleted_posts) and (not self.live_posts or self.rng.random() < 0.5)
        if not restore and not self.live_posts:
            await self.create_post()
            return
        source, target = (
            (self.deleted_posts, self.live_posts)
            if restore
            else (self.live_posts, self.deleted_posts)
        )
        operation, document = (
            ("restorePost", RESTORE_POST) if restore else ("deletePost", DELETE_POST)
        )
        key = self.rng.choice(source)
        record = self.world.ledger.posts[key]
        self.world.posts.change(key, False)  # in flight: maybe gone for the others
        reply = await self.call(operation, document, {"id": global_id("Post", key)}, NOTHING)
        if not reply.answered:
            record.uncertain = True
            source.remove(key)  # its state is unknown: leave it alone
            return
        post = reply.field(operation)
        if post is None:
            self.world.posts.change(key, not record.deleted)
            return
        record.deleted = not restore
        self.world.posts.change(key, restore)
        source.remove(key)
        target.append(key)
        if (post["deletedAt"] is None) != restore:
            self.flag(operation, reply, "deletedAt wrong", post)

    async def create_comment(self) -> None:
        world = self.world
        ledger = world.ledger
        if world.created_posts and self.rng.random() < 0.25:
            post = self.rng.choice(world.created_posts)  # may be soft-deleted meanwhile
        else:
            post = self.rng.choice(world.ref.posts)
        author = self.stable_user()
        body = f"Soak comment {world.tag} c{self.index} #{self.number()}: {self.sentence(8)}"
        variables = {
            "input": {
                "postId": global_id("Post", post),
                "authorId": global_id("User", author),
                "body": body,
            }
        }
        before = world.posts.snapshot(post)
        post_gone = Expect(frozenset({"BAD_USER_INPUT"}), frozenset({"input.postId"}))
        reply = await self.call(
            "createComment",
            CREATE_COMMENT,
            variables,
            lambda: post_gone if world.posts.maybe_gone(post, before) else NOTHING,
        )
        if not reply.answered:
            ledger.unknown["comments"] += 1
            return
        comment = reply.field("createComment")
        if comment is None:
            ledger.refused_bodies.add(body)
            return
        key = self.key("createComment", reply, comment["id"], "Comment")
        if key is None:
            return
        returned = (comment["body"], comment["post"]["id"], comment["author"]["id"])
        if returned != (body, global_id("Post", post), global_id("User", author)):
            self.flag("createComment", reply, "stored other values", comment)
        ledger.comments[key] = CommentRecord(post, author, body)
        world.comments.change(key, True)
        world.created_comments.append(key)
        world.comment_pool.append(key)

    async def delete_comment(self) -> None:
        """Delete a comment some client created; two clients may race for the same one."""
        world = self.world
        if not world.comment_pool:
            await self.create_comment()
            return
        # Mostly recent comments, so that clients race each other for them.
        recent = world.comment_pool[-RECENT_COMMENTS:]
        key = self.rng.choice(recent if self.rng.random() < 0.5 else world.comment_pool)
        record = world.ledger.comments[key]
        before = world.comments.snapshot(key)
        world.comments.change(key, False)
        reply = await self.call(
            "deleteComment",
            DELETE_COMMENT,
            {"id": global_id("Comment", key)},
            lambda: GONE if world.comments.maybe_gone(key, before, own_changes=1) else NOTHING,
        )
        if key in world.comment_pool:
            world.comment_pool.remove(key)
        if not reply.answered:
            record.uncertain = True
            return
        comment = reply.field("deleteComment")
        codes = {error_kind(error)[0] for error in reply.errors}
        if comment is not None or codes == {"NOT_FOUND"}:
            record.deleted = True  # by this client or, on NOT_FOUND, by another
            if comment is not None and comment["body"] != record.body:
                self.flag("deleteComment", reply, "returned another comment", comment)
        else:
            world.comment_pool.append(key)
        world.comments.change(key, not record.deleted)

    async def assign_role(self) -> None:
        world = self.world
        role = self.rng.choice(list(world.ref.roles))
        if self.owned_users and self.rng.random() < 0.6:
            user = self.rng.choice(self.owned_users)
            hot = False
        else:
            # Every client assigns to the same user (of one role) for a while: identical
            # racing calls, which must all succeed.
            slot = int((time.monotonic() - world.started) / HOT_SLOT_SECONDS)
            user = world.ref.hot_users[slot % len(world.ref.hot_users)]
            hot = True
        await self.membership("assignRole", ASSIGN_ROLE, user, role, hot)

    async def revoke_role(self) -> None:
        if not self.owned_users:
            await self.assign_role()
            return
        user = self.rng.choice(self.owned_users)
        held = sorted(self.world.ledger.users[user].roles)
        if held and self.rng.random() < 0.8:
            role = self.rng.choice(held)
        else:
            role = self.rng.choice(list(self.world.ref.roles))  # revoking twice is fine
        await self.membership("revokeRole", REVOKE_ROLE, user, role, hot=False)

    async def membership(
        self, operation: str, document: str, user: int, role: int, hot: bool
    ) -> None:
        ledger = self.world.ledger
        variables = {"userId": global_id("User", user), "roleId": global_id("Role", role)}
        reply = await self.call(operation, document, variables, NOTHING)
        assign = operation == "assignRole"
        if not reply.answered:
            if hot:
                ledger.hot_unknown.add((user, role))
            else:
                ledger.users[user].uncertain = True
            return
        answer = reply.field(operation)
        if answer is None:
            return
        returned = {decode_id(item["id"]) for item in answer["roles"]}
        if hot:
            ledger.hot_roles.add((user, role))
            if ("Role", role) not in returned:
                self.flag(operation, reply, "role missing from the answer", answer)
            return
        record = ledger.users[user]
        if assign:
            record.roles.add(role)
        else:
            record.roles.discard(role)
        if returned != {("Role", held) for held in record.roles}:
            self.flag(operation, reply, "roles differ from this client's", (answer, record.roles))


# -- the run ------------------------------------------------------------------------


async def drive(
    base_url: str, world: World, clients: int, duration: float, timeout: float, seed: int
) -> tuple[Recorder, float]:
    """Run the clients until the deadline; the recorder and the seconds the run took."""
    recorder = Recorder()
    limits = httpx.Limits(
        max_connections=clients, max_keepalive_connections=clients, keepalive_expiry=KEEPALIVE
    )
    async with httpx.AsyncClient(
        base_url=base_url, timeout=httpx.Timeout(timeout), limits=limits, trust_env=False
    ) as http:
        loop = asyncio.get_running_loop()
        started = loop.time()
        world.started = time.monotonic()
        deadline = started + duration
        users = [Client(index, http, world, recorder, timeout, seed) for index in range(clients)]
        tasks = [asyncio.create_task(user.run(deadline)) for user in users]
        pending: set[asyncio.Task[None]] = set()
        try:
            _, pending = await asyncio.wait(tasks, timeout=duration + timeout + GRACE)
        finally:
            # Also on Ctrl-C: every client stops before the HTTP client closes. The flag
            # too, as Python 3.11's wait_for can swallow a cancellation.
            world.stopping = True
            for task in tasks:
                task.cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
        elapsed = loop.time() - started
        if pending:
            raise RuntimeError(f"{len(pending)} client(s) did not finish in time")
        for result in results:
            if isinstance(result, Exception):
                raise result  # a bug in a client: let it show
    return recorder, elapsed


def copy_dataset(bench: Target) -> Target:
    """A fresh copy of the standard data set for the run: ``ftf_bench_soak`` or ``soak.sqlite3``.

    The copy is made while others may be using the benchmark's database:
    SQLite's online backup, or on PostgreSQL ``ftf migrate`` on a new
    database and a binary ``COPY`` of every table from one snapshot (``CREATE
    DATABASE ... TEMPLATE`` would need ``ftf_bench`` to have no sessions).
    """
    if bench.kind == "sqlite":
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{SOAK_SQLITE_FILE}{suffix}").unlink(missing_ok=True)
        source = sqlite3.connect(dataset.sqlite_path(bench), timeout=30)
        try:
            copy = sqlite3.connect(SOAK_SQLITE_FILE)
            try:
                source.backup(copy)
            finally:
                copy.close()
        finally:
            source.close()
        return Target(
            "sqlite", f"sqlite+aiosqlite:///{SOAK_SQLITE_FILE}", f"sqlite:///{SOAK_SQLITE_FILE}"
        )
    server = bench.floor_url.rsplit("/", 1)[0]
    target = Target(
        "postgresql",
        bench.server_url.rsplit("/", 1)[0] + f"/{SOAK_PG_DATABASE}",
        f"{server}/{SOAK_PG_DATABASE}",
    )
    asyncio.run(_recreate_postgres(server + "/postgres"))
    dataset.migrate(target)
    asyncio.run(_copy_postgres(bench.floor_url, target.floor_url))
    return target


async def _recreate_postgres(maintenance: str) -> None:
    connection = await asyncpg.connect(maintenance, timeout=10)
    try:
        await connection.execute(
            f'DROP DATABASE IF EXISTS "{SOAK_PG_DATABASE}" WITH (FORCE)', timeout=60
        )
        await connection.execute(f'CREATE DATABASE "{SOAK_PG_DATABASE}"', timeout=60)
    finally:
        await asyncio.wait_for(connection.close(), timeout=10)


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


def read_reference(target: Target) -> Reference:
    def ids(sql: str) -> list[int]:
        return [int(row[0]) for row in dataset.query(target, sql)]

    users = ids("SELECT id FROM users WHERE deleted_at IS NULL ORDER BY id")
    posts = ids("SELECT id FROM posts WHERE deleted_at IS NULL ORDER BY id")
    hot = ids(
        "SELECT id FROM users WHERE deleted_at IS NULL AND id IN "
        "(SELECT user_id FROM user_roles GROUP BY user_id HAVING count(*) = 1) ORDER BY id"
    )
    roles = {
        int(key): str(name) for key, name in dataset.query(target, "SELECT id, name FROM roles")
    }
    (row,) = dataset.query(target, _COUNTS)
    pairs = {
        (int(u), int(r))
        for u, r in dataset.query(target, "SELECT user_id, role_id FROM user_roles")
    }
    if not (users and posts and hot and roles):
        raise RuntimeError(f"{target.kind}: the data set is smaller than the standard one")
    return Reference(
        users, posts, roles, hot, int(row[0]), int(row[1]), int(row[2]), tuple(row[3:]), pairs
    )


_COUNTS = (
    "SELECT (SELECT max(id) FROM users), (SELECT max(id) FROM posts), "
    "(SELECT max(id) FROM comments), (SELECT count(*) FROM users), "
    "(SELECT count(deleted_at) FROM users), (SELECT count(*) FROM posts), "
    "(SELECT count(deleted_at) FROM posts), (SELECT count(*) FROM comments)"
)


# -- integrity ----------------------------------------------------------------------------


@dataclass(slots=True)
class Check:
    name: str
    checked: int = 0
    skipped: int = 0
    problems: list[str] = field(default_factory=list)


def check_integrity(target: Target, world: World) -> list[Check]:
    """Read the database directly: what the server confirmed is there, nothing else is."""
    ref = world.ref
    ledger = world.ledger
    rows = dataset.query
    checks: list[Check] = []

    # Users created in the run.
    users = Check("users created and updated: the confirmed name and email, live")
    found_users = {
        int(key): (str(email), str(name), bool(deleted))
        for key, email, name, deleted in rows(
            target,
            f"SELECT id, email, name, deleted_at IS NOT NULL FROM users WHERE id > {ref.max_user}",
        )
    }
    for key, record in ledger.users.items():
        if record.uncertain:
            users.skipped += 1
            continue
        users.checked += 1
        if found_users.get(key) != (record.email, record.name, False):
            users.problems.append(f"User {key}: expected {record}, found {found_users.get(key)}")
    checks.append(users)

    extra = Check("no other users: refused creates left nothing, unanswered ones at most one row")
    unknown_users = [key for key in found_users if key not in ledger.users]
    extra.checked = len(found_users)
    for key in unknown_users:
        email = found_users[key][0]
        if email in ledger.refused_emails:
            extra.problems.append(f"User {key}: {email} was refused, yet it exists")
        elif email not in ledger.unknown_emails:
            extra.problems.append(f"User {key}: {email} was never confirmed nor sent")
    checks.append(extra)

    unique = Check("emails unique (case-insensitively) among all users")
    duplicates = rows(
        target, "SELECT lower(email), count(*) FROM users GROUP BY lower(email) HAVING count(*) > 1"
    )
    unique.checked = 1
    unique.problems.extend(f"{email}: {count} rows" for email, count in duplicates)
    checks.append(unique)

    # Posts created in the run.
    posts = Check("posts created: author, title, body, published and deleted as confirmed")
    found_posts = {
        int(key): (int(author), str(title), str(body), bool(published), bool(deleted))
        for key, author, title, body, published, deleted in rows(
            target,
            "SELECT id, user_id, title, body, published, deleted_at IS NOT NULL FROM posts "
            f"WHERE id > {ref.max_post}",
        )
    }
    for key, post in ledger.posts.items():
        if post.uncertain:
            posts.skipped += 1
            continue
        posts.checked += 1
        wanted = (post.author, post.title, post.body, post.published, post.deleted)
        if found_posts.get(key) != wanted:
            posts.problems.append(f"Post {key}: expected {wanted}, found {found_posts.get(key)}")
    strangers = [key for key in found_posts if key not in ledger.posts]
    if len(strangers) > ledger.unknown["posts"]:
        posts.problems.append(
            f"{len(strangers)} unconfirmed post(s), only {ledger.unknown['posts']} unanswered"
        )
    posts.problems.extend(
        f"Post {key}: its create was refused, yet it exists"
        for key in strangers
        if found_posts[key][1] in ledger.refused_titles
    )
    checks.append(posts)

    # Comments created and deleted in the run.
    comments = Check("comments: confirmed ones present as created, deleted ones gone")
    found_comments = {
        int(key): (int(post), int(author), str(body))
        for key, post, author, body in rows(
            target,
            f"SELECT id, post_id, user_id, body FROM comments WHERE id > {ref.max_comment}",
        )
    }
    deleted = 0
    for key, comment in ledger.comments.items():
        if comment.uncertain:
            comments.skipped += 1
            continue
        comments.checked += 1
        if comment.deleted:
            deleted += 1
            if key in found_comments:
                comments.problems.append(f"Comment {key}: deleted, yet it exists")
        elif found_comments.get(key) != (comment.post, comment.author, comment.body):
            confirmed = (comment.post, comment.author, comment.body)
            comments.problems.append(
                f"Comment {key}: expected {confirmed}, found {found_comments.get(key)}"
            )
    comments.name += f" ({deleted} deleted)"
    strangers = [key for key in found_comments if key not in ledger.comments]
    if len(strangers) > ledger.unknown["comments"]:
        comments.problems.append(
            f"{len(strangers)} unconfirmed comment(s), only {ledger.unknown['comments']} unanswered"
        )
    comments.problems.extend(
        f"Comment {key}: its create was refused, yet it exists"
        for key in strangers
        if found_comments[key][2] in ledger.refused_bodies
    )
    checks.append(comments)

    # Roles.
    roles = Check(
        "roles: created users hold exactly their confirmed roles, seeded users gained only"
        " confirmed ones"
    )
    pairs = {(int(u), int(r)) for u, r in rows(target, "SELECT user_id, role_id FROM user_roles")}
    holding: dict[int, set[int]] = {}
    for user_key, role_key in pairs:
        holding.setdefault(user_key, set()).add(role_key)
    for key, user in ledger.users.items():
        if user.uncertain:
            roles.skipped += 1
            continue
        roles.checked += 1
        held = holding.get(key, set())
        if held != user.roles:
            roles.problems.append(
                f"User {key}: roles {sorted(held)}, confirmed {sorted(user.roles)}"
            )
    seeded_now = {pair for pair in pairs if pair[0] <= ref.max_user}
    wanted_pairs = ref.seeded_roles | ledger.hot_roles
    roles.checked += len(wanted_pairs)
    roles.problems.extend(
        f"user_roles {pair}: confirmed, missing" for pair in wanted_pairs - seeded_now
    )
    roles.problems.extend(
        f"user_roles {pair}: never confirmed"
        for pair in seeded_now - wanted_pairs - ledger.hot_unknown
    )
    checks.append(roles)

    seeded = Check("seeded rows: counts and soft-deleted counts unchanged")
    (now,) = rows(
        target,
        f"SELECT (SELECT count(*) FROM users WHERE id <= {ref.max_user}), "
        f"(SELECT count(deleted_at) FROM users WHERE id <= {ref.max_user}), "
        f"(SELECT count(*) FROM posts WHERE id <= {ref.max_post}), "
        f"(SELECT count(deleted_at) FROM posts WHERE id <= {ref.max_post}), "
        f"(SELECT count(*) FROM comments WHERE id <= {ref.max_comment})",
    )
    seeded.checked = 5
    if tuple(now) != ref.seeded_counts:
        seeded.problems.append(
            f"users, deleted, posts, deleted, comments: {ref.seeded_counts} → {tuple(now)}"
        )
    checks.append(seeded)
    return checks


# -- the server's log ------------------------------------------------------------------------


@dataclass(slots=True)
class LogSummary:
    requests: int = 0
    soak_requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)
    max_ms: float = 0.0
    errors: list[str] = field(default_factory=list)
    error_count: int = 0
    other_lines: int = 0


def read_server_log(path: Path, tag: str) -> LogSummary:
    """One JSON line per request (``server.request``), and error records with their request id."""
    summary = LogSummary()
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if not isinstance(record, dict):
            summary.other_lines += 1
            continue
        if record.get("logger") == "server.request":
            summary.requests += 1
            if str(record.get("request_id", "")).startswith(f"soak-{tag}-"):
                summary.soak_requests += 1
                summary.statuses[int(record.get("status", 0))] += 1
                summary.codes.update(str(code) for code in record.get("error_codes") or [])
                summary.max_ms = max(summary.max_ms, float(record.get("duration_ms", 0)))
        elif record.get("level") in ("error", "critical") or "exception" in record:
            summary.error_count += 1
            if len(summary.errors) < EXAMPLES:
                last = str(record.get("exception", "")).strip().splitlines()[-1:]
                summary.errors.append(f"{record.get('message')} — {' '.join(last)}")
    return summary


def prune_logs(kind: Kind) -> None:
    """Keep the server logs of the last few runs on ``kind``; this run adds one."""
    logs = sorted(
        services.LOGS.glob(f"{kind}-soak-*-server.log"), key=lambda path: path.stat().st_mtime
    )
    for old in logs[: max(0, len(logs) - (KEPT_LOGS - 1))]:
        old.unlink(missing_ok=True)


def session_cpu_seconds(session: int) -> float:
    """CPU time (user and system) of the live processes of a session: the server, its workers."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[3]) == session:  # state, ppid, pgrp, session, ...; utime, stime
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


# -- the report ---------------------------------------------------------------------------------


def percentile(ordered: list[float], q: float) -> float:
    if not ordered:
        return math.nan
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _row(name: str, stats: OpStats, elapsed: float) -> str:
    ordered = sorted(stats.latencies)
    count = len(ordered)
    figures = [percentile(ordered, q) * 1000 for q in (0.5, 0.9, 0.99, 1.0)]
    timings = " ".join(f"{value:8.1f}" for value in figures)
    errors = f"{stats.expected_requests:9d} {stats.unexpected_requests:10d}"
    return f"{name:<17} {count:8d} {count / elapsed:8.1f} {timings} {errors}"


def merge(stats: Iterable[OpStats]) -> OpStats:
    total = OpStats()
    for one in stats:
        total.latencies.extend(one.latencies)
        total.expected.update(one.expected)
        total.unexpected.update(one.unexpected)
        total.expected_requests += one.expected_requests
        total.unexpected_requests += one.unexpected_requests
    return total


def report(recorder: Recorder, elapsed: float, header: str) -> str:
    lines = [header, ""]
    lines.append(
        f"{'operation':<17} {'requests':>8} {'req/s':>8} {'p50 ms':>8} {'p90 ms':>8} "
        f"{'p99 ms':>8} {'max ms':>8} {'expected':>9} {'unexpected':>10}"
    )
    for name in sorted(recorder.ops):
        lines.append(_row(name, recorder.ops[name], elapsed))
    total = merge(recorder.ops.values())
    lines.append(_row("all", total, elapsed))
    lines.append("")
    lines.append("expected errors (by kind, per operation):")
    expected = [
        f"  {name}: {kind} × {count}"
        for name in sorted(recorder.ops)
        for kind, count in sorted(recorder.ops[name].expected.items())
    ]
    lines.extend(expected or ["  none"])
    lines.append("unexpected errors (by kind, per operation):")
    unexpected = [
        f"  {name}: {kind} × {count}"
        for name in sorted(recorder.ops)
        for kind, count in sorted(recorder.ops[name].unexpected.items())
    ]
    lines.extend(unexpected or ["  none"])
    if recorder.examples:
        lines.append("first unexpected errors (request id → the server log):")
        lines.extend(
            f"  {ex.request_id} {ex.operation}: {ex.kind}: {ex.detail}" for ex in recorder.examples
        )
    return "\n".join(lines)


# -- the command ----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak",
        description="Issue 5's load script: concurrent clients on a mix of queries and mutations.",
    )
    parser.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    parser.add_argument("--seed", type=int, default=1, help="the clients' random seed")
    parser.add_argument(
        "--postgres",
        default="postgresql://postgres@127.0.0.1:5432",
        help="the PostgreSQL server (ftf_bench is prepared, and copied to ftf_bench_soak)",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.duration <= MAX_DURATION:
        parser.error(f"--duration must be between 1 and {MAX_DURATION}")
    if not 1 <= args.clients <= MAX_CLIENTS:
        parser.error(f"--clients must be between 1 and {MAX_CLIENTS}")
    if not 1 <= args.workers <= MAX_WORKERS:
        parser.error(f"--workers must be between 1 and {MAX_WORKERS}")
    if not 0.1 <= args.timeout <= 120:
        parser.error("--timeout must be between 0.1 and 120")
    return args


@dataclass(slots=True)
class _Stop:
    """What SIGTERM stops: the load while it runs, else the main thread."""

    task: asyncio.Task[Any] | None = None
    signum: int | None = None


_STOP = _Stop()


def _terminate(signum: int, _frame: FrameType | None) -> None:
    """SIGTERM: cancel the load, as Ctrl-C does (the clients stop, then the server); else raise."""
    _STOP.signum = signum
    task = _STOP.task
    if task is None or task.done():
        raise KeyboardInterrupt
    task.cancel()
    task.get_loop().call_soon_threadsafe(lambda: None)  # wake the loop up from select()


async def _stoppable(load: Coroutine[Any, Any, _T]) -> _T:
    _STOP.task = asyncio.current_task()
    try:
        return await load
    finally:
        _STOP.task = None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    kind: Kind = args.db
    executable = Path(sys.executable)
    python = (
        str(executable.relative_to(dataset.ROOT))
        if executable.is_relative_to(dataset.ROOT)
        else "python"
    )
    command = shlex.join([python, "-m", "bench.soak", *(sys.argv[1:] if argv is None else argv)])
    try:
        (bench_target,) = dataset.targets([kind], args.postgres)
        dataset.prepare(bench_target, log)
        log(f"{kind}: copying the standard data set for the run")
        target = copy_dataset(bench_target)
        ref = read_reference(target)
        tag = os.urandom(3).hex()
        prune_logs(kind)
        world = World(ref, tag, time.monotonic())
        environment = {"DATABASE_URL": target.server_url, "LOG_LEVEL": "info"}
        server = services.start_server(
            target, workers=args.workers, environment=environment, name=f"{kind}-soak-{tag}-server"
        )
        try:
            server.wait_ready()
            log(
                f"{kind}: server on :{server.port} ({args.workers} worker(s)); "
                f"{args.clients} clients for {args.duration:g} s"
            )
            server_cpu = session_cpu_seconds(server.process.pid)
            client_cpu = time.process_time()
            recorder, elapsed = asyncio.run(
                _stoppable(
                    drive(
                        server.base_url, world, args.clients, args.duration, args.timeout, args.seed
                    )
                )
            )
            client_cpu = time.process_time() - client_cpu
            server_cpu = session_cpu_seconds(server.process.pid) - server_cpu
            server.check_alive()
        finally:
            server.stop()
        log(f"{kind}: server stopped; checking the database")
        checks = check_integrity(target, world)
        server_log = read_server_log(server.log_path, tag)
    except (KeyboardInterrupt, asyncio.CancelledError):
        log(f"{'terminated' if _STOP.signum else 'interrupted'}; the server is stopped")
        return 128 + (_STOP.signum or signal.SIGINT)
    except (RuntimeError, OSError, subprocess.SubprocessError, asyncpg.PostgresError) as exc:
        log(f"stopped: {type(exc).__name__}: {exc}")
        return 2

    load = os.getloadavg()
    header = (
        f"{command}\n{kind} ({dataset.server_version(target)}), {args.workers} worker(s), "
        f"{args.clients} clients, {elapsed:.1f} s, request timeout {args.timeout:g} s, "
        f"load average {load[0]:.2f} at the end\n"
        f"CPU used during the load: server {server_cpu:.1f} s "
        f"({100 * server_cpu / elapsed:.0f}% of one core), this load generator "
        f"{client_cpu:.1f} s ({100 * client_cpu / elapsed:.0f}%), on {os.cpu_count()} cores"
    )
    print(report(recorder, elapsed, header))
    print()
    print("integrity (read from the database after the server stopped):")
    failed = 0
    for check in checks:
        mark = "✗" if check.problems else "✓"
        skipped = f", {check.skipped} skipped (no answer)" if check.skipped else ""
        print(f"  {mark} {check.name}: {check.checked} checked{skipped}")
        for problem in check.problems[:10]:
            print(f"      {problem}")
        failed += bool(check.problems)
    unknown = sum(world.ledger.unknown.values())
    if unknown:
        print(
            "  creates without an answer (may or may not have committed): "
            f"{dict(world.ledger.unknown)}"
        )
    print()
    sent = sum(len(stats.latencies) for stats in recorder.ops.values())
    print(
        f"server log {server.log_path.relative_to(dataset.ROOT)}: {server_log.soak_requests} "
        f"request lines of this run for {sent} requests sent ({recorder.answered} answered "
        "with a GraphQL body), "
        f"statuses {dict(server_log.statuses)}, error codes {dict(server_log.codes) or 'none'}, "
        f"slowest {server_log.max_ms:.0f} ms, {server_log.error_count} error record(s)"
    )
    for line in server_log.errors:
        print(f"  {line}")
    unexpected = sum(stats.unexpected_requests for stats in recorder.ops.values())
    bad = unexpected or failed or server_log.error_count
    verdict = "FAILED" if bad else "OK"
    print(
        f"\n{verdict}: {unexpected} request(s) with unexpected errors, {failed} failed integrity "
        f"check(s), {server_log.error_count} error record(s) in the server log"
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
