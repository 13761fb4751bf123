"""After the run, read the database directly: what the server confirmed is there, nothing else is.

Rows whose mutation got no answer are skipped and counted: their final state is unknown.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from bench import dataset
from bench.dataset import Target
from bench.soak.world import Ledger, Reference, World


class _Record(Protocol):
    uncertain: bool


_R = TypeVar("_R", bound=_Record)


@dataclass(slots=True)
class Check:
    name: str
    checked: int = 0
    skipped: int = 0
    problems: list[str] = field(default_factory=list)

    def certain(self, records: Mapping[int, _R]) -> Iterator[tuple[int, _R]]:
        """The records whose final state is known, counted as checked; the others as skipped."""
        for key, record in records.items():
            if record.uncertain:
                self.skipped += 1
                continue
            self.checked += 1
            yield key, record

    def strangers(
        self,
        found: Mapping[int, tuple[Any, ...]],
        confirmed: Mapping[int, Any],
        type_name: str,
        unanswered: int,
        refused: set[str],
        token: int,
    ) -> None:
        """Rows nobody confirmed: no more than the creates that got no answer, none refused.

        ``token`` is the position in a found row of the value its create sent in ``refused``.
        """
        strangers = [key for key in found if key not in confirmed]
        if len(strangers) > unanswered:
            self.problems.append(
                f"{len(strangers)} unconfirmed {type_name.lower()}(s), only {unanswered} unanswered"
            )
        self.problems.extend(
            f"{type_name} {key}: its create was refused, yet it exists"
            for key in strangers
            if found[key][token] in refused
        )


def check_integrity(target: Target, world: World) -> list[Check]:
    """Read the database directly: what the server confirmed is there, nothing else is."""
    ref, ledger = world.ref, world.ledger
    return [
        *_users(target, ref, ledger),
        _posts(target, ref, ledger),
        _comments(target, ref, ledger),
        _roles(target, ref, ledger),
        _seeded(target, ref),
    ]


def _users(target: Target, ref: Reference, ledger: Ledger) -> list[Check]:
    """Users created in the run, no others, and unique emails."""
    users = Check("users created and updated: the confirmed name and email, live")
    found_users = {
        int(key): (str(email), str(name), bool(deleted))
        for key, email, name, deleted in dataset.query(
            target,
            f"SELECT id, email, name, deleted_at IS NOT NULL FROM users WHERE id > {ref.max_user}",
        )
    }
    for key, record in users.certain(ledger.users):
        if found_users.get(key) != (record.email, record.name, False):
            users.problems.append(f"User {key}: expected {record}, found {found_users.get(key)}")

    extra = Check("no other users: refused creates left nothing, unanswered ones at most one row")
    unknown_users = [key for key in found_users if key not in ledger.users]
    extra.checked = len(found_users)
    for key in unknown_users:
        email = found_users[key][0]
        if email in ledger.refused_emails:
            extra.problems.append(f"User {key}: {email} was refused, yet it exists")
        elif email not in ledger.unknown_emails:
            extra.problems.append(f"User {key}: {email} was never confirmed nor sent")

    unique = Check("emails unique (case-insensitively) among all users")
    duplicates = dataset.query(
        target, "SELECT lower(email), count(*) FROM users GROUP BY lower(email) HAVING count(*) > 1"
    )
    unique.checked = 1
    unique.problems.extend(f"{email}: {count} rows" for email, count in duplicates)
    return [users, extra, unique]


def _posts(target: Target, ref: Reference, ledger: Ledger) -> Check:
    posts = Check("posts created: author, title, body, published and deleted as confirmed")
    found_posts = {
        int(key): (int(author), str(title), str(body), bool(published), bool(deleted))
        for key, author, title, body, published, deleted in dataset.query(
            target,
            "SELECT id, user_id, title, body, published, deleted_at IS NOT NULL FROM posts "
            f"WHERE id > {ref.max_post}",
        )
    }
    for key, post in posts.certain(ledger.posts):
        wanted = (post.author, post.title, post.body, post.published, post.deleted)
        if found_posts.get(key) != wanted:
            posts.problems.append(f"Post {key}: expected {wanted}, found {found_posts.get(key)}")
    unanswered = ledger.unknown["posts"]
    posts.strangers(found_posts, ledger.posts, "Post", unanswered, ledger.refused_titles, 1)
    return posts


def _comments(target: Target, ref: Reference, ledger: Ledger) -> Check:
    comments = Check("comments: confirmed ones present as created, deleted ones gone")
    found_comments = {
        int(key): (int(post), int(author), str(body))
        for key, post, author, body in dataset.query(
            target,
            f"SELECT id, post_id, user_id, body FROM comments WHERE id > {ref.max_comment}",
        )
    }
    deleted = 0
    for key, comment in comments.certain(ledger.comments):
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
    unanswered = ledger.unknown["comments"]
    comments.strangers(
        found_comments, ledger.comments, "Comment", unanswered, ledger.refused_bodies, 2
    )
    return comments


def _roles(target: Target, ref: Reference, ledger: Ledger) -> Check:
    roles = Check(
        "roles: created users hold exactly their confirmed roles, seeded users gained only"
        " confirmed ones"
    )
    pairs = {
        (int(u), int(r))
        for u, r in dataset.query(target, "SELECT user_id, role_id FROM user_roles")
    }
    holding: dict[int, set[int]] = {}
    for user_key, role_key in pairs:
        holding.setdefault(user_key, set()).add(role_key)
    for key, user in roles.certain(ledger.users):
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
    return roles


def _seeded(target: Target, ref: Reference) -> Check:
    seeded = Check("seeded rows: counts and soft-deleted counts unchanged")
    (now,) = dataset.query(
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
    return seeded
