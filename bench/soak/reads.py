"""The read operations of a client, and the checks each makes of its answer.

Lookups, filtered lists, paging with the server's cursors, nesting and
``node``/``nodes``: a live row must come back, pages must not repeat rows,
connections must be well formed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.soak.documents import (
    COMMENT_BY_ID,
    COMMENTS_FILTERED,
    COMMENTS_PAGE,
    FRAGMENTS,
    INITIALS,
    NESTED,
    NODE,
    NODES,
    POST_BY_ID,
    POSTS_FILTERED,
    POSTS_PAGE,
    USER_BY_ID,
    USERS_FILTERED,
    USERS_PAGE,
    WORDS,
)
from bench.soak.session import Reply, Session
from bench.soak.stats import GONE, NOTHING
from bench.soak.world import Watch
from bench.workloads import global_id


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


class Reads(Session):
    """The reads; the state they keep between requests is the client's paging."""

    paging: PageSession | None = None
    nested_after: str | None = None

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
        if self.world.created_posts and self.rng.random() < 0.3:
            key = self.rng.choice(self.world.created_posts)
        else:
            key = self.rng.choice(self.world.ref.posts)
        await self.lookup("postById", POST_BY_ID, "post", self.world.posts, key)

    async def comment_by_id(self) -> None:
        if self.world.created_comments and self.rng.random() < 0.5:
            key = self.rng.choice(self.world.created_comments)
        else:
            key = self.rng.randint(1, self.world.ref.max_comment)
        await self.lookup("commentById", COMMENT_BY_ID, "comment", self.world.comments, key)

    async def lookup(
        self, operation: str, document: str, name: str, watch: Watch, key: int
    ) -> None:
        """``name(id:)`` of a row others may delete: NOT_FOUND is expected if it may be gone."""
        before = watch.snapshot(key)
        reply = await self.call(
            operation,
            document,
            {"id": global_id(name.capitalize(), key)},
            lambda: GONE if watch.maybe_gone(key, before) else NOTHING,
        )
        if reply.answered and not reply.errors and reply.field(name) is None:
            self.flag(operation, reply, "null without error", key)

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
