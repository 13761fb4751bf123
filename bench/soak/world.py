"""What the clients share and know: the seeded rows, the ledger of confirmed writes, the watches.

The ledger is what the integrity checks hold the database to afterwards; the
watches tell an error another client could cause from one nobody could.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from bench import dataset
from bench.dataset import Target


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


@dataclass(slots=True, kw_only=True)
class Deletable:
    """A post or comment created in the run: deleted or not, as last confirmed."""

    deleted: bool = False
    uncertain: bool = False
    """A mutation of it got no answer: its final state is unknown."""


@dataclass(slots=True)
class PostRecord(Deletable):
    author: int
    title: str
    body: str
    published: bool


@dataclass(slots=True)
class CommentRecord(Deletable):
    post: int
    author: int
    body: str


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


def read_reference(target: Target) -> Reference:
    """The seeded rows the clients pick from, and the counts the integrity checks compare."""

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
