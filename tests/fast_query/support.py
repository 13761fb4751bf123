"""A small blog the tests read (users, posts, comments, roles), and helpers.

conftest.py seeds it per test (``blog``) or once per module (``module_blog``).

The shapes the tests rely on:

* users Ada, Bob, Dee and Eve are live; Cyd is soft-deleted.
* Ada has two live posts ("GraphQL basics", "SQL tricks") and a soft-deleted
  one ("Old news"); Bob has "Bob writes"; Cyd (trashed) has "Ghost story";
  Eve's only post, "Eve's draft", is soft-deleted; Dee has none.
* comments: "Great intro" (by Bob) and "Thanks" (by Ada) on "GraphQL basics",
  "Stale" (by Bob) on "Old news", "Hidden" (by Ada) on "Eve's draft", "Boo"
  (by Dee) on "Ghost story".
* roles: admin (Ada), editor (Ada, Bob), reader (Cyd only), guest (nobody).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

import repositories
from fast_query import ColumnRule, QueryBuilder
from models import Comment, Post, Role, User, user_roles

EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Blog:
    """Primary keys of the blog's rows, by name, title, body and role name."""

    users: dict[str, int]
    posts: dict[str, int]
    comments: dict[str, int]
    roles: dict[str, int]


USERS = [  # name, deleted
    ("Ada", False),
    ("Bob", False),
    ("Cyd", True),
    ("Dee", False),
    ("Eve", False),
]
POSTS = [  # title, author, published, deleted
    ("GraphQL basics", "Ada", True, False),
    ("SQL tricks", "Ada", False, False),
    ("Old news", "Ada", True, True),
    ("Bob writes", "Bob", True, False),
    ("Ghost story", "Cyd", True, False),
    ("Eve's draft", "Eve", False, True),
]
COMMENTS = [  # body, post, author
    ("Great intro", "GraphQL basics", "Bob"),
    ("Thanks", "GraphQL basics", "Ada"),
    ("Stale", "Old news", "Bob"),
    ("Hidden", "Eve's draft", "Ada"),
    ("Boo", "Ghost story", "Dee"),
]
ROLES = {"admin": ["Ada"], "editor": ["Ada", "Bob"], "reader": ["Cyd"], "guest": []}


async def insert_rows(
    session: AsyncSession, model: type[Any], key: str, rows: list[dict[str, Any]]
) -> dict[str, int]:
    """Insert ``rows`` in one statement; their new ids by the value of ``key``."""
    statement = insert(model).returning(model.id, sort_by_parameter_order=True)
    ids = (await session.scalars(statement, rows)).all()
    return {row[key]: id for row, id in zip(rows, ids, strict=True)}


async def seed_blog(session: AsyncSession) -> Blog:
    """Insert the blog above with ``session``; the identity map is left empty."""
    users = await insert_rows(
        session,
        User,
        "name",
        [
            {
                "name": name,
                "email": f"{name.lower()}@example.com",
                "created_at": EPOCH + timedelta(hours=index),
                "updated_at": EPOCH + timedelta(hours=index),
                "deleted_at": EPOCH + timedelta(days=30) if deleted else None,
            }
            for index, (name, deleted) in enumerate(USERS)
        ],
    )
    posts = await insert_rows(
        session,
        Post,
        "title",
        [
            {
                "title": title,
                "body": f"{title} body",
                "user_id": users[author],
                "published": published,
                "created_at": EPOCH + timedelta(days=index + 1),
                "updated_at": EPOCH + timedelta(days=index + 1),
                "deleted_at": EPOCH + timedelta(days=30) if deleted else None,
            }
            for index, (title, author, published, deleted) in enumerate(POSTS)
        ],
    )
    comments = await insert_rows(
        session,
        Comment,
        "body",
        [
            {"body": body, "post_id": posts[title], "user_id": users[author]}
            for body, title, author in COMMENTS
        ],
    )
    roles = await insert_rows(session, Role, "name", [{"name": name} for name in ROLES])
    links = [
        {"user_id": users[user], "role_id": roles[role]}
        for role, members in ROLES.items()
        for user in members
    ]
    await session.execute(insert(user_roles), links)
    session.expunge_all()
    return Blog(users=users, posts=posts, comments=comments, roles=roles)


@dataclass(frozen=True, slots=True)
class SeededConnection:
    connection: AsyncConnection
    blog: Blog


SELECT_USERS = (
    "SELECT users.id, users.name, users.email, users.created_at, users.updated_at, "
    "users.deleted_at \nFROM users \n"
)


def where_clause(query: QueryBuilder[Any], dialect: str = "sqlite") -> str:
    """The SQL after ``WHERE`` (values inlined), on one line."""
    sql = " ".join(query.to_sql(dialect).split())
    return sql.split(" WHERE ", 1)[1]


async def users_named(query: QueryBuilder[User]) -> list[str]:
    """The names of the users ``query`` finds, in id order."""
    return [user.name for user in await query.order_by("id").get()]


# -- the app's repositories, without the app's rules ----------------------------------
# fast_query's tests exercise the generic repository on the app's models; the rules of
# section 8 (scopes, masks, write rules) are the app's, tested in tests/schema.


class UserRepository(repositories.UserRepository):
    trashed_scope = None  # type: ignore[assignment]
    masks: ClassVar[dict[str, ColumnRule]] = {}
    can_update = None  # type: ignore[assignment]
    can_delete = None  # type: ignore[assignment]


class PostRepository(repositories.PostRepository):
    scope = None  # type: ignore[assignment]
    trashed_scope = None  # type: ignore[assignment]
    can_update = None  # type: ignore[assignment]
    can_delete = None  # type: ignore[assignment]


class CommentRepository(repositories.CommentRepository):
    scope = None  # type: ignore[assignment]
    can_update = None  # type: ignore[assignment]
    can_delete = None  # type: ignore[assignment]


RoleRepository = repositories.RoleRepository
