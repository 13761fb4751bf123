"""Concurrent requests: every mutation commits or fails cleanly, and requests stay apart.

Twenty HTTP clients send their requests at once. Afterwards the database
holds exactly what the successful responses said they did; racing writers of
one unique email end with one winner; and no request sees another's session,
dataloader cache or uncommitted data, even while writes commit around it.
(``test_transactions.py`` has the basic race of ten ``createUser`` on one email.)
"""

from __future__ import annotations

import asyncio
import base64
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Coroutine
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any, TypeVar

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from tests.api import Dataset, GraphQL, gid, insert_dataset, iso, snapshot
from tests.verify import AS_TEST_ADMIN

CLIENTS = 20
T = TypeVar("T")
CLEAN_FAILURES = {"BAD_USER_INPUT", "NOT_FOUND"}


@asynccontextmanager
async def clients(app: Starlette, count: int = CLIENTS) -> AsyncIterator[list[GraphQL]]:
    """``count`` HTTP clients of ``app``, each with its own connection pool."""
    async with AsyncExitStack() as stack:
        made = []
        for _ in range(count):
            http = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url="http://test",
                headers=AS_TEST_ADMIN,
            )
            made.append(GraphQL(await stack.enter_async_context(http)))
        yield made


async def together(*requests: Coroutine[Any, Any, T]) -> list[T]:
    """Run ``requests`` at once; if one fails, the others are cancelled, not left running."""
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(request) for request in requests]
    return [task.result() for task in tasks]


def outcome(body: dict[str, Any], field: str) -> dict[str, Any] | None:
    """The field's data when it committed, else ``None`` after checking it failed cleanly."""
    data = body["data"][field]
    if "errors" not in body:
        assert data is not None
        return data  # type: ignore[no-any-return]
    assert body["data"] == {field: None}
    [error] = body["errors"]
    assert error["path"] == [field]
    assert error["extensions"]["code"] in CLEAN_FAILURES, error
    return None


# -- 200 mutations from 20 clients -------------------------------------------------------

SEED_USERS = 10
SEED_POSTS = 40
SEED_ROLES = 5

CREATE_USER = "mutation($input: CreateUserInput!) { createUser(input: $input) { id name email } }"
CREATE_POST = """
mutation($input: CreatePostInput!) {
  createPost(input: $input) { id title body published author { id } }
}
"""
UPDATE_POST = """
mutation($id: ID!, $title: String!) {
  updatePost(id: $id, input: {title: $title}) { id title deletedAt updatedAt }
}
"""
DELETE_POST = "mutation($id: ID!) { deletePost(id: $id) { id title deletedAt updatedAt } }"
ASSIGN_ROLE = """
mutation($user: ID!, $role: ID!) { assignRole(userId: $user, roleId: $role) { id roles { id } } }
"""


async def seed(engine: AsyncEngine) -> Dataset:
    return await insert_dataset(
        engine,
        users=[
            {"key": f"u{n}", "name": f"User {n}", "email": f"u{n}@example.com"}
            for n in range(SEED_USERS)
        ],
        roles=[{"key": f"r{n}", "name": f"role {n}"} for n in range(SEED_ROLES)],
        posts=[
            {"key": f"p{n}", "author": f"u{n % SEED_USERS}", "title": f"Post {n}"}
            for n in range(SEED_POSTS)
        ],
    )


def mutation(k: int, seeded: Dataset) -> tuple[str, str, dict[str, Any]]:
    """The ``k``-th of 200 mutations: its field, document and variables.

    Five kinds in turn. Emails repeat in pairs (one of each pair can win);
    every seeded post is updated once and deleted twice (once can win), its
    update racing its deletes; identical ``assignRole`` calls come in pairs.
    """
    kind = k % 5
    user = gid("User", seeded.users[f"u{(k // 10) % SEED_USERS}"])
    post = gid("Post", seeded.posts[f"p{(k // 5) % SEED_POSTS}"])
    if kind == 0:
        email = f"new{k // 10}@example.com"
        return "createUser", CREATE_USER, {"input": {"name": f"New {k}", "email": email}}
    if kind == 1:
        author = gid("User", seeded.users[f"u{k % SEED_USERS}"])
        post_input = {"authorId": author, "title": f"Created {k}", "body": f"Body {k}"}
        return "createPost", CREATE_POST, {"input": post_input}
    if kind == 2:
        return "updatePost", UPDATE_POST, {"id": post, "title": f"Updated {k}"}
    if kind == 3:
        twice = gid("Post", seeded.posts[f"p{(k // 10) % SEED_POSTS}"])
        return "deletePost", DELETE_POST, {"id": twice}
    role = gid("Role", seeded.roles[f"r{(k // 50) % SEED_ROLES}"])
    return "assignRole", ASSIGN_ROLE, {"user": user, "role": role}


async def test_two_hundred_concurrent_mutations_commit_or_fail_cleanly(
    app: Starlette, committed_engine: AsyncEngine
) -> None:
    seeded = await seed(committed_engine)
    before = await snapshot(committed_engine)
    plan = [mutation(k, seeded) for k in range(CLIENTS * 10)]

    async with clients(app) as http:

        async def send(k: int) -> dict[str, Any]:
            _field, document, variables = plan[k]
            return await http[k % CLIENTS](document, variables)

        bodies = await together(*(send(k) for k in range(len(plan))))

    users = {row["id"]: (row["name"], row["email"]) for row in before["users"]}
    posts = {row["id"]: post_row(row) for row in before["posts"]}
    writes: defaultdict[int, list[dict[str, Any]]] = defaultdict(list)
    memberships: set[tuple[int, int]] = set()
    winners: Counter[str] = Counter()
    for (field, _document, variables), body in zip(plan, bodies, strict=True):
        data = outcome(body, field)
        errors = [error["extensions"] for error in body.get("errors", [])]
        if field == "createUser":
            email = variables["input"]["email"]
            if data is None:
                assert errors == [
                    {"code": "BAD_USER_INPUT", "fields": {"input.email": "already taken"}}
                ]
                continue
            winners[email] += 1
            assert (data["name"], data["email"]) == (variables["input"]["name"], email)
            users[key_of(data["id"])] = (data["name"], data["email"])
        elif field == "createPost":
            assert data is not None, errors  # every author is live
            post_input = variables["input"]
            assert data["author"] == {"id": post_input["authorId"]}
            assert (data["title"], data["body"], data["published"]) == (
                post_input["title"],
                post_input["body"],
                False,
            )
            posts[key_of(data["id"])] = {
                "user_id": key_of(post_input["authorId"]),
                "title": data["title"],
                "body": data["body"],
                "deleted_at": None,
            }
        elif field in ("updatePost", "deletePost"):
            if (
                data is None
            ):  # the post was deleted first: by the other delete, or before the update
                assert errors == [{"code": "NOT_FOUND", "model": "Post", "id": variables["id"]}]
                continue
            assert data["id"] == variables["id"]
            if field == "updatePost":
                assert (data["title"], data["deletedAt"]) == (variables["title"], None)
            else:
                assert data["deletedAt"] is not None
            writes[key_of(data["id"])].append(data)
        else:
            # Identical assignRole calls race in pairs: all of them succeed (contract).
            assert data is not None, errors
            assert data["id"] == variables["user"]
            assert {"id": variables["role"]} in data["roles"]
            memberships.add((key_of(variables["user"]), key_of(variables["role"])))

    # One winner per raced email.
    assert sorted(winners.values()) == [1] * (CLIENTS * 10 // 10)
    # Each post's successful writes, in the order of their timestamps, are what one
    # after the other would give: each saw those before it, and none follows a delete
    # (a second delete, or an update, of a deleted post is NOT_FOUND, races included).
    deleted = {variables["id"] for field, _d, variables in plan if field == "deletePost"}
    for key, done in writes.items():
        done.sort(key=lambda write: str(write["updatedAt"]))
        state = posts[key]
        for write in done:
            assert state["deleted_at"] is None, done  # nothing written after a delete
            if write["deletedAt"]:
                assert write["title"] == state["title"], done  # it saw the update before it
            state = {**state, "title": write["title"], "deleted_at": write["deletedAt"]}
        posts[key] = {**state, "updated_at": done[-1]["updatedAt"]}
    assert {key for key, post in posts.items() if post["deleted_at"]} == {
        key_of(post) for post in deleted
    }
    # And the database holds exactly what the successful responses said.
    after = await snapshot(committed_engine)
    assert {row["id"]: (row["name"], row["email"]) for row in after["users"]} == users
    assert all(row["deleted_at"] is None for row in after["users"])
    assert {
        row["id"]: post_row(row, with_updated_at=row["id"] in writes) for row in after["posts"]
    } == posts
    assert {(row["user_id"], row["role_id"]) for row in after["user_roles"]} == memberships
    assert after["roles"] == before["roles"]
    assert after["comments"] == before["comments"] == []


def post_row(row: dict[str, Any], *, with_updated_at: bool = False) -> dict[str, Any]:
    """A post as the API shows it: what the responses are compared on."""
    post = {
        "user_id": row["user_id"],
        "title": row["title"],
        "body": row["body"],
        "deleted_at": iso(row["deleted_at"]) if row["deleted_at"] else None,
    }
    if with_updated_at:
        post["updated_at"] = iso(row["updated_at"])
    return post


def key_of(global_id: str) -> int:
    return int(base64.b64decode(global_id).decode().split(":")[1])


# -- one email, many writers --------------------------------------------------------------

RACE_EMAILS = [" Race@Example.com", "race@example.com", "RACE@EXAMPLE.COM ", "rAcE@eXaMpLe.CoM"]


async def test_racing_creates_of_one_email_across_clients_let_exactly_one_through(
    app: Starlette, committed_engine: AsyncEngine
) -> None:
    # Twenty clients race for one address written four ways, while twenty other
    # addresses are created alongside: one racer wins, every other address goes in.
    async with clients(app) as http:
        racers = [
            http[n](CREATE_USER, {"input": {"name": f"Racer {n}", "email": RACE_EMAILS[n % 4]}})
            for n in range(CLIENTS)
        ]
        solos = [
            http[n](CREATE_USER, {"input": {"name": f"Solo {n}", "email": f"solo{n}@example.com"}})
            for n in range(CLIENTS)
        ]
        bodies = await together(*racers, *solos)

    raced, alone = bodies[:CLIENTS], bodies[CLIENTS:]
    winners = [body for body in raced if "errors" not in body]
    assert len(winners) == 1
    [winner] = winners
    assert winner["data"]["createUser"]["email"] == "race@example.com"
    for body in raced:
        if body is winner:
            continue
        assert body["data"] == {"createUser": None}
        assert [(error["path"], error["extensions"]) for error in body["errors"]] == [
            (["createUser"], {"code": "BAD_USER_INPUT", "fields": {"input.email": "already taken"}})
        ]
    assert all("errors" not in body for body in alone)
    rows = (await snapshot(committed_engine))["users"]
    assert sorted((row["name"], row["email"]) for row in rows) == sorted(
        [(winner["data"]["createUser"]["name"], "race@example.com")]
        + [(f"Solo {n}", f"solo{n}@example.com") for n in range(CLIENTS)]
    )


UPDATE_USER = """
mutation($id: ID!, $input: UpdateUserInput!) {
  updateUser(id: $id, input: $input) { id name email }
}
"""


async def test_racing_updates_to_one_email_let_exactly_one_through_and_roll_the_others_back(
    app: Starlette, committed_engine: AsyncEngine
) -> None:
    # Each update also renames its user: a loser's rename must not survive its
    # failed email (PostgreSQL writes both, then the unique index refuses the row).
    seeded = await seed(committed_engine)
    before = {row["id"]: row for row in (await snapshot(committed_engine))["users"]}

    async with clients(app, SEED_USERS) as http:
        bodies = await together(
            *(
                http[n](
                    UPDATE_USER,
                    {
                        "id": gid("User", seeded.users[f"u{n}"]),
                        "input": {
                            "name": f"Claimant {n}",
                            "email": " " * n + "CLAIMED@example.com",
                        },
                    },
                )
                for n in range(SEED_USERS)
            )
        )

    winners = [n for n, body in enumerate(bodies) if "errors" not in body]
    assert len(winners) == 1
    [won] = winners
    assert bodies[won]["data"]["updateUser"] == {
        "id": gid("User", seeded.users[f"u{won}"]),
        "name": f"Claimant {won}",
        "email": "claimed@example.com",
    }
    for n, body in enumerate(bodies):
        if n != won:
            assert body["data"] == {"updateUser": None}
            assert [error["extensions"] for error in body["errors"]] == [
                {"code": "BAD_USER_INPUT", "fields": {"input.email": "already taken"}}
            ]
    after = {row["id"]: row for row in (await snapshot(committed_engine))["users"]}
    for n in range(SEED_USERS):
        key = seeded.users[f"u{n}"]
        if n == won:
            assert (after[key]["name"], after[key]["email"]) == (
                f"Claimant {n}",
                "claimed@example.com",
            )
        else:
            assert after[key] == before[key]


# -- requests stay apart ---------------------------------------------------------------------

#: Through the resolvers (``node`` is not on the fast path): the post is loaded four
#: ways in one session, by ``node``'s loader, the ``post`` lookup, each comment's
#: ``post`` loader and the listing.
THROUGH_RESOLVERS = """
query($id: ID!) {
  node(id: $id) { ... on Post { title } }
  post(id: $id) { title author { name } comments { nodes { post { title } } } }
  posts(where: {id: {eq: $id}}) { nodes { title } }
}
"""
#: The same reads on the fast path (rows, one statement per relation).
ON_THE_FAST_PATH = """
query($id: ID!) {
  post(id: $id) { title author { name } comments { nodes { post { title } } } }
  posts(where: {id: {eq: $id}}) { nodes { title } }
}
"""


def titles_in(data: dict[str, Any]) -> list[str]:
    post = data["post"]
    found = [post["title"], *(c["post"]["title"] for c in post["comments"]["nodes"])]
    found += [node["title"] for node in data["posts"]["nodes"]]
    if "node" in data:
        found.append(data["node"]["title"])
    return found


async def test_a_request_sees_what_was_committed_before_it_not_what_another_cached(
    gql: GraphQL, blog: Dataset
) -> None:
    # Each request has its own session and dataloaders: nothing read by one request
    # (identity map, loader cache) answers the next one after a write.
    post = gid("Post", blog.posts["a1"])
    for document in (THROUGH_RESOLVERS, ON_THE_FAST_PATH):
        assert set(titles_in(await gql.data(document, {"id": post}))) == {"Analytical Engine"}

    await gql.data(UPDATE_POST, {"id": post, "title": "Difference Engine"})

    for document in (THROUGH_RESOLVERS, ON_THE_FAST_PATH):
        data = await gql.data(document, {"id": post})
        assert titles_in(data) == ["Difference Engine"] * len(titles_in(data))
        assert len(titles_in(data)) == 3 + ("node" in data) + 2  # three comments


async def test_interleaved_reads_and_writes_see_only_committed_data_of_their_own(
    unverified_app: Starlette, committed_engine: AsyncEngine, blog: Dataset, backend: str
) -> None:
    # One client renames a post 25 times, one write after the other; rounds of two
    # clients race to give Ada and Dee one new email (with new names): one of each
    # pair fails and rolls back. Meanwhile 18 clients read the post and its author
    # over and over, through the resolvers and on the fast path.
    post = gid("Post", blog.posts["a1"])
    ada, dee = gid("User", blog.users["ada"]), gid("User", blog.users["dee"])
    committed_titles = ["Analytical Engine"] + [f"Version {v}" for v in range(1, 26)]
    ada_names = ["Ada Lovelace"]
    done = asyncio.Event()

    async with clients(unverified_app) as http:

        async def rename_post() -> None:
            for title in committed_titles[1:]:
                data = await http[0].data(UPDATE_POST, {"id": post, "title": title})
                assert data["updatePost"]["title"] == title

        async def race_for_emails() -> None:
            for round_ in range(10):
                email = f"wanted{round_}@example.com"
                bodies = await together(
                    http[1](
                        UPDATE_USER, {"id": ada, "input": {"name": f"Ada {round_}", "email": email}}
                    ),
                    http[2](
                        UPDATE_USER, {"id": dee, "input": {"name": f"Dee {round_}", "email": email}}
                    ),
                )
                won = [body for body in bodies if "errors" not in body]
                assert len(won) == 1
                if won[0] is bodies[0]:
                    ada_names.append(f"Ada {round_}")

        async def writers() -> None:
            try:
                async with asyncio.TaskGroup() as group:
                    group.create_task(rename_post())
                    group.create_task(race_for_emails())
            finally:
                done.set()

        async def read(client: GraphQL, document: str) -> list[dict[str, Any]]:
            seen: list[dict[str, Any]] = []
            while not done.is_set() or not seen:
                seen.append(await client.data(document, {"id": post}))
            return seen

        # A task group: when one task fails, the others are cancelled, not left running.
        async with asyncio.TaskGroup() as group:
            group.create_task(writers())
            readers = [
                group.create_task(read(http[n], THROUGH_RESOLVERS if n % 2 else ON_THE_FAST_PATH))
                for n in range(3, CLIENTS)
            ]
        reads = [reader.result() for reader in readers]

    assert all(seen for seen in reads)
    for seen in reads:
        for data in seen:
            # Committed values only: never a rename that rolled back.
            titles = titles_in(data)
            assert set(titles) <= set(committed_titles), titles
            assert data["post"]["author"]["name"] in ada_names
            if backend == "sqlite":
                # A request reads in one transaction, so from one snapshot. (PostgreSQL
                # reads outside a transaction: each statement sees the latest commit.)
                assert len(set(titles)) == 1, titles
    async with clients(unverified_app, 1) as [client]:
        for document in (THROUGH_RESOLVERS, ON_THE_FAST_PATH):
            data = await client.data(document, {"id": post})
            assert set(titles_in(data)) == {committed_titles[-1]}
            assert data["post"]["author"]["name"] == ada_names[-1]
