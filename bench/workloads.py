"""The workloads of issue 4: the GraphQL request each sends, and the floor's matching endpoint."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlencode

import orjson

from bench.viewers import VIEWERS, Viewer


@dataclass(frozen=True, slots=True)
class Params:
    """Rows of the standard data set that the workloads name, picked once per database."""

    user_id: int
    """W1: a live user (the first live one from the middle of the table)."""
    comment_post_id: int
    """W4: the last live post; no other workload reads its comments."""
    comment_author_id: int
    """W4: a live user."""
    after_post_id: int
    """W7: the 9,000th live post in id order; the page starts after it."""
    admin_id: int
    """The signed-in viewer: the first live user holding the admin role (user 1 when seeded)."""
    admin_email: str
    """Its email, to log in with."""


def global_id(type_name: str, key: int) -> str:
    """The opaque ID of the contract: base64 of ``TypeName:pk``."""
    return base64.b64encode(f"{type_name}:{key}".encode()).decode("ascii")


def id_cursor(key: int) -> str:
    """The cursor of a row in the default order (``id`` ascending), as ``encode_cursor`` makes it.

    Version 1, the order's signature and the order keys' values, as compact
    JSON in unpadded URL-safe base64.
    """
    payload = json.dumps([1, "id:a", [key]], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode("ascii").rstrip("=")


W4_BODY = "A comment written by the benchmark."


@dataclass(frozen=True, slots=True)
class Workload:
    name: str
    summary: str
    document: Callable[[Params], str]
    floor_path: Callable[[Params], str]
    writes: bool = False
    viewers: tuple[Viewer, ...] = VIEWERS
    """Who it is measured as: all but W4, which needs a signed-in viewer."""

    def body(self, params: Params) -> bytes:
        """The POST body sent to our server (and, unchanged, to the floor)."""
        return orjson.dumps({"query": self.document(params)})


WORKLOADS: tuple[Workload, ...] = (
    Workload(
        "W1",
        "one user by id",
        lambda p: f'{{ user(id: "{global_id("User", p.user_id)}") {{ id name email createdAt }} }}',
        lambda p: "/w1?" + urlencode({"id": global_id("User", p.user_id)}),
    ),
    Workload(
        "W2",
        "50 posts with their authors",
        lambda p: "{ posts(first: 50) { nodes { title author { name } } } }",
        lambda p: "/w2",
    ),
    Workload(
        "W3",
        "20 users > 10 posts > 5 comments > author",
        lambda p: (
            "{ users(first: 20) { nodes { name posts(first: 10) { nodes { title "
            "comments(first: 5) { nodes { body author { name } } } } } } } }"
        ),
        lambda p: "/w3",
    ),
    Workload(
        "W4",
        "createComment mutation",
        lambda p: (
            "mutation { createComment(input: {"
            f'postId: "{global_id("Post", p.comment_post_id)}", '
            f'authorId: "{global_id("User", p.comment_author_id)}", '
            f'body: "{W4_BODY}"'
            "}) { id body } }"
        ),
        lambda p: (
            "/w4?"
            + urlencode(
                {
                    "postId": global_id("Post", p.comment_post_id),
                    "authorId": global_id("User", p.comment_author_id),
                    "body": W4_BODY,
                }
            )
        ),
        writes=True,
        # Anonymous, createComment answers UNAUTHENTICATED: nothing to measure.
        viewers=("admin",),
    ),
    Workload(
        "W5",
        "100 posts, four columns",
        lambda p: "{ posts(first: 100) { nodes { id title body createdAt } } }",
        lambda p: "/w5",
    ),
    Workload(
        "W6",
        "10,000 comments in one response",
        lambda p: "{ comments(first: 10000) { nodes { id body } } }",
        lambda p: "/w6",
    ),
    Workload(
        "W7-first",
        "first page of posts (W7's baseline)",
        lambda p: "{ posts(first: 50) { nodes { id title } } }",
        lambda p: "/w7",
    ),
    Workload(
        "W7",
        "50 posts after the 9,000th",
        lambda p: (
            f'{{ posts(first: 50, after: "{id_cursor(p.after_post_id)}") '
            "{ nodes { id title } } }"
        ),
        lambda p: "/w7?" + urlencode({"after": id_cursor(p.after_post_id)}),
    ),
)

BY_NAME = {workload.name.lower(): workload for workload in WORKLOADS}


def select(names: Iterable[str] | None) -> list[Workload]:
    """The workloads named (in the standard order); W7 brings W7-first, its baseline, along.

    Raises:
        ValueError: a name that is no workload.
    """
    if names is None:
        return list(WORKLOADS)
    wanted = {name.strip().lower() for name in names if name.strip()}
    unknown = sorted(wanted - BY_NAME.keys())
    if unknown:
        known = ", ".join(workload.name for workload in WORKLOADS)
        raise ValueError(f"unknown workload(s) {', '.join(unknown)}; choose from {known}")
    if "w7" in wanted:
        wanted.add("w7-first")
    return [workload for workload in WORKLOADS if workload.name.lower() in wanted]
