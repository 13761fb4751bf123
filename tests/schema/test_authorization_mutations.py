"""Who may change what (contract section 8), mutation by mutation, viewer by viewer.

Every mutation runs as each of six viewers (anonymous, the owner of the
rows, another plain user, an editor, a moderator, an admin) against its
targets: the viewer's own row, another's row, a row the viewer cannot see,
a soft-deleted row and an ID that matches nothing. The answer is checked
against ``expected``, a plain statement of the contract's table written
here, independently of the repositories' rules:

- allowed: the field answers the row and there is no error;
- anonymous: ``UNAUTHENTICATED``;
- a row the viewer sees but may not change: ``FORBIDDEN`` with ``model`` and ``id``;
  another ``authorId`` than the viewer's: ``FORBIDDEN`` with ``fields["input.authorId"]``;
  a field only admins may call: ``FORBIDDEN``;
- a row the viewer cannot see: exactly the answer for an ID that matches
  nothing (``NOT_FOUND`` with ``model`` and ``id``, or ``BAD_USER_INPUT`` on
  the argument for the target of a create or of ``assignRole``).

Every denial leaves every table as it was.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from server.auth.viewer import Authenticator
from tests.api import Dataset, GraphQL, at, gid, snapshot
from tests.schema.test_authorization_reads import insert_fresh

# -- the world: who is who, and what they own ---------------------------------------------

VIEWERS = ("anonymous", "owner", "other", "editor", "moderator", "admin")
#: The user each signed-in viewer is.
USER_OF = {"owner": "olga", "other": "pete", "editor": "eddie", "moderator": "mona", "admin": "ada"}
#: The roles each user has ("reader" is a role no rule names).
ROLES_OF = {
    "olga": {"reader"},
    "pete": {"reader"},
    "eddie": {"editor"},
    "mona": {"moderator"},
    "ada": {"admin"},
    "quinn": {"reader"},
    "gone": {"reader"},
}
DELETED_USERS = {"gone"}


@dataclass(frozen=True)
class PostRow:
    author: str
    published: bool
    deleted: bool = False


POSTS = {
    "olga-pub": PostRow("olga", published=True),
    "olga-draft": PostRow("olga", published=False),
    "olga-trash": PostRow("olga", published=True, deleted=True),
    "quinn-pub": PostRow("quinn", published=True),
    "quinn-draft": PostRow("quinn", published=False),
    "quinn-trash": PostRow("quinn", published=True, deleted=True),
}
#: Comment key -> (post key, author key).
COMMENTS = {
    "c-olga": ("quinn-pub", "olga"),
    "c-pete": ("quinn-pub", "pete"),
    "c-quinn": ("quinn-pub", "quinn"),
    "c-quinn-on-olga": ("olga-pub", "quinn"),
    "c-quinn-on-olga-draft": ("olga-draft", "quinn"),
    "c-hidden": ("quinn-draft", "quinn"),
}
MISSING = "missing"
MISSING_KEY = 2_000_000_000  # beyond every key a test makes


def user_rows() -> list[dict[str, Any]]:
    return [
        {
            "key": key,
            "name": key.title(),
            "email": f"{key}@example.com",
            "deleted_at": at(50) if key in DELETED_USERS else None,
        }
        for key in ROLES_OF
    ]


async def insert_world(engine: AsyncEngine) -> Dataset:
    roles = ("admin", "editor", "moderator", "reader")
    return await insert_fresh(
        engine,
        users=user_rows(),
        roles=[{"key": name, "name": name} for name in roles],
        memberships=[(user, role) for user, held in ROLES_OF.items() for role in sorted(held)],
        posts=[
            {
                "key": key,
                "author": row.author,
                "title": key,
                "published": row.published,
                "deleted_at": at(60) if row.deleted else None,
            }
            for key, row in POSTS.items()
        ],
        comments=[
            {"key": key, "post": post, "author": author} for key, (post, author) in COMMENTS.items()
        ],
    )


# -- the contract, stated plainly --------------------------------------------------------

OK = "ok"
UNAUTHENTICATED = "UNAUTHENTICATED"
NOT_FOUND = "NOT_FOUND"
FORBIDDEN_ROW = "FORBIDDEN row"  # FORBIDDEN with model and id
FORBIDDEN_CALL = "FORBIDDEN call"  # FORBIDDEN: the field is not for this viewer
FORBIDDEN_AUTHOR = "FORBIDDEN input.authorId"  # FORBIDDEN with fields["input.authorId"]


def bad_input(argument: str) -> str:
    return f"BAD_USER_INPUT {argument}"


def me(viewer: str) -> str | None:
    return USER_OF.get(viewer)


def has(viewer: str, role: str) -> bool:
    user = me(viewer)
    return user is not None and role in ROLES_OF[user]


def sees_post(viewer: str, post: str) -> bool:
    """A live-or-not post is readable: published, or the viewer manages it."""
    return POSTS[post].published or manages_post(viewer, post)


def manages_post(viewer: str, post: str) -> bool:
    return POSTS[post].author == me(viewer) or has(viewer, "editor") or has(viewer, "admin")


def live_user(user: str) -> bool:
    return user != MISSING and user not in DELETED_USERS


def expect_user_change(viewer: str, user: str) -> str:
    """updateUser, deleteUser: that user and admins; soft-deleted or missing: NOT_FOUND."""
    if me(viewer) is None:
        return UNAUTHENTICATED
    if not live_user(user):
        return NOT_FOUND
    return OK if user == me(viewer) or has(viewer, "admin") else FORBIDDEN_ROW


def expect_restore_user(viewer: str, user: str) -> str:
    if me(viewer) is None:
        return UNAUTHENTICATED
    if not has(viewer, "admin"):
        return FORBIDDEN_CALL
    return OK if user in DELETED_USERS else NOT_FOUND


def expect_post_change(viewer: str, post: str) -> str:
    """updatePost, deletePost: its author, editors, admins, on a live post the viewer sees."""
    if me(viewer) is None:
        return UNAUTHENTICATED
    if post == MISSING or POSTS[post].deleted or not sees_post(viewer, post):
        return NOT_FOUND
    return OK if manages_post(viewer, post) else FORBIDDEN_ROW


def expect_restore_post(viewer: str, post: str) -> str:
    """A soft-deleted post is visible to its author, editors and admins only: others NOT_FOUND."""
    if me(viewer) is None:
        return UNAUTHENTICATED
    if post == MISSING or not POSTS[post].deleted or not manages_post(viewer, post):
        return NOT_FOUND
    return OK


def expect_create_post(viewer: str, author: str | None) -> str:
    """Signed-in viewers as the author (``None``: left out); editors and admins for anyone."""
    if me(viewer) is None:
        return UNAUTHENTICATED
    if author in (None, me(viewer)):
        return OK
    if not (has(viewer, "editor") or has(viewer, "admin")):
        return FORBIDDEN_AUTHOR
    return OK if live_user(author) else bad_input("input.authorId")


def expect_create_comment(viewer: str, post: str, author: str | None) -> str:
    """Signed-in viewers as the author, on a live post they see; admins for anyone."""
    if me(viewer) is None:
        return UNAUTHENTICATED
    if author not in (None, me(viewer)) and not has(viewer, "admin"):
        return FORBIDDEN_AUTHOR
    if post == MISSING or POSTS[post].deleted or not sees_post(viewer, post):
        return bad_input("input.postId")
    return OK


def comment_change(viewer: str, comment: str, allowed: Callable[[str, str], bool]) -> str:
    if me(viewer) is None:
        return UNAUTHENTICATED
    if comment == MISSING or not sees_post(viewer, COMMENTS[comment][0]):
        return NOT_FOUND
    return OK if allowed(viewer, comment) else FORBIDDEN_ROW


def expect_update_comment(viewer: str, comment: str) -> str:
    """Its author, admins."""
    return comment_change(
        viewer,
        comment,
        lambda v, c: COMMENTS[c][1] == me(v) or has(v, "admin"),
    )


def expect_delete_comment(viewer: str, comment: str) -> str:
    """Its author, the post's author, moderators, admins."""
    return comment_change(
        viewer,
        comment,
        lambda v, c: (
            COMMENTS[c][1] == me(v)
            or POSTS[COMMENTS[c][0]].author == me(v)
            or has(v, "moderator")
            or has(v, "admin")
        ),
    )


def expect_admin_only(viewer: str, problem: str | None = None) -> str:
    """createUser, createRole, assignRole, revokeRole: admins; ``problem`` is an input error."""
    if me(viewer) is None:
        return UNAUTHENTICATED
    if not has(viewer, "admin"):
        return FORBIDDEN_CALL
    return problem or OK


# -- running a case ----------------------------------------------------------------------


@dataclass
class World:
    engine: AsyncEngine
    data: Dataset
    clients: dict[str, GraphQL] = field(default_factory=dict)

    def user(self, key: str) -> str:
        return gid("User", MISSING_KEY if key == MISSING else self.data.users[key])

    def post(self, key: str) -> str:
        return gid("Post", MISSING_KEY if key == MISSING else self.data.posts[key])

    def comment(self, key: str) -> str:
        return gid("Comment", MISSING_KEY if key == MISSING else self.data.comments[key])

    def role(self, key: str) -> str:
        return gid("Role", MISSING_KEY if key == MISSING else self.data.roles[key])


@pytest.fixture
async def world(app: Starlette, committed_engine: AsyncEngine) -> AsyncIterator[World]:
    """The world's rows, and a client for each viewer (a real token; none when anonymous)."""
    data = await insert_world(committed_engine)
    auth: Authenticator = await app.state.container.get(Authenticator)
    transport = httpx.ASGITransport(app=app)
    world = World(committed_engine, data)
    opened = []
    for viewer in VIEWERS:
        headers = {}
        user = me(viewer)
        if user is not None:
            headers["Authorization"] = f"Bearer {auth.tokens.issue(data.users[user]).token}"
        http = httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers)
        opened.append(http)
        world.clients[viewer] = GraphQL(http)
    try:
        yield world
    finally:
        for http in opened:
            await http.aclose()


@dataclass(frozen=True)
class Case:
    """One call of one mutation: ``target`` names what it acts on, for messages and pairing."""

    target: str
    query: str
    variables: dict[str, Any]
    expected: str
    model: str  # the type of the row the ID names (for NOT_FOUND and FORBIDDEN)
    id: str | None  # the global ID asked for (of the row, or of the create's target)
    returns: dict[str, Any] = field(default_factory=dict)  # part of the answer when allowed


class _Set:
    """Equal to any value but ``None`` (a ``deletedAt`` that is set)."""

    def __eq__(self, other: object) -> bool:
        return other is not None

    def __hash__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "<set>"


SET = _Set()


@dataclass(frozen=True)
class Names:
    """Equal to a list of ``{"name": ...}`` objects with these names, in any order."""

    names: frozenset[str]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, list) and {item["name"] for item in other} == self.names

    def __hash__(self) -> int:
        return hash(self.names)


def strip_id(error: dict[str, Any], id: str | None) -> str:
    text = json.dumps(error, sort_keys=True)
    return text if id is None else text.replace(id, "<ID>")


async def run(world: World, viewer: str, field_name: str, cases: list[Case]) -> None:
    """Run the cases in order; check each answer, and that every denial changed nothing."""
    gql = world.clients[viewer]
    denied: dict[str, list[tuple[Case, dict[str, Any]]]] = {}
    for case in cases:
        label = f"{viewer} {field_name} {case.target}: expected {case.expected}"
        before = None if case.expected == OK else await snapshot(world.engine)
        body = await gql(case.query, case.variables)
        if case.expected == OK:
            assert "errors" not in body, (label, body)
            answer = body["data"][field_name]
            assert answer is not None, (label, body)
            assert {key: answer[key] for key in case.returns} == case.returns, (label, answer)
            continue
        assert body.get("data") == {field_name: None}, (label, body)
        assert len(body.get("errors", [])) == 1, (label, body)
        error = body["errors"][0]
        assert error["path"] == [field_name], (label, error)
        assert error["message"], (label, error)
        assert extensions_match(error["extensions"], case), (label, error)
        assert await snapshot(world.engine) == before, f"{label}: a denial changed the database"
        denied.setdefault(case.expected, []).append((case, error))
    # A row the viewer cannot see answers exactly as an ID that matches nothing.
    for errors in denied.values():
        missing = [strip_id(error, c.id) for c, error in errors if c.target.endswith(MISSING)]
        for case, error in errors:
            assert not missing or strip_id(error, case.id) == missing[0], (
                f"{viewer} {field_name}: {case.target} answers unlike a missing ID",
                error,
                missing[0],
            )


def extensions_match(extensions: dict[str, Any], case: Case) -> bool:
    expected = case.expected
    if expected == UNAUTHENTICATED:
        return extensions == {"code": "UNAUTHENTICATED"}
    if expected in (NOT_FOUND, FORBIDDEN_ROW):
        code = expected.split()[0]
        return extensions == {"code": code, "model": case.model, "id": case.id}
    if expected == FORBIDDEN_CALL:
        return extensions["code"] == "FORBIDDEN" and "id" not in extensions
    if expected == FORBIDDEN_AUTHOR:
        return (
            extensions["code"] == "FORBIDDEN"
            and set(extensions.get("fields") or {}) == {"input.authorId"}
            and "id" not in extensions
        )
    code, argument = expected.split()
    return extensions["code"] == code and set(extensions.get("fields") or {}) == {argument}


# -- the matrix ------------------------------------------------------------------------------

UPDATE_USER = (
    'mutation($id: ID!) { updateUser(id: $id, input: {name: "Renamed"}) { id name email } }'
)
DELETE_USER = "mutation($id: ID!) { deleteUser(id: $id) { id deletedAt } }"
RESTORE_USER = "mutation($id: ID!) { restoreUser(id: $id) { id deletedAt } }"
CREATE_POST = (
    "mutation($input: CreatePostInput!) { createPost(input: $input) { id author { id email } } }"
)
UPDATE_POST = 'mutation($id: ID!) { updatePost(id: $id, input: {title: "Changed"}) { id title } }'
DELETE_POST = "mutation($id: ID!) { deletePost(id: $id) { id deletedAt } }"
RESTORE_POST = "mutation($id: ID!) { restorePost(id: $id) { id deletedAt } }"
CREATE_COMMENT = (
    "mutation($input: CreateCommentInput!) "
    "{ createComment(input: $input) { id author { id email } post { id } } }"
)
UPDATE_COMMENT = (
    'mutation($id: ID!) { updateComment(id: $id, input: {body: "Edited"}) { id body } }'
)
DELETE_COMMENT = "mutation($id: ID!) { deleteComment(id: $id) { id body } }"
CREATE_USER = "mutation($input: CreateUserInput!) { createUser(input: $input) { id name } }"
CREATE_ROLE = "mutation($input: CreateRoleInput!) { createRole(input: $input) { id name } }"
ASSIGN_ROLE = (
    "mutation($u: ID!, $r: ID!) { assignRole(userId: $u, roleId: $r) { id roles { name } } }"
)
REVOKE_ROLE = (
    "mutation($u: ID!, $r: ID!) { revokeRole(userId: $u, roleId: $r) { id roles { name } } }"
)


def user_targets(viewer: str) -> list[str]:
    """Another's row, a soft-deleted one, a missing ID, and last the viewer's own."""
    own = me(viewer) or "olga"
    return ["quinn", "gone", MISSING, own]


def update_user_cases(world: World, viewer: str) -> list[Case]:
    return [
        Case(
            user,
            UPDATE_USER,
            {"id": world.user(user)},
            expect_user_change(viewer, user),
            "User",
            world.user(user),
            {"id": world.user(user), "name": "Renamed", "email": f"{user}@example.com"},
        )
        for user in user_targets(viewer)
    ]


def delete_user_cases(world: World, viewer: str) -> list[Case]:
    # The viewer's own account goes last: after it, the viewer's token is refused.
    return [
        Case(
            user,
            DELETE_USER,
            {"id": world.user(user)},
            expect_user_change(viewer, user),
            "User",
            world.user(user),
            {"id": world.user(user), "deletedAt": SET},
        )
        for user in user_targets(viewer)
    ]


def restore_user_cases(world: World, viewer: str) -> list[Case]:
    return [
        Case(
            user,
            RESTORE_USER,
            {"id": world.user(user)},
            expect_restore_user(viewer, user),
            "User",
            world.user(user),
            {"id": world.user(user), "deletedAt": None},
        )
        for user in ("quinn", MISSING, "gone")
    ]


def post_cases(world: World, viewer: str, query: str, returns: dict[str, Any]) -> list[Case]:
    targets = ["olga-pub", "olga-draft", "quinn-pub", "quinn-draft", "olga-trash", MISSING]
    return [
        Case(
            post,
            query,
            {"id": world.post(post)},
            expect_post_change(viewer, post),
            "Post",
            world.post(post),
            {"id": world.post(post), **returns},
        )
        for post in targets
    ]


def restore_post_cases(world: World, viewer: str) -> list[Case]:
    targets = ["olga-pub", "quinn-draft", "olga-trash", "quinn-trash", MISSING]
    return [
        Case(
            post,
            RESTORE_POST,
            {"id": world.post(post)},
            expect_restore_post(viewer, post),
            "Post",
            world.post(post),
            {"id": world.post(post), "deletedAt": None},
        )
        for post in targets
    ]


def author_seen(world: World, viewer: str, author: str | None) -> dict[str, Any]:
    """A new row's author as the viewer sees it: its email only to itself and admins."""
    user = author or me(viewer) or "olga"
    email = f"{user}@example.com" if user == me(viewer) or has(viewer, "admin") else None
    return {"id": world.user(user), "email": email}


def create_post_cases(world: World, viewer: str) -> list[Case]:
    authors: list[str | None] = [None, me(viewer) or "olga", "quinn", "gone", MISSING]
    cases = []
    for author in authors:
        input: dict[str, Any] = {"title": "New", "body": "Text"}
        if author is not None:
            input["authorId"] = world.user(author)
        cases.append(
            Case(
                f"author {author}",
                CREATE_POST,
                {"input": input},
                expect_create_post(viewer, author),
                "User",
                None if author is None else world.user(author),
                {"author": author_seen(world, viewer, author)},
            )
        )
    return cases


def create_comment_cases(world: World, viewer: str) -> list[Case]:
    cases = []
    combos: list[tuple[str, str | None]] = [
        ("quinn-pub", None),
        ("quinn-pub", me(viewer) or "olga"),
        ("quinn-pub", "quinn"),
        ("quinn-draft", None),
        ("olga-draft", None),
        ("olga-trash", None),
        (MISSING, None),
    ]
    for post, author in combos:
        input: dict[str, Any] = {"postId": world.post(post), "body": "Hello"}
        if author is not None:
            input["authorId"] = world.user(author)
        expected = expect_create_comment(viewer, post, author)
        cases.append(
            Case(
                f"by {author} on {post}",
                CREATE_COMMENT,
                {"input": input},
                expected,
                "Post",
                world.user(author) if expected == FORBIDDEN_AUTHOR and author else world.post(post),
                {"author": author_seen(world, viewer, author), "post": {"id": world.post(post)}},
            )
        )
    return cases


COMMENT_TARGETS = [
    "c-olga",
    "c-pete",
    "c-quinn",
    "c-quinn-on-olga",
    "c-quinn-on-olga-draft",
    "c-hidden",
    MISSING,
]


def comment_cases(
    world: World,
    viewer: str,
    query: str,
    expect: Callable[[str, str], str],
    returns: dict[str, Any],
) -> list[Case]:
    return [
        Case(
            comment,
            query,
            {"id": world.comment(comment)},
            expect(viewer, comment),
            "Comment",
            world.comment(comment),
            {"id": world.comment(comment), **returns},
        )
        for comment in COMMENT_TARGETS
    ]


def admin_cases(world: World, viewer: str, mutation: str) -> list[Case]:
    if mutation == "createUser":
        input = {"name": "Newcomer", "email": "newcomer@example.com"}
        expected = expect_admin_only(viewer)
        return [
            Case("new", CREATE_USER, {"input": input}, expected, "User", None, {"name": "Newcomer"})
        ]
    if mutation == "createRole":
        input = {"name": "auditor"}
        expected = expect_admin_only(viewer)
        return [Case("new", CREATE_ROLE, {"input": input}, expected, "Role", None, input)]
    query = ASSIGN_ROLE if mutation == "assignRole" else REVOKE_ROLE
    combos: list[tuple[str, str, str | None]] = [
        ("quinn", "editor", None),
        ("quinn", "reader", None),
    ]
    combos += [("gone", "editor", "userId"), (MISSING, "editor", "userId")]
    combos += [("quinn", MISSING, "roleId")]
    # Quinn is a reader: the roles after each allowed call, in turn (doing it twice is fine).
    after = [{"editor", "reader"}, {"editor", "reader"}]
    if mutation == "revokeRole":
        after = [{"reader"}, set()]
    cases = []
    for index, (user, role, problem) in enumerate(combos):
        expected = expect_admin_only(viewer, None if problem is None else bad_input(problem))
        # A target that ends in MISSING is the one the hidden ones must answer like.
        target = f"{user} {role}" if MISSING not in (user, role) else f"{user} {role} {MISSING}"
        cases.append(
            Case(
                target,
                query,
                {"u": world.user(user), "r": world.role(role)},
                expected,
                "User",
                world.role(role) if problem == "roleId" else world.user(user),
                {"id": world.user(user), "roles": Names(frozenset(after[index]))}
                if index < len(after)
                else {},
            )
        )
    return cases


MUTATIONS: dict[str, Callable[[World, str], list[Case]]] = {
    "updateUser": update_user_cases,
    "deleteUser": delete_user_cases,
    "restoreUser": restore_user_cases,
    "createPost": create_post_cases,
    "updatePost": lambda world, viewer: post_cases(
        world, viewer, UPDATE_POST, {"title": "Changed"}
    ),
    "deletePost": lambda world, viewer: post_cases(world, viewer, DELETE_POST, {"deletedAt": SET}),
    "restorePost": restore_post_cases,
    "createComment": create_comment_cases,
    "updateComment": lambda world, viewer: comment_cases(
        world, viewer, UPDATE_COMMENT, expect_update_comment, {"body": "Edited"}
    ),
    "deleteComment": lambda world, viewer: comment_cases(
        world, viewer, DELETE_COMMENT, expect_delete_comment, {}
    ),
    "createUser": lambda world, viewer: admin_cases(world, viewer, "createUser"),
    "createRole": lambda world, viewer: admin_cases(world, viewer, "createRole"),
    "assignRole": lambda world, viewer: admin_cases(world, viewer, "assignRole"),
    "revokeRole": lambda world, viewer: admin_cases(world, viewer, "revokeRole"),
}


@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize("mutation", list(MUTATIONS))
async def test_each_viewer_may_do_what_the_contract_allows(
    world: World, viewer: str, mutation: str
) -> None:
    await run(world, viewer, mutation, MUTATIONS[mutation](world, viewer))


async def test_a_denied_mutation_is_a_field_error_and_the_rest_of_the_document_runs(
    world: World,
) -> None:
    before = await snapshot(world.engine)
    query = """
    mutation($post: ID!, $pete: ID!) {
      denied: deletePost(id: $post) { id }
      allowed: updateUser(id: $pete, input: {name: "Pete Again"}) { name }
    }"""

    body = await world.clients["other"](
        query, {"post": world.post("olga-pub"), "pete": world.user("pete")}
    )

    assert body["data"] == {"denied": None, "allowed": {"name": "Pete Again"}}
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
        (["denied"], "FORBIDDEN")
    ]
    after = await snapshot(world.engine)
    assert after["posts"] == before["posts"]


VIEWER_CAN = """
{
  users(first: 50) { nodes { id viewerCanUpdate viewerCanDelete } }
  posts(first: 50) { nodes { id viewerCanUpdate viewerCanDelete } }
  comments(first: 50) { nodes { id viewerCanUpdate viewerCanDelete } }
}
"""


@pytest.mark.parametrize("viewer", VIEWERS)
async def test_viewer_can_fields_say_whether_the_mutation_would_be_allowed(
    world: World, viewer: str
) -> None:
    data = await world.clients[viewer].data(VIEWER_CAN)

    def flags(type_name: str) -> dict[str, tuple[bool, bool]]:
        nodes = data[type_name]["nodes"]
        return {node["id"]: (node["viewerCanUpdate"], node["viewerCanDelete"]) for node in nodes}

    assert flags("users") == {
        world.user(user): (expect_user_change(viewer, user) == OK,) * 2
        for user in ROLES_OF
        if live_user(user)
    }
    assert flags("posts") == {
        world.post(post): (expect_post_change(viewer, post) == OK,) * 2
        for post, row in POSTS.items()
        if not row.deleted and sees_post(viewer, post)
    }
    assert flags("comments") == {
        world.comment(comment): (
            expect_update_comment(viewer, comment) == OK,
            expect_delete_comment(viewer, comment) == OK,
        )
        for comment, (post, _author) in COMMENTS.items()
        if sees_post(viewer, post)
    }
