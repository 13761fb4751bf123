"""Who may see what (contract section 8): generated data, viewers and documents against an oracle.

Hypothesis makes a small blog (users with random roles, some soft-deleted;
posts published or not, some soft-deleted; comments), picks viewers
(anonymous, or a live user with whatever roles it got) and writes documents
from a small grammar: the root lists with ``trashed``, filters (``email``
and its masked ``null``, ``published``, relation filters, ``and``/``or``/
``not``), orders (``EMAIL`` among them), small pages walked to the end with
``after``, ``totalCount``, nested connections, ``node``/``nodes`` and typed
lookups. The expected answer is computed here from the same rows by a plain
statement of the contract's rules (``Contract``), which is checked to agree
with the repositories' declarative rules evaluated in Python
(``Rule.allows``). The app's endpoint (``tests.verify``) also runs every
read through the resolvers and fails when they differ from the fast path.
"""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from models import Comment, Post, Role, User, user_roles
from repositories.comment import READS_COMMENT, CommentRepository
from repositories.post import MANAGES_POST, READS_POST, PostRepository
from repositories.rules import viewer_params
from repositories.user import MANAGES_USER, UserRepository
from tests.api import Dataset, GraphQL, at, gid
from tests.schema.conftest import empty_tables

PROPERTY = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # one app and engine serve every example
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

ROLE_NAMES = ("admin", "editor", "moderator", "reader")
#: Fixed-length, lower-case local parts: every collation orders them as Python does.
LOCALS = ("aaa", "abc", "bca", "cab", "kkk", "mno", "xyz", "zed")
DOMAIN = "@example.com"
NAMES = ("ab", "ba", "cd")  # repeated on purpose: ties fall back on the id
TITLES = ("x", "y")
MISSING_KEY = 2_000_000_000  # beyond every key a test makes


# -- the data ------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserRow:
    name: str
    email: str
    deleted: bool
    roles: frozenset[str]


@dataclass(frozen=True)
class PostRow:
    author: int  # index into World.users
    title: str
    published: bool
    deleted: bool


@dataclass(frozen=True)
class CommentRow:
    post: int  # index into World.posts
    author: int  # index into World.users


@dataclass(frozen=True)
class World:
    users: tuple[UserRow, ...]
    posts: tuple[PostRow, ...]
    comments: tuple[CommentRow, ...]


@st.composite
def worlds(draw: st.DrawFn) -> World:
    locals_ = draw(st.lists(st.sampled_from(LOCALS), min_size=2, max_size=5, unique=True))
    users = tuple(
        UserRow(
            name=draw(st.sampled_from(NAMES)),
            email=local + DOMAIN,
            deleted=draw(st.integers(0, 2)) == 0,
            roles=frozenset(draw(st.sets(st.sampled_from(ROLE_NAMES), max_size=2))),
        )
        for local in locals_
    )
    posts = tuple(
        PostRow(
            author=draw(st.integers(0, len(users) - 1)),
            title=draw(st.sampled_from(TITLES)),
            published=draw(st.booleans()),
            deleted=draw(st.integers(0, 2)) == 0,
        )
        for _ in range(draw(st.integers(0, 7)))
    )
    comments: tuple[CommentRow, ...] = ()
    if posts:
        comments = tuple(
            CommentRow(
                post=draw(st.integers(0, len(posts) - 1)),
                author=draw(st.integers(0, len(users) - 1)),
            )
            for _ in range(draw(st.integers(0, 7)))
        )
    return World(users, posts, comments)


#: Each batch of rows gets keys no earlier batch of this run used (``insert_fresh``).
_BLOCKS = itertools.count(1)
BLOCK = 1000


async def insert_fresh(
    engine: AsyncEngine,
    *,
    users: list[dict[str, Any]],
    roles: list[dict[str, Any]] = (),  # type: ignore[assignment]
    memberships: list[tuple[str, str]] = (),  # type: ignore[assignment]
    posts: list[dict[str, Any]] = (),  # type: ignore[assignment]
    comments: list[dict[str, Any]] = (),  # type: ignore[assignment]
) -> Dataset:
    """``tests.api.insert_dataset`` (same rows), with keys no other batch of the run had.

    A user's id must not come back with other roles or another deleted state:
    the server may keep a viewer it read for a moment (the contract gives a
    role change or a soft delete one second to hold), and a token names its
    user by id. (The tables are emptied between tests, so plain inserts
    would hand out the same ids again.)
    """
    base = next(_BLOCKS) * BLOCK
    assert max(len(users), len(roles), len(posts), len(comments)) < BLOCK
    keys = Dataset(
        users={row["key"]: base + i for i, row in enumerate(users)},
        roles={row["key"]: base + i for i, row in enumerate(roles)},
        posts={row["key"]: base + i for i, row in enumerate(posts)},
        comments={row["key"]: base + i for i, row in enumerate(comments)},
    )
    statements = [
        insert(User).values(
            id=keys.users[row["key"]],
            name=row["name"],
            email=row["email"],
            deleted_at=row.get("deleted_at"),
            **stamps(i),
        )
        for i, row in enumerate(users)
    ]
    statements += [
        insert(Role).values(id=keys.roles[row["key"]], name=row["name"], **stamps(i))
        for i, row in enumerate(roles)
    ]
    statements += [
        insert(user_roles).values(user_id=keys.users[user], role_id=keys.roles[role])
        for user, role in memberships
    ]
    statements += [
        insert(Post).values(
            id=keys.posts[row["key"]],
            user_id=keys.users[row["author"]],
            title=row["title"],
            body=row.get("body", f"Body of {row['title']}"),
            published=row.get("published", True),
            deleted_at=row.get("deleted_at"),
            **stamps(i),
        )
        for i, row in enumerate(posts)
    ]
    statements += [
        insert(Comment).values(
            id=keys.comments[row["key"]],
            post_id=keys.posts[row["post"]],
            user_id=keys.users[row["author"]],
            body=row.get("body", f"Comment {row['key']}"),
            **stamps(i),
        )
        for i, row in enumerate(comments)
    ]
    async with engine.begin() as connection:
        for statement in statements:
            await connection.execute(statement)
    return keys


def stamps(index: int) -> dict[str, Any]:
    """Creation and update times that grow with the key (``CREATED_AT`` orders as ``ID``)."""
    return {"created_at": at(index + 1), "updated_at": at(index + 1)}


async def insert_world(engine: AsyncEngine, world: World) -> Dataset:
    return await insert_fresh(
        engine,
        users=[
            {
                "key": f"u{i}",
                "name": user.name,
                "email": user.email,
                "deleted_at": at(100 + i) if user.deleted else None,
            }
            for i, user in enumerate(world.users)
        ],
        roles=[{"key": name, "name": name} for name in ROLE_NAMES],
        memberships=[
            (f"u{i}", role) for i, user in enumerate(world.users) for role in sorted(user.roles)
        ],
        posts=[
            {
                "key": f"p{i}",
                "author": f"u{post.author}",
                "title": post.title,
                "published": post.published,
                "deleted_at": at(200 + i) if post.deleted else None,
            }
            for i, post in enumerate(world.posts)
        ],
        comments=[
            {"key": f"c{i}", "post": f"p{comment.post}", "author": f"u{comment.author}"}
            for i, comment in enumerate(world.comments)
        ],
    )


# -- the contract, stated plainly ---------------------------------------------------------


@dataclass(frozen=True)
class Contract:
    """Section 8 for one viewer (``None``: anonymous; else an index into ``world.users``)."""

    world: World
    viewer: int | None

    def role(self, name: str) -> bool:
        return self.viewer is not None and name in self.world.users[self.viewer].roles

    # Posts: published ones for everyone; the rest for the author, editors and admins.
    def manages_post(self, post: int) -> bool:
        return (
            self.world.posts[post].author == self.viewer
            or self.role("editor")
            or self.role("admin")
        )

    def reads_post(self, post: int) -> bool:
        """Readable, soft-deleted or not (what a comment's visibility follows)."""
        return self.world.posts[post].published or self.manages_post(post)

    def lists_post(self, post: int, trashed: str = "WITHOUT") -> bool:
        deleted = self.world.posts[post].deleted
        if not self.reads_post(post):
            return False
        if trashed == "WITHOUT":
            return not deleted
        # Soft-deleted posts: to their author, editors and admins only.
        shown_trashed = deleted and self.manages_post(post)
        return shown_trashed if trashed == "ONLY" else (not deleted or shown_trashed)

    # Comments: visible when their post is.
    def reads_comment(self, comment: int) -> bool:
        return self.reads_post(self.world.comments[comment].post)

    def updates_comment(self, comment: int) -> bool:
        return self.world.comments[comment].author == self.viewer or self.role("admin")

    def deletes_comment(self, comment: int) -> bool:
        row = self.world.comments[comment]
        return (
            row.author == self.viewer
            or self.world.posts[row.post].author == self.viewer
            or self.role("moderator")
            or self.role("admin")
        )

    # Users: everyone sees them; soft-deleted ones only admins, with trashed.
    def lists_user(self, user: int, trashed: str = "WITHOUT") -> bool:
        deleted = self.world.users[user].deleted
        if trashed == "WITHOUT":
            return not deleted
        if trashed == "ONLY":
            return deleted and self.role("admin")
        return not deleted or self.role("admin")

    def manages_user(self, user: int) -> bool:
        """Sees the email; may update and delete the user."""
        return user == self.viewer or self.role("admin")

    def email(self, user: int) -> str | None:
        return self.world.users[user].email if self.manages_user(user) else None

    # viewerCanUpdate / viewerCanDelete: whether the mutation would be allowed (a
    # soft-deleted row's update or delete is NOT_FOUND, so never for those).
    def can_user(self, user: int) -> tuple[bool, bool]:
        allowed = self.manages_user(user) and not self.world.users[user].deleted
        return allowed, allowed

    def can_post(self, post: int) -> tuple[bool, bool]:
        allowed = self.manages_post(post) and not self.world.posts[post].deleted
        return allowed, allowed

    def can_comment(self, comment: int) -> tuple[bool, bool]:
        return self.updates_comment(comment), self.deletes_comment(comment)


def check_rules_agree(world: World, viewer: int | None, keys: Dataset | None = None) -> None:
    """The repositories' rules, evaluated in Python, say what ``Contract`` says."""
    contract = Contract(world, viewer)

    def user_id(index: int) -> int:
        return keys.users[f"u{index}"] if keys else index + 1

    roles = world.users[viewer].roles if viewer is not None else ()
    params = viewer_params(None if viewer is None else user_id(viewer), roles)
    users = [
        SimpleNamespace(id=user_id(i), deleted_at=at(1) if u.deleted else None)
        for i, u in enumerate(world.users)
    ]
    posts = [
        SimpleNamespace(
            id=i + 1,
            user_id=user_id(p.author),
            published=p.published,
            deleted_at=at(1) if p.deleted else None,
        )
        for i, p in enumerate(world.posts)
    ]
    for i, user in enumerate(users):
        assert MANAGES_USER.allows(user, params) == contract.manages_user(i)
        assert UserRepository.masks["email"].allows(user, params) == contract.manages_user(i)
        assert UserRepository.can_update is not None and UserRepository.can_delete is not None
        assert UserRepository.can_update.allows(user, params) == contract.manages_user(i)
        assert UserRepository.can_delete.allows(user, params) == contract.manages_user(i)
    for i, post in enumerate(posts):
        assert READS_POST.allows(post, params) == contract.reads_post(i)
        assert MANAGES_POST.allows(post, params) == contract.manages_post(i)
        assert PostRepository.can_update is not None and PostRepository.can_delete is not None
        assert PostRepository.can_update.allows(post, params) == contract.manages_post(i)
        assert PostRepository.can_delete.allows(post, params) == contract.manages_post(i)
    for i, c in enumerate(world.comments):
        comment = SimpleNamespace(user_id=user_id(c.author), post=posts[c.post])
        assert READS_COMMENT.allows(comment, params) == contract.reads_comment(i)
        assert CommentRepository.can_update is not None
        assert CommentRepository.can_delete is not None
        assert CommentRepository.can_update.allows(comment, params) == contract.updates_comment(i)
        assert CommentRepository.can_delete.allows(comment, params) == contract.deletes_comment(i)


def viewers(world: World) -> st.SearchStrategy[int | None]:
    """Anonymous, or a live user (a soft-deleted user's token is refused: not a viewer)."""
    live = [i for i, user in enumerate(world.users) if not user.deleted]
    return st.one_of(st.none(), st.sampled_from(live)) if live else st.none()


@given(world=worlds(), data=st.data())
@settings(max_examples=200, deadline=None, derandomize=True, database=None)
def test_the_repositories_rules_are_the_contracts(world: World, data: st.DataObject) -> None:
    check_rules_agree(world, data.draw(viewers(world)))


# -- filters: a small grammar, rendered as GraphQL and evaluated as SQL would ---------------
#
# A filter is a tuple: (operator, operand). Evaluation follows SQL's three-valued logic
# (``None`` is unknown), which is what "filters see null for a hidden email" means:
# ``email: {eq: ...}`` is unknown for a masked email, and so is ``not`` of it.

Filter = tuple[Any, ...]
Truth = bool | None


def and3(values: list[Truth]) -> Truth:
    if any(value is False for value in values):
        return False
    return None if any(value is None for value in values) else True


def or3(values: list[Truth]) -> Truth:
    if any(value is True for value in values):
        return True
    return None if any(value is None for value in values) else False


def not3(value: Truth) -> Truth:
    return None if value is None else not value


def user_filters(depth: int) -> st.SearchStrategy[Filter]:
    emails = st.sampled_from([local + DOMAIN for local in LOCALS[:5]] + ["no" + DOMAIN])
    leaves = st.one_of(
        st.tuples(st.just("email_eq"), emails),
        st.tuples(st.just("email_ne"), emails),
        st.tuples(st.just("email_null"), st.booleans()),
        st.tuples(st.just("email_contains"), st.sampled_from(["a", "c", "b@", DOMAIN, "q"])),
        st.tuples(st.just("name_eq"), st.sampled_from(NAMES)),
    )
    if depth == 0:
        return leaves
    inner = user_filters(depth - 1)
    return st.one_of(
        leaves,
        st.tuples(st.sampled_from(["posts_some", "posts_none"]), post_filters(depth - 1)),
        st.tuples(st.just("not"), inner),
        st.tuples(st.sampled_from(["and", "or"]), st.lists(inner, min_size=1, max_size=2)),
    )


def post_filters(depth: int) -> st.SearchStrategy[Filter]:
    leaves = st.one_of(
        st.tuples(st.just("published"), st.booleans()),
        st.tuples(st.just("title_eq"), st.sampled_from(TITLES)),
    )
    if depth == 0:
        return leaves
    return st.one_of(
        leaves,
        st.tuples(st.just("author"), user_filters(depth - 1)),
        st.tuples(st.sampled_from(["comments_some", "comments_none"]), comment_filters(depth - 1)),
        st.tuples(st.just("not"), post_filters(depth - 1)),
    )


def comment_filters(depth: int) -> st.SearchStrategy[Filter]:
    if depth == 0:
        return st.tuples(st.just("author"), st.tuples(st.just("name_eq"), st.sampled_from(NAMES)))
    return st.one_of(
        st.tuples(st.just("author"), user_filters(depth - 1)),
        st.tuples(st.just("post"), post_filters(depth - 1)),
    )


def render(f: Filter) -> str:
    op, arg = f
    simple = {
        "email_eq": lambda: f"email: {{eq: {json.dumps(arg)}}}",
        "email_ne": lambda: f"email: {{ne: {json.dumps(arg)}}}",
        "email_null": lambda: f"email: {{isNull: {json.dumps(arg)}}}",
        "email_contains": lambda: f"email: {{contains: {json.dumps(arg)}}}",
        "name_eq": lambda: f"name: {{eq: {json.dumps(arg)}}}",
        "published": lambda: f"published: {{eq: {json.dumps(arg)}}}",
        "title_eq": lambda: f"title: {{eq: {json.dumps(arg)}}}",
        "posts_some": lambda: f"posts: {{some: {render(arg)}}}",
        "posts_none": lambda: f"posts: {{none: {render(arg)}}}",
        "comments_some": lambda: f"comments: {{some: {render(arg)}}}",
        "comments_none": lambda: f"comments: {{none: {render(arg)}}}",
        "author": lambda: f"author: {render(arg)}",
        "post": lambda: f"post: {render(arg)}",
        "not": lambda: f"not: {render(arg)}",
        "and": lambda: f"and: [{', '.join(render(item) for item in arg)}]",
        "or": lambda: f"or: [{', '.join(render(item) for item in arg)}]",
    }
    return "{" + simple[op]() + "}"


@dataclass(frozen=True)
class Oracle:
    """What one viewer should get from a world."""

    contract: Contract

    @property
    def world(self) -> World:
        return self.contract.world

    def user_matches(self, f: Filter, user: int) -> Truth:
        op, arg = f
        seen = self.contract.email(user)
        if op == "email_eq":
            return None if seen is None else bool(seen == arg)
        if op == "email_ne":
            return None if seen is None else bool(seen != arg)
        if op == "email_null":
            return bool((seen is None) == arg)
        if op == "email_contains":
            return None if seen is None else bool(arg in seen)
        if op == "name_eq":
            return bool(self.world.users[user].name == arg)
        if op in ("posts_some", "posts_none"):
            # Only live posts the viewer may read take part.
            found = any(
                post.author == user
                and self.contract.lists_post(i)
                and self.post_matches(arg, i) is True
                for i, post in enumerate(self.world.posts)
            )
            return found if op == "posts_some" else not found
        return self.logic(f, lambda inner: self.user_matches(inner, user))

    def post_matches(self, f: Filter, post: int) -> Truth:
        op, arg = f
        row = self.world.posts[post]
        if op == "published":
            return bool(row.published == arg)
        if op == "title_eq":
            return bool(row.title == arg)
        if op == "author":  # the author even if soft-deleted
            return self.user_matches(arg, row.author) is True
        if op in ("comments_some", "comments_none"):
            found = any(
                comment.post == post
                and self.contract.reads_comment(i)
                and self.comment_matches(arg, i) is True
                for i, comment in enumerate(self.world.comments)
            )
            return found if op == "comments_some" else not found
        return self.logic(f, lambda inner: self.post_matches(inner, post))

    def comment_matches(self, f: Filter, comment: int) -> Truth:
        op, arg = f
        row = self.world.comments[comment]
        if op == "author":
            return self.user_matches(arg, row.author) is True
        if op == "post":  # the post even if soft-deleted
            return self.contract.reads_post(row.post) and self.post_matches(arg, row.post) is True
        raise AssertionError(op)

    @staticmethod
    def logic(f: Filter, evaluate: Callable[[Filter], Truth]) -> Truth:
        op, arg = f
        if op == "not":
            return not3(evaluate(arg))
        if op == "and":
            return and3([evaluate(item) for item in arg])
        if op == "or":
            return or3([evaluate(item) for item in arg])
        raise AssertionError(op)


# -- documents -------------------------------------------------------------------------


@dataclass(frozen=True)
class ListSpec:
    """A root list, walked page by page."""

    root: str  # users, posts, comments
    trashed: str | None
    where: Filter | None
    order: tuple[str, str] | None  # (field, direction)
    first: int
    nested: bool
    nested_first: int
    nested_trashed: str | None  # for User.posts


ORDERS = {
    "users": ("ID", "NAME", "EMAIL"),
    "posts": ("ID", "TITLE"),
    "comments": ("ID", "CREATED_AT"),
}
FILTERS = {"users": user_filters, "posts": post_filters, "comments": comment_filters}
TRASHED = st.sampled_from([None, "WITHOUT", "WITH", "ONLY"])


@st.composite
def list_specs(draw: st.DrawFn, root: str) -> ListSpec:
    order = draw(
        st.none() | st.tuples(st.sampled_from(ORDERS[root]), st.sampled_from(["ASC", "DESC"]))
    )
    if root == "users" and order is None and draw(st.booleans()):
        order = ("EMAIL", draw(st.sampled_from(["ASC", "DESC"])))  # the interesting one
    return ListSpec(
        root=root,
        trashed=None if root == "comments" else draw(TRASHED),
        where=draw(st.none() | FILTERS[root](2)),
        order=order,
        first=draw(st.integers(1, 3)),
        nested=draw(st.booleans()),
        nested_first=draw(st.integers(1, 3)),
        nested_trashed=draw(TRASHED) if root == "users" else None,
    )


USER_FIELDS = "id name email viewerCanUpdate viewerCanDelete"
COMMENT_FIELDS = "id viewerCanUpdate viewerCanDelete author { id email }"


def selection(spec: ListSpec) -> str:
    if spec.root == "users":
        nested = ""
        if spec.nested:
            trashed = f", trashed: {spec.nested_trashed}" if spec.nested_trashed else ""
            nested = (
                f" posts(first: {spec.nested_first}{trashed}) {{ totalCount"
                " nodes { id viewerCanUpdate viewerCanDelete } }"
                f" comments(first: {spec.nested_first}) {{ totalCount nodes {{ id }} }}"
            )
        return USER_FIELDS + nested
    if spec.root == "posts":
        nested = ""
        if spec.nested:
            nested = (
                f" comments(first: {spec.nested_first}) {{ totalCount"
                f" nodes {{ {COMMENT_FIELDS} }} }}"
            )
        return f"id title viewerCanUpdate viewerCanDelete author {{ {USER_FIELDS} }}{nested}"
    return f"{COMMENT_FIELDS} post {{ id viewerCanUpdate viewerCanDelete }}"


def list_document(spec: ListSpec) -> str:
    arguments = [f"first: {spec.first}", "after: $after"]
    if spec.trashed:
        arguments.append(f"trashed: {spec.trashed}")
    if spec.where is not None:
        arguments.append(f"where: {render(spec.where)}")
    if spec.order is not None:
        arguments.append(f"orderBy: [{{field: {spec.order[0]}, direction: {spec.order[1]}}}]")
    return (
        f"query($after: String) {{ {spec.root}({', '.join(arguments)}) {{ totalCount"
        f" nodes {{ {selection(spec)} }} pageInfo {{ hasNextPage endCursor }} }} }}"
    )


@dataclass(frozen=True)
class Ids:
    """Global IDs of the world's rows (``MISSING_KEY``: no row)."""

    keys: Dataset

    def user(self, index: int) -> str:
        return gid("User", self.keys.users[f"u{index}"] if index >= 0 else MISSING_KEY)

    def post(self, index: int) -> str:
        return gid("Post", self.keys.posts[f"p{index}"] if index >= 0 else MISSING_KEY)

    def comment(self, index: int) -> str:
        return gid("Comment", self.keys.comments[f"c{index}"] if index >= 0 else MISSING_KEY)


class Expected:
    """The expected JSON of the parts of a document, for one viewer."""

    def __init__(self, world: World, viewer: int | None, ids: Ids) -> None:
        self.contract = Contract(world, viewer)
        self.oracle = Oracle(self.contract)
        self.world = world
        self.ids = ids

    def user(self, user: int) -> dict[str, Any]:
        can = self.contract.can_user(user)
        return {
            "id": self.ids.user(user),
            "name": self.world.users[user].name,
            "email": self.contract.email(user),
            "viewerCanUpdate": can[0],
            "viewerCanDelete": can[1],
        }

    def comment(self, comment: int) -> dict[str, Any]:
        can = self.contract.can_comment(comment)
        author = self.world.comments[comment].author
        return {
            "id": self.ids.comment(comment),
            "viewerCanUpdate": can[0],
            "viewerCanDelete": can[1],
            "author": {"id": self.ids.user(author), "email": self.contract.email(author)},
        }

    def connection(self, rows: list[int], first: int, node: Callable[[int], Any]) -> Any:
        return {"totalCount": len(rows), "nodes": [node(row) for row in rows[:first]]}

    def node(self, spec: ListSpec, row: int) -> dict[str, Any]:
        world, contract = self.world, self.contract
        if spec.root == "users":
            answer = self.user(row)
            if spec.nested:
                trashed = spec.nested_trashed or "WITHOUT"
                posts = [
                    i
                    for i, post in enumerate(world.posts)
                    if post.author == row and contract.lists_post(i, trashed)
                ]
                comments = [
                    i
                    for i, comment in enumerate(world.comments)
                    if comment.author == row and contract.reads_comment(i)
                ]
                answer["posts"] = self.connection(
                    posts,
                    spec.nested_first,
                    lambda i: {
                        "id": self.ids.post(i),
                        "viewerCanUpdate": contract.can_post(i)[0],
                        "viewerCanDelete": contract.can_post(i)[1],
                    },
                )
                answer["comments"] = self.connection(
                    comments, spec.nested_first, lambda i: {"id": self.ids.comment(i)}
                )
            return answer
        if spec.root == "posts":
            can = contract.can_post(row)
            answer = {
                "id": self.ids.post(row),
                "title": world.posts[row].title,
                "viewerCanUpdate": can[0],
                "viewerCanDelete": can[1],
                "author": self.user(world.posts[row].author),
            }
            if spec.nested:
                comments = [i for i, c in enumerate(world.comments) if c.post == row]
                answer["comments"] = self.connection(comments, spec.nested_first, self.comment)
            return answer
        post = world.comments[row].post
        can = contract.can_post(post)
        return {
            **self.comment(row),
            "post": {
                "id": self.ids.post(post),
                "viewerCanUpdate": can[0],
                "viewerCanDelete": can[1],
            },
        }

    def rows(self, spec: ListSpec) -> list[int]:
        """The rows of a root list, unordered."""
        trashed = spec.trashed or "WITHOUT"
        contract, oracle = self.contract, self.oracle
        if spec.root == "users":
            visible = [i for i in range(len(self.world.users)) if contract.lists_user(i, trashed)]
            matches: Callable[[Filter, int], Truth] = oracle.user_matches
        elif spec.root == "posts":
            visible = [i for i in range(len(self.world.posts)) if contract.lists_post(i, trashed)]
            matches = oracle.post_matches
        else:
            visible = [i for i in range(len(self.world.comments)) if contract.reads_comment(i)]
            matches = oracle.comment_matches
        if spec.where is None:
            return visible
        return [i for i in visible if matches(spec.where, i) is True]

    def orders(self, spec: ListSpec, rows: list[int]) -> list[list[int]]:
        """The orders the contract allows for ``rows``: one, or two for ``EMAIL``.

        A hidden email sorts as ``null``: the contract does not say where ``null``
        goes, only that the hidden rows are one group (ordered by id, in the direction).
        """
        field, direction = spec.order or ("ID", "ASC")
        descending = direction == "DESC"

        def key_of(row: int) -> Any:
            if field == "NAME":
                return self.world.users[row].name
            if field == "TITLE":
                return self.world.posts[row].title
            return 0  # ID, CREATED_AT (which follows the id here)

        def key_id(row: int) -> int:
            return {"users": self.ids.keys.users, "posts": self.ids.keys.posts}.get(
                spec.root, self.ids.keys.comments
            )[f"{spec.root[0]}{row}"]

        if field != "EMAIL":
            return [sorted(rows, key=lambda r: (key_of(r), key_id(r)), reverse=descending)]
        hidden = sorted(
            (r for r in rows if self.contract.email(r) is None), key=key_id, reverse=descending
        )
        shown = sorted(
            (r for r in rows if self.contract.email(r) is not None),
            key=lambda r: (self.contract.email(r), key_id(r)),
            reverse=descending,
        )
        return [hidden + shown, shown + hidden]


# -- lookups ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lookup:
    field: str  # node, nodes, user, post, comment
    type_name: str  # User, Post, Comment
    indexes: tuple[int, ...]  # -1: a missing row
    trashed: str | None


@st.composite
def lookups(draw: st.DrawFn, world: World) -> Lookup:
    sizes = {"User": len(world.users), "Post": len(world.posts), "Comment": len(world.comments)}
    field = draw(st.sampled_from(["node", "nodes", "user", "post", "comment"]))
    type_name = {"user": "User", "post": "Post", "comment": "Comment"}.get(field)
    if type_name is None:
        type_name = draw(st.sampled_from(sorted(sizes)))
    index = st.integers(-1, sizes[type_name] - 1)
    count = draw(st.integers(1, 3)) if field == "nodes" else 1
    return Lookup(
        field,
        type_name,
        tuple(draw(index) for _ in range(count)),
        draw(TRASHED) if field in ("user", "post") else None,
    )


NODE_SELECTION = (
    "{ __typename ... on User { id email viewerCanUpdate } ... on Post { id viewerCanDelete }"
    " ... on Comment { id viewerCanDelete } }"
)


def lookup_document(items: list[Lookup], ids: Ids) -> str:
    parts = []
    for n, item in enumerate(items):
        given = [ids_of(ids, item.type_name, index) for index in item.indexes]
        if item.field == "node":
            parts.append(f"l{n}: node(id: {json.dumps(given[0])}) {NODE_SELECTION}")
        elif item.field == "nodes":
            parts.append(f"l{n}: nodes(ids: {json.dumps(given)}) {NODE_SELECTION}")
        else:
            trashed = f", trashed: {item.trashed}" if item.trashed else ""
            fields = "id email" if item.field == "user" else "id"
            parts.append(f"l{n}: {item.field}(id: {json.dumps(given[0])}{trashed}) {{ {fields} }}")
    return "{ " + " ".join(parts) + " }"


def ids_of(ids: Ids, type_name: str, index: int) -> str:
    return {"User": ids.user, "Post": ids.post, "Comment": ids.comment}[type_name](index)


def expected_node(expected: Expected, type_name: str, index: int) -> dict[str, Any] | None:
    """``node``/``nodes``: a live row the viewer sees, else ``null``."""
    contract = expected.contract
    if index < 0:
        return None
    if type_name == "User":
        if not contract.lists_user(index):
            return None
        can = contract.can_user(index)
        return {
            "__typename": "User",
            "id": expected.ids.user(index),
            "email": contract.email(index),
            "viewerCanUpdate": can[0],
        }
    if type_name == "Post":
        if not contract.lists_post(index):
            return None
        return {
            "__typename": "Post",
            "id": expected.ids.post(index),
            "viewerCanDelete": contract.can_post(index)[1],
        }
    if not contract.reads_comment(index):
        return None
    return {
        "__typename": "Comment",
        "id": expected.ids.comment(index),
        "viewerCanDelete": contract.can_comment(index)[1],
    }


def expected_lookup(expected: Expected, item: Lookup) -> bool:
    """Whether a typed lookup finds its row (else ``null`` and ``NOT_FOUND``)."""
    index, trashed = item.indexes[0], item.trashed or "WITHOUT"
    if index < 0:
        return False
    if item.type_name == "User":
        return expected.contract.lists_user(index, trashed)
    if item.type_name == "Post":
        return expected.contract.lists_post(index, trashed)
    return expected.contract.reads_comment(index)


# -- running it -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    world: World
    asks: tuple[tuple[int | None, tuple[ListSpec, ...], tuple[Lookup, ...]], ...]


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    world = draw(worlds())
    asks = tuple(
        (
            draw(viewers(world)),
            tuple(draw(list_specs(root)) for root in ("users", "posts", "comments")),
            tuple(draw(st.lists(lookups(world), min_size=1, max_size=4))),
        )
        for _ in range(draw(st.integers(1, 2)))
    )
    return Scenario(world, asks)


def decoded(cursor: str | None) -> str:
    """A cursor's bytes as text, if it is base64 of text (cursors are opaque: best effort)."""
    if cursor is None:
        return ""
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode(errors="replace")
    except ValueError:
        return ""


@dataclass
class Walked:
    nodes: list[Any]
    totals: list[int]  # each page's totalCount
    seen: list[str]  # every response as JSON, and every cursor decoded


async def walk(gql: GraphQL, spec: ListSpec, limit: int) -> Walked:
    """Every node of a root list, page by page."""
    query = list_document(spec)
    walked = Walked([], [], [])
    after: str | None = None
    for _ in range(limit + 2):
        body = await gql(query, {"after": after})
        assert "errors" not in body, (query, body["errors"])
        page = body["data"][spec.root]
        walked.totals.append(page["totalCount"])
        walked.seen += [json.dumps(body), decoded(page["pageInfo"]["endCursor"])]
        assert len(page["nodes"]) <= spec.first, query
        walked.nodes += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            return walked
        assert page["nodes"], ("an empty page that has a next one", query)
        after = page["pageInfo"]["endCursor"]
    raise AssertionError(f"more pages than rows: {query}")


async def check_list(gql: GraphQL, expected: Expected, spec: ListSpec, label: str) -> None:
    rows = expected.rows(spec)
    walked = await walk(gql, spec, len(rows))
    query = list_document(spec)
    assert walked.totals == [len(rows)] * len(walked.totals), (label, query, walked.totals)
    orders = expected.orders(spec, rows)
    answers = [[expected.node(spec, row) for row in order] for order in orders]
    assert walked.nodes in answers, (label, query, walked.nodes, answers[0])
    # A hidden email is nowhere: not in the data, not in a cursor (which records
    # the order's values when ordering by EMAIL).
    world = expected.world
    hidden = [u.email for i, u in enumerate(world.users) if expected.contract.email(i) is None]
    for text in walked.seen:
        assert not [email for email in hidden if email in text], (label, query, text)


async def check_lookups(gql: GraphQL, expected: Expected, items: list[Lookup], label: str) -> None:
    query = lookup_document(items, expected.ids)
    body = await gql(query)
    data = body["data"]
    errors = {tuple(error["path"]): error for error in body.get("errors", [])}
    hidden_messages: dict[str, set[str]] = {}
    for n, item in enumerate(items):
        key = f"l{n}"
        if item.field in ("node", "nodes"):
            wanted: Any = [expected_node(expected, item.type_name, i) for i in item.indexes]
            if item.field == "node":
                wanted = wanted[0]
            assert data[key] == wanted, (label, query, key)
        else:
            given = ids_of(expected.ids, item.type_name, item.indexes[0])
            if expected_lookup(expected, item):
                found: dict[str, Any] = {"id": given}
                if item.field == "user":
                    found["email"] = expected.contract.email(item.indexes[0])
                assert data[key] == found, (label, query, key, body)
                assert (key,) not in errors
            else:
                assert data[key] is None, (label, query, key, data[key])
                error = errors.pop((key,))
                assert error["extensions"] == {
                    "code": "NOT_FOUND",
                    "model": item.type_name,
                    "id": given,
                }, (label, query, error)
                # A hidden row is told apart from a missing one by nothing.
                hidden_messages.setdefault(item.type_name, set()).add(
                    error["message"].replace(given, "<ID>")
                )
    assert not errors, (label, query, errors)
    assert all(len(messages) == 1 for messages in hidden_messages.values()), hidden_messages


@PROPERTY
@given(scenario=scenarios())
async def test_every_viewer_sees_exactly_what_the_contract_lets_it(
    app: Starlette,
    committed_engine: AsyncEngine,
    as_viewer: Callable[[int | None], GraphQL],
    scenario: Scenario,
) -> None:
    await empty_tables(committed_engine)
    keys = await insert_world(committed_engine, scenario.world)
    ids = Ids(keys)
    for viewer, specs, items in scenario.asks:
        check_rules_agree(scenario.world, viewer, keys)
        gql = as_viewer(None if viewer is None else keys.users[f"u{viewer}"])
        expected = Expected(scenario.world, viewer, ids)
        label = f"viewer {viewer}"
        for spec in specs:
            await check_list(gql, expected, spec, label)
        await check_lookups(gql, expected, list(items), label)


# -- a few fixed cases that read better than a generated one -------------------------------


async def test_a_soft_deleted_users_token_is_refused(
    committed_engine: AsyncEngine, as_viewer: Callable[[int | None], GraphQL]
) -> None:
    keys = await insert_fresh(
        committed_engine,
        users=[{"key": "gone", "name": "Gone", "email": "gone@example.com", "deleted_at": at(1)}],
    )

    response = await as_viewer(keys.users["gone"]).post("{ viewer { id } }")

    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}


async def test_viewer_can_is_false_not_null_for_an_anonymous_viewer(
    committed_engine: AsyncEngine, as_viewer: Callable[[int | None], GraphQL]
) -> None:
    await insert_fresh(
        committed_engine,
        users=[{"key": "ada", "name": "Ada", "email": "ada@example.com"}],
        posts=[{"key": "p", "author": "ada", "title": "Published"}],
        comments=[{"key": "c", "post": "p", "author": "ada"}],
    )

    data = await as_viewer(None).data(
        "{ users { nodes { viewerCanUpdate viewerCanDelete } }"
        " posts { nodes { viewerCanUpdate viewerCanDelete } }"
        " comments { nodes { viewerCanUpdate viewerCanDelete } } }"
    )

    denied = {"nodes": [{"viewerCanUpdate": False, "viewerCanDelete": False}]}
    assert data == {"users": denied, "posts": denied, "comments": denied}


async def test_email_order_puts_hidden_emails_in_one_group_on_every_page(
    committed_engine: AsyncEngine, as_viewer: Callable[[int | None], GraphQL]
) -> None:
    users = [
        {"key": key, "name": key, "email": f"{key}@example.com"}
        for key in ("mmm", "aaa", "zzz", "kkk", "bbb")
    ]
    keys = await insert_fresh(committed_engine, users=users)
    gql = as_viewer(keys.users["kkk"])  # sees its own email only
    query = (
        "query($after: String, $d: OrderDirection!) { users(first: 2, after: $after,"
        " orderBy: [{field: EMAIL, direction: $d}]) { totalCount nodes { name email }"
        " pageInfo { hasNextPage endCursor } } }"
    )
    for direction in ("ASC", "DESC"):
        names, after = [], None
        while True:
            page = (await gql.data(query, {"after": after, "d": direction}))["users"]
            assert page["totalCount"] == 5
            names += [(node["name"], node["email"]) for node in page["nodes"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        hidden = [(name, None) for name in ("mmm", "aaa", "zzz", "bbb")]  # in id order
        shown = [("kkk", "kkk@example.com")]
        assert names in (
            [*hidden, *shown] if direction == "ASC" else [*shown, *hidden[::-1]],
            [*shown, *hidden] if direction == "ASC" else [*hidden[::-1], *shown],
        ), names


async def test_a_cursor_made_by_an_admin_tells_another_viewer_nothing_of_hidden_emails(
    committed_engine: AsyncEngine, as_viewer: Callable[[int | None], GraphQL]
) -> None:
    # An admin's cursor records the real email of the row it stands at. Given to
    # an anonymous viewer, it must page through the emails that viewer sees (all
    # null), not the real ones: else the rows after it tell the hidden order.
    locals_ = ("aaa", "mmm", "kkk", "zzz", "bbb")
    keys = await insert_fresh(
        committed_engine,
        users=[{"key": k, "name": k, "email": f"{k}@example.com"} for k in locals_],
        roles=[{"key": "admin", "name": "admin"}],
        memberships=[("aaa", "admin")],
    )
    admin, anonymous = as_viewer(keys.users["aaa"]), as_viewer(None)
    query = (
        "query($after: String, $d: OrderDirection!, $n: Int!) { users(first: $n, after: $after,"
        " orderBy: [{field: EMAIL, direction: $d}]) { nodes { name } pageInfo { endCursor } } }"
    )
    in_id_order = list(locals_)
    # Null (hidden) emails sort as one group, at one end: after the admin's cursor
    # come either none of the anonymous viewer's rows or all of them, in id order.
    cases: dict[str, tuple[list[str], list[str]]] = {
        "ASC": ([], in_id_order),
        "DESC": ([], in_id_order[::-1]),
    }
    for direction, (none, every) in cases.items():
        page = (await admin.data(query, {"after": None, "d": direction, "n": 2}))["users"]
        cursor = page["pageInfo"]["endCursor"]

        body = await anonymous(query, {"after": cursor, "d": direction, "n": 10})

        if "errors" in body:  # refusing another viewer's cursor is fine too
            assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
            continue
        names = [node["name"] for node in body["data"]["users"]["nodes"]]
        assert names in (none, every), (direction, names)
