"""Helpers for tests that talk to the API over HTTP (httpx against the ASGI app)."""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import event, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from fast_query import Base
from models import Comment, Post, Role, User, user_roles
from tests.verify import verifying


def gid(type_name: str, key: int) -> str:
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()


@dataclass
class GraphQL:
    """Posts GraphQL documents to ``/graphql`` and returns the decoded response."""

    client: httpx.AsyncClient

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        response = await self.post(query, variables, **kwargs)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        operation_name: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        payload: dict[str, Any] = {"query": query}
        if variables is not None:
            payload["variables"] = variables
        if operation_name is not None:
            payload["operationName"] = operation_name
        return await self.client.post("/graphql", json=payload, headers=headers or {})

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        """The ``data`` of a response that must have no errors."""
        body = await self(query, variables)
        assert "errors" not in body, body["errors"]
        return body["data"]

    async def fast(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        """Like ``data``, for a document the fast path must answer: fails if the resolvers did.

        A field the planner does not know sends the whole document to the
        resolvers, which answer alike: only the request log tells.
        """
        with RequestLog() as log:
            response = await self.post(query, variables)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body["errors"]
        answered = log.line(response)["answered_by"]
        assert answered == "fast", f"answered by {answered}, not the fast path: {query}"
        return body["data"]


class RequestLog(logging.Handler):
    """The request log's lines written inside ``with``, found by their response's request id."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: dict[str, dict[str, Any]] = {}
        self._logger = logging.getLogger("server.request")
        self._level = self._logger.level

    def emit(self, record: logging.LogRecord) -> None:
        self.lines[record.__dict__["request_id"]] = record.__dict__

    def __enter__(self) -> RequestLog:
        self._logger.setLevel(logging.INFO)
        self._logger.addHandler(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._logger.removeHandler(self)
        self._logger.setLevel(self._level)

    def line(self, response: httpx.Response) -> dict[str, Any]:
        """The fields of ``response``'s line (``statements``, ``answered_by``, ...)."""
        return self.lines[response.headers["X-Request-ID"]]


class StatementCounter:
    """Counts the SQL statements an engine runs (transaction control excluded)."""

    COUNTED = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.statements: list[str] = []

    def __enter__(self) -> StatementCounter:
        event.listen(self.engine.sync_engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc_info: object) -> None:
        event.remove(self.engine.sync_engine, "before_cursor_execute", self._count)

    def _count(self, _conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if verifying.get():
            return  # the resolvers re-running a fast-path query to compare the two
        if statement.lstrip().upper().startswith(self.COUNTED):
            self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


T0 = datetime(2024, 1, 1, tzinfo=UTC)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


@dataclass
class Dataset:
    """Rows inserted in one batch; keys are the primary keys they got."""

    users: dict[str, int] = field(default_factory=dict)
    posts: dict[str, int] = field(default_factory=dict)
    comments: dict[str, int] = field(default_factory=dict)
    roles: dict[str, int] = field(default_factory=dict)


async def insert_dataset(
    engine: AsyncEngine,
    *,
    users: list[dict[str, Any]] = (),  # type: ignore[assignment]
    posts: list[dict[str, Any]] = (),  # type: ignore[assignment]
    comments: list[dict[str, Any]] = (),  # type: ignore[assignment]
    roles: list[dict[str, Any]] = (),  # type: ignore[assignment]
    memberships: list[tuple[str, str]] = (),  # type: ignore[assignment]
) -> Dataset:
    """Insert rows with explicit keys given as ``key``; relations name other rows' ``key``.

    Users: ``{"key": "ada", "name": ..., "email": ..., "created_at"?, "deleted_at"?}``;
    posts: ``{"key", "author", "title", "body"?, "published"?, ...}``;
    comments: ``{"key", "post", "author", "body"?, ...}``; roles: ``{"key", "name"}``;
    memberships: ``(user key, role key)`` pairs.
    """
    dataset = Dataset()
    async with engine.begin() as connection:
        for index, row in enumerate(users, start=1):
            values = _timestamps(row, index)
            values.update(name=row["name"], email=row["email"], deleted_at=row.get("deleted_at"))
            key = (
                await connection.execute(insert(User).values(values).returning(User.id))
            ).scalar_one()
            dataset.users[row["key"]] = key
        for index, row in enumerate(roles, start=1):
            values = _timestamps(row, index)
            values.update(name=row["name"])
            key = (
                await connection.execute(insert(Role).values(values).returning(Role.id))
            ).scalar_one()
            dataset.roles[row["key"]] = key
        for user_key, role_key in memberships:
            await connection.execute(
                insert(user_roles).values(
                    user_id=dataset.users[user_key], role_id=dataset.roles[role_key]
                )
            )
        for index, row in enumerate(posts, start=1):
            values = _timestamps(row, index)
            values.update(
                user_id=dataset.users[row["author"]],
                title=row["title"],
                body=row.get("body", f"Body of {row['title']}"),
                published=row.get("published", True),
                deleted_at=row.get("deleted_at"),
            )
            key = (
                await connection.execute(insert(Post).values(values).returning(Post.id))
            ).scalar_one()
            dataset.posts[row["key"]] = key
        for index, row in enumerate(comments, start=1):
            values = _timestamps(row, index)
            values.update(
                post_id=dataset.posts[row["post"]],
                user_id=dataset.users[row["author"]],
                body=row.get("body", f"Comment {row['key']}"),
            )
            key = (
                await connection.execute(insert(Comment).values(values).returning(Comment.id))
            ).scalar_one()
            dataset.comments[row["key"]] = key
    return dataset


def _timestamps(row: dict[str, Any], index: int) -> dict[str, Any]:
    created = row.get("created_at", at(index))
    return {"created_at": created, "updated_at": row.get("updated_at", created)}


async def snapshot(engine: AsyncEngine) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, in key order: compare two to prove nothing changed."""
    tables: dict[str, list[dict[str, Any]]] = {}
    async with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            result = await connection.execute(select(table).order_by(*table.primary_key.columns))
            tables[table.name] = [dict(row) for row in result.mappings()]
    return tables


def iso(moment: datetime) -> str:
    """A datetime as the API writes it: ISO 8601, microseconds, ``+00:00``."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def field_error(body: dict[str, Any], field: str) -> dict[str, Any]:
    """The one error of a response whose only root field, ``field``, failed (``data`` checked)."""
    assert body["data"] == {field: None}
    errors: list[dict[str, Any]] = body["errors"]
    assert len(errors) == 1, errors
    assert errors[0]["path"] == [field]
    return errors[0]
