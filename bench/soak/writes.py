"""The write operations of a client, and what each records in the ledger.

A client changes only its own users and posts, so the last answer it got is
the row's final state; comments and the hot users' roles are shared on
purpose, so that clients race. Every confirmed, refused or unanswered write
is recorded for the integrity checks.
"""

from __future__ import annotations

import time
from typing import Any

from bench.soak.documents import (
    ASSIGN_ROLE,
    CREATE_COMMENT,
    CREATE_POST,
    CREATE_USER,
    DELETE_COMMENT,
    DELETE_POST,
    RESTORE_POST,
    REVOKE_ROLE,
    UPDATE_POST,
    UPDATE_USER,
    decode_id,
)
from bench.soak.session import Reply, Session
from bench.soak.stats import GONE, NOTHING, Expect, error_kind
from bench.soak.world import CommentRecord, PostRecord, UserRecord
from bench.workloads import global_id

#: How long all clients aim their ``assignRole`` calls at the same fresh user.
HOT_SLOT_SECONDS = 2.0
#: ``deleteComment`` picks among the newest comments half of the time, so clients race.
RECENT_COMMENTS = 10


class Writes(Session):
    """The mutations; each checks that the answer holds the values it sent."""

    def created(
        self, operation: str, reply: Reply, type_name: str, refused: set[str], token: str
    ) -> tuple[int, dict[str, Any]] | None:
        """The key and answer of a create the server confirmed, else None.

        An unanswered create is counted as unknown for its table, a refused
        one leaves ``token`` (its unique value) in ``refused``.
        """
        if not reply.answered:
            self.world.ledger.unknown[f"{type_name.lower()}s"] += 1
            return None
        answer = reply.field(operation)
        if answer is None:
            refused.add(token)
            return None
        key = self.key(operation, reply, answer["id"], type_name)
        return None if key is None else (key, answer)

    def echoes(self, operation: str, reply: Reply, answer: Any, returned: Any, sent: Any) -> None:
        """Flag an answer whose values are not the ones sent (or, for an update, kept)."""
        if returned != sent:
            self.flag(operation, reply, "stored other values", answer)

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
            ledger.unknown_emails.add(email.lower())
        created = self.created("createUser", reply, "User", ledger.refused_emails, email.lower())
        if created is None:
            return
        key, user = created
        self.echoes("createUser", reply, user, (user["name"], user["email"]), (name, email.lower()))
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
        kept = (record.name, record.email)
        self.echoes("updateUser", reply, user, (user["name"], user["email"]), kept)

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
        created = self.created("createPost", reply, "Post", ledger.refused_titles, title)
        if created is None:
            return
        key, post = created
        returned = (post["title"], post["body"], post["published"], post["author"]["id"])
        sent = (title, body, published, global_id("User", author))
        self.echoes("createPost", reply, post, returned, sent)
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
        kept = (record.title, record.published)
        self.echoes("updatePost", reply, post, (post["title"], post["published"]), kept)

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
        created = self.created("createComment", reply, "Comment", ledger.refused_bodies, body)
        if created is None:
            return
        key, comment = created
        returned = (comment["body"], comment["post"]["id"], comment["author"]["id"])
        sent = (body, global_id("Post", post), global_id("User", author))
        self.echoes("createComment", reply, comment, returned, sent)
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
