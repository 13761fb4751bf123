"""A repository's row scope holds on every path that reads rows (the "one door" probe).

The scopes here hide one user, Dee, as a tenant rule or an authorization
rule would: ``UserRepository.scope`` keeps users whose name is not the
request's ``probe_hidden`` value, and ``CommentRepository.scope`` keeps
comments whose author is kept. Every query runs on the fast path and again
through the resolvers (``tests.verify``), so both paths must agree; the
assertions below check what they agree on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import bindparam, exists, select
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from fast_query import RowScope
from models import Post, User
from repositories import CommentRepository, PostRepository, RoleRepository, UserRepository
from schema.rows import RowParams
from schema.viewer import Viewer
from tests.api import Dataset, GraphQL, StatementCounter, gid, snapshot


def kept_users(users: Any) -> Any:
    return users.name != bindparam("probe_hidden")


def kept_comments(comments: Any) -> Any:
    return exists(select(User.id).where(User.id == comments.user_id, kept_users(User)))


def probe_params(hidden: str) -> Callable[[Viewer], RowParams]:
    """The request's values (its viewer's) plus ``probe_hidden``: the user to hide."""

    def provide(viewer: Viewer) -> RowParams:
        return RowParams({**viewer.params(), "probe_hidden": hidden}, viewer)

    return provide


@pytest.fixture
def hide(app: Starlette, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Scopes that hide the user named by ``probe_hidden`` (Dee) and her comments."""
    monkeypatch.setattr(UserRepository, "scope", RowScope(kept_users))
    monkeypatch.setattr(CommentRepository, "scope", RowScope(kept_comments))
    with app.state.container.override(RowParams, factory=probe_params("Dee Quiet")):
        yield


async def test_a_hidden_row_is_absent_from_lists_counts_and_lookups(
    gql: GraphQL, blog: Dataset, hide: None
) -> None:
    dee = gid("User", blog.users["dee"])
    data = await gql.data(
        """query($dee: ID!) {
          users { totalCount nodes { name } }
          trashed: users(trashed: WITH, orderBy: [{field: NAME}]) { totalCount nodes { name } }
          comments { totalCount nodes { body author { name } } }
          node(id: $dee) { id }
          nodes(ids: [$dee]) { id }
        }""",
        {"dee": dee},
    )
    assert data["users"] == {
        "totalCount": 2,
        "nodes": [{"name": "Ada Lovelace"}, {"name": "Bob Builder"}],
    }
    assert [node["name"] for node in data["trashed"]["nodes"]] == [
        "Ada Lovelace",
        "Bob Builder",
        "Cyd Gone",
    ]
    assert data["trashed"]["totalCount"] == 3
    assert data["comments"]["totalCount"] == 4
    assert "Quietly impressed" not in str(data["comments"])
    assert data["node"] is None
    assert data["nodes"] == [None]

    lookup = await gql("query($dee: ID!) { user(id: $dee) { name } }", {"dee": dee})
    assert lookup["data"] == {"user": None}
    assert [e["extensions"]["code"] for e in lookup["errors"]] == ["NOT_FOUND"]


async def test_a_hidden_row_is_absent_from_nested_relations(
    gql: GraphQL, blog: Dataset, hide: None
) -> None:
    data = await gql.data(
        """query($a1: ID!) {
          post(id: $a1) { comments { totalCount nodes { author { name } } } }
          users { nodes { name comments { totalCount } roles { name } } }
          roles(where: {name: {eq: "reader"}}) { nodes { users { nodes { name } } } }
        }""",
        {"a1": gid("Post", blog.posts["a1"])},
    )
    assert data["post"]["comments"] == {
        "totalCount": 2,
        "nodes": [{"author": {"name": "Bob Builder"}}, {"author": {"name": "Cyd Gone"}}],
    }
    assert [user["name"] for user in data["users"]["nodes"]] == ["Ada Lovelace", "Bob Builder"]
    assert "Dee" not in str(data)


async def test_relation_filters_see_only_rows_in_scope(
    gql: GraphQL, blog: Dataset, hide: None
) -> None:
    data = await gql.data(
        """{
          some: posts(where: {comments: {some: {author: {name: {eq: "Dee Quiet"}}}}}) {
            totalCount
          }
          none: posts(where: {comments: {none: {body: {eq: "Quietly impressed"}}}}) {
            nodes { title }
          }
          users(where: {posts: {some: {comments: {some: {body: {eq: "Quietly impressed"}}}}}}) {
            nodes { name }
          }
        }"""
    )
    assert data["some"] == {"totalCount": 0}
    assert {"title": "Analytical Engine"} in data["none"]["nodes"]
    assert data["users"] == {"nodes": []}


async def test_a_to_one_relation_to_a_hidden_row_never_shows_it(
    app: Starlette, gql: GraphQL, blog: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only users are scoped: Dee's comment stays, its author is hidden. The
    # relation and a filter on it find no row, as for a missing one.
    monkeypatch.setattr(UserRepository, "scope", RowScope(kept_users))
    with app.state.container.override(RowParams, factory=probe_params("Dee Quiet")):
        filtered = await gql.data(
            '{ comments(where: {author: {name: {eq: "Dee Quiet"}}}) { totalCount } }'
        )
        body = await gql(
            "query($id: ID!) { comment(id: $id) { body author { name } } }",
            {"id": gid("Comment", blog.comments["c-a1-dee"])},
        )
    assert filtered == {"comments": {"totalCount": 0}}
    assert "Dee" not in str(body.get("data"))
    assert [e["path"] for e in body["errors"]] == [["comment", "author"]]


async def test_writes_cannot_reach_a_hidden_row(
    gql: GraphQL, blog: Dataset, hide: None, committed_engine: AsyncEngine
) -> None:
    before = await snapshot(committed_engine)
    dee = gid("User", blog.users["dee"])
    created = await gql(
        "mutation($post: ID!, $dee: ID!) "
        '{ createComment(input: {postId: $post, authorId: $dee, body: "Hi"}) { id } }',
        {"post": gid("Post", blog.posts["a1"]), "dee": dee},
    )
    updated = await gql(
        'mutation($dee: ID!) { updateUser(id: $dee, input: {name: "Dee Loud"}) { id } }',
        {"dee": dee},
    )
    deleted = await gql(
        "mutation($id: ID!) { deleteComment(id: $id) { id } }",
        {"id": gid("Comment", blog.comments["c-a1-dee"])},
    )
    assert created["errors"][0]["extensions"]["fields"] == {"input.authorId": "not found"}
    assert [e["extensions"]["code"] for e in updated["errors"]] == ["NOT_FOUND"]
    assert [e["extensions"]["code"] for e in deleted["errors"]] == ["NOT_FOUND"]
    assert await snapshot(committed_engine) == before


QUERIES = [
    "{ users { totalCount nodes { name } } }",
    "{ comments(first: 3) { nodes { body author { name } post { title } } } }",
    "{ users { nodes { posts { totalCount nodes { comments { nodes { body } } } } } } }",
    '{ posts(where: {comments: {some: {body: {contains: "i"}}}}) { nodes { title } } }',
]


@pytest.mark.parametrize("query", QUERIES)
async def test_a_scope_keeps_the_statement_count_and_the_statement_cache(
    app: Starlette,
    gql: GraphQL,
    blog: Dataset,
    sql: StatementCounter,
    monkeypatch: pytest.MonkeyPatch,
    query: str,
) -> None:
    with sql:
        await gql.data(query)
    unscoped = sql.count

    monkeypatch.setattr(UserRepository, "scope", RowScope(kept_users))
    monkeypatch.setattr(CommentRepository, "scope", RowScope(kept_comments))
    templates = app.state.graphql.fast_path.templates
    counts, sizes, answers = [], [], []
    for hidden in ("Dee Quiet", "Bob Builder", "Dee Quiet"):
        with app.state.container.override(RowParams, factory=probe_params(hidden)):
            before = sql.count
            with sql:
                answers.append(await gql.data(query))
            counts.append(sql.count - before)
            sizes.append(len(templates))
    assert counts == [unscoped] * 3
    # The scope's value is a parameter: another value builds no new statement.
    assert sizes[0] == sizes[1] == sizes[2]
    assert answers[0] == answers[2]


async def test_a_scope_without_its_value_answers_an_error_never_rows(
    gql: GraphQL, blog: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No RowParams override: ``probe_hidden`` has no value. Binding it as NULL would
    # make the condition unknown and hide everyone, or, negated, show everyone.
    monkeypatch.setattr(UserRepository, "scope", RowScope(kept_users))
    body = await gql("{ users { nodes { name } } }")
    assert body.get("data") is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["INTERNAL_SERVER_ERROR"]


def published_something(users: Any) -> Any:
    return exists(select(Post.id).where(Post.user_id == users.id, Post.published.is_(True)))


async def test_a_scope_with_a_subquery_holds_on_joined_to_one_relations(
    gql: GraphQL, blog: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The author is read in the posts' own statement (a join): the scope's subquery
    # on posts must not be correlated with the posts being listed.
    monkeypatch.setattr(UserRepository, "scope", RowScope(published_something))
    data = await gql.data(
        "{ users { nodes { name } } "
        "posts(orderBy: [{field: TITLE}]) { nodes { title author { name } } } }"
    )
    assert data["users"] == {"nodes": [{"name": "Ada Lovelace"}, {"name": "Bob Builder"}]}
    assert data["posts"]["nodes"][0] == {
        "title": "Analytical Engine",
        "author": {"name": "Ada Lovelace"},
    }


async def test_aliases_of_one_relation_read_alike_whether_joined_or_not(
    gql: GraphQL, blog: Dataset
) -> None:
    data = await gql.data(
        "query($id: ID!) { post(id: $id) "
        "{ a: author { name } b: author { email posts { totalCount } } } }",
        {"id": gid("Post", blog.posts["b1"])},
    )
    assert data == {
        "post": {
            "a": {"name": "Bob Builder"},
            "b": {"email": "bob@example.com", "posts": {"totalCount": 2}},
        }
    }


def not_reader(roles: Any) -> Any:
    return roles.name != "reader"


async def test_a_scope_holds_for_lists_of_members_and_membership_writes(
    gql: GraphQL, blog: Dataset, monkeypatch: pytest.MonkeyPatch, committed_engine: AsyncEngine
) -> None:
    monkeypatch.setattr(RoleRepository, "scope", RowScope(not_reader))
    monkeypatch.setattr(
        PostRepository, "scope", RowScope(lambda posts: posts.title != "Trashed idea")
    )
    before = await snapshot(committed_engine)
    data = await gql.data("{ users(trashed: WITH) { nodes { name roles { name } } } }")
    assigned = await gql(
        "mutation($user: ID!, $role: ID!) { assignRole(userId: $user, roleId: $role) { id } }",
        {"user": gid("User", blog.users["dee"]), "role": gid("Role", blog.roles["reader"])},
    )
    restored = await gql(
        "mutation($id: ID!) { restorePost(id: $id) { id } }",
        {"id": gid("Post", blog.posts["a3"])},
    )

    assert {role["name"] for user in data["users"]["nodes"] for role in user["roles"]} == {
        "admin",
        "editor",
    }
    assert assigned["errors"][0]["extensions"]["fields"] == {"roleId": "not found"}
    assert [e["extensions"]["code"] for e in restored["errors"]] == ["NOT_FOUND"]
    assert await snapshot(committed_engine) == before
