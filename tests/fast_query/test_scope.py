"""Row scopes: a repository's condition on its rows holds for every read and write."""

from __future__ import annotations

from typing import Any, cast

import pytest
from sqlalchemy import bindparam, select
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from fast_query import (
    NO_SCOPES,
    BaseRepository,
    QueryBuilder,
    RecordNotFound,
    RowScope,
    Scopes,
    Trashed,
    compile_select,
    where_all,
)
from models import Post, Role, User
from tests.conftest import StatementCounter
from tests.fast_query.support import Blog, CommentRepository, RoleRepository, UserRepository

# Every test here reads one blog, seeded once for the module (see conftest.py).
SEEDED_ONCE = True


# The request's values are bind parameters: the SQL is the same for every request.
HIDE_USER = RowScope(lambda users: users.name != bindparam("hidden_user"))
HIDE_POST = RowScope(lambda posts: posts.title != bindparam("hidden_post"))


class ScopedUsers(BaseRepository[User]):
    model = User
    scope = HIDE_USER


class ScopedPosts(BaseRepository[Post]):
    model = Post
    scope = HIDE_POST


SCOPES = Scopes.of([ScopedUsers, ScopedPosts, CommentRepository, RoleRepository])


def hiding(user: str = "", post: str = "") -> dict[str, str]:
    """The params that hide the user named ``user`` and the post titled ``post``."""
    return {"hidden_user": user, "hidden_post": post}


def scoped(model: type[Any], session: AsyncSession, **hidden: str) -> QueryBuilder[Any]:
    return QueryBuilder(model, session, scopes=SCOPES, params=hiding(**hidden))


def names(users: list[User]) -> list[str]:
    return [user.name for user in users]


# -- Scopes -------------------------------------------------------------------------


def test_scopes_of_repositories() -> None:
    assert SCOPES.scope_of(User) is HIDE_USER
    assert SCOPES.scope_of(Role) is None
    assert SCOPES.key(User) == (HIDE_USER, None, (), ())
    assert SCOPES.key(Role) == (None, None, (), ())
    assert Scopes.of([ScopedUsers]).scope_of(Post) is None
    assert ScopedUsers(session=None).scopes.scope_of(User) is HIDE_USER  # type: ignore[arg-type]
    assert UserRepository(session=None).scopes.scope_of(User) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("scopes", "model", "trashed", "sql"),
    [
        pytest.param(
            SCOPES,
            User,
            Trashed.WITHOUT,
            "users.deleted_at IS NULL AND users.name != :hidden_user",
            id="scope-and-live",
        ),
        pytest.param(SCOPES, User, Trashed.WITH, "users.name != :hidden_user", id="with-trashed"),
        pytest.param(
            SCOPES,
            User,
            Trashed.ONLY,
            "users.deleted_at IS NOT NULL AND users.name != :hidden_user",
            id="only-trashed",
        ),
        pytest.param(SCOPES, Role, Trashed.WITHOUT, None, id="neither"),
        pytest.param(SCOPES, Role, Trashed.ONLY, "false", id="nothing-trashed"),
        pytest.param(NO_SCOPES, User, Trashed.WITHOUT, "users.deleted_at IS NULL", id="no-scopes"),
        pytest.param(NO_SCOPES, User, Trashed.WITH, None, id="no-scopes-with-trashed"),
    ],
)
def test_criteria(scopes: Scopes, model: type[Any], trashed: Trashed, sql: str | None) -> None:
    criteria = scopes.criteria(model, trashed)
    assert (None if criteria is None else str(criteria)) == sql


def test_criteria_on_an_aliased_entity() -> None:
    author = aliased(User, name="author")
    criteria = SCOPES.criteria(User, entity=author)
    assert str(criteria) == "author.deleted_at IS NULL AND author.name != :hidden_user"
    statement = where_all(select(author.id), criteria)
    assert "FROM users AS author WHERE" in " ".join(str(statement).split())


# -- the repository ---------------------------------------------------------------------


async def test_repository_reads_see_only_the_scope(session: AsyncSession, blog: Blog) -> None:
    users = ScopedUsers(session, params=hiding(user="Bob"))
    bob, ada = blog.users["Bob"], blog.users["Ada"]
    assert await users.find(bob) is None
    assert (await users.find_or_fail(ada)).name == "Ada"
    with pytest.raises(RecordNotFound):
        await users.find_or_fail(bob)
    assert names(await users.find_many([ada, bob])) == ["Ada"]
    assert names(await users.all()) == ["Ada", "Dee", "Eve"]
    assert await users.count() == 3
    assert not await users.exists(name="Bob")
    assert await users.exists(name="Ada")
    page = await users.paginate(page=1, per_page=2)
    assert (names(page.items), page.total) == (["Ada", "Dee"], 3)


async def test_repository_scope_holds_with_trashed_rows(session: AsyncSession, blog: Blog) -> None:
    users = ScopedUsers(session, params=hiding(user="Bob"))
    assert names(await users.all(trashed=Trashed.WITH)) == ["Ada", "Cyd", "Dee", "Eve"]
    assert names(await users.all(trashed=Trashed.ONLY)) == ["Cyd"]
    without_cyd = ScopedUsers(session, params=hiding(user="Cyd"))
    assert await without_cyd.find(blog.users["Cyd"], trashed=Trashed.WITH) is None
    assert await without_cyd.count(trashed=Trashed.ONLY) == 0
    assert (await without_cyd.paginate(trashed=Trashed.WITH)).total == 4


async def test_repository_writes_outside_the_scope_raise(session: AsyncSession, blog: Blog) -> None:
    users = ScopedUsers(session, params=hiding(user="Bob"))
    bob = blog.users["Bob"]
    with pytest.raises(RecordNotFound):
        await users.update(bob, name="Robert")
    with pytest.raises(RecordNotFound):
        await users.delete(bob)
    with pytest.raises(RecordNotFound):
        await users.force_delete(bob)
    loaded = await UserRepository(session).find_or_fail(bob)
    assert (loaded.name, loaded.deleted_at) == ("Bob", None)
    with pytest.raises(RecordNotFound):
        await ScopedUsers(session, params=hiding(user="Cyd")).restore(blog.users["Cyd"])
    # Rows inside the scope are written as before.
    assert (await users.update(blog.users["Ada"], name="Ada L.")).name == "Ada L."
    assert (await users.update(await users.find_or_fail(blog.users["Dee"]), name="D")).name == "D"
    assert (await users.restore(blog.users["Cyd"])).deleted_at is None


async def test_missing_params_fail_rather_than_match(session: AsyncSession, blog: Blog) -> None:
    with pytest.raises(StatementError, match="hidden_user"):
        await ScopedUsers(session).count()


# -- the builder: relations, loads, counts, grouped reads ------------------------------


async def test_where_has_sees_only_related_rows_in_scope(session: AsyncSession, blog: Blog) -> None:
    users = scoped(User, session, post="Bob writes").order_by("id")
    assert await users.where_has("posts").pluck("name") == ["Ada"]
    assert await users.where_doesnt_have("posts").pluck("name") == ["Bob", "Dee", "Eve"]
    published = users.where_has("posts", lambda posts: posts.where(published=True))
    assert await published.pluck("name") == ["Ada"]
    commented = scoped(User, session, post="GraphQL basics").where_has("posts.comments")
    assert await commented.pluck("name") == []
    posts = scoped(Post, session, user="Ada").order_by("id")
    assert await posts.where_has("author").pluck("title") == ["Bob writes"]
    assert await posts.with_trashed().where_doesnt_have("author").pluck("title") == [
        "GraphQL basics",
        "SQL tricks",
        "Old news",
        "Ghost story",
    ]


@pytest.mark.parametrize("loader", ["with_", "with_joined"])
async def test_eager_loads_see_only_the_scope(
    session: AsyncSession, blog: Blog, loader: str
) -> None:
    for hidden, kept in [("SQL tricks", "GraphQL basics"), ("GraphQL basics", "SQL tricks")]:
        session.expunge_all()
        users = getattr(scoped(User, session, post=hidden), loader)("posts")
        loaded = await users.where_in("name", ["Ada", "Bob"]).order_by("id").get()
        assert [(user.name, [post.title for post in user.posts]) for user in loaded] == [
            ("Ada", [kept]),
            ("Bob", ["Bob writes"]),
        ]
    session.expunge_all()
    # A to-one relation keeps its trashed row (Cyd) but not one outside the scope (Ada).
    posts = getattr(scoped(Post, session, user="Ada"), loader)("author")
    loaded = await posts.order_by("id").get()
    assert [(post.title, post.author and post.author.name) for post in loaded] == [
        ("GraphQL basics", None),
        ("SQL tricks", None),
        ("Bob writes", "Bob"),
        ("Ghost story", "Cyd"),
    ]


async def test_dotted_eager_loads_see_only_the_scope(session: AsyncSession, blog: Blog) -> None:
    roles = scoped(Role, session, user="Ada", post="Bob writes").with_("users.posts")
    editor = await roles.where(name="editor").first_or_fail()
    assert [(user.name, user.posts) for user in editor.users] == [("Bob", [])]


async def test_with_count_sees_only_the_scope(session: AsyncSession, blog: Blog) -> None:
    users = scoped(User, session, post="SQL tricks").with_count("posts").order_by("id")
    assert [(user.name, user.posts_count) for user in await users.get()] == [
        ("Ada", 1),
        ("Bob", 1),
        ("Dee", 0),
        ("Eve", 0),
    ]


@pytest.mark.parametrize("limit", [pytest.param(None, id="no-limit"), pytest.param(10, id="limit")])
async def test_grouped_reads_see_only_the_scope(
    session: AsyncSession, blog: Blog, limit: int | None
) -> None:
    ada, bob = blog.users["Ada"], blog.users["Bob"]
    posts = scoped(Post, session, post="SQL tricks").order_by("id")
    groups = await posts.get_grouped(User.posts, [ada, bob], limit_per_parent=limit)
    assert {key: [post.title for post in rows] for key, rows in groups.items()} == {
        ada: ["GraphQL basics"],
        bob: ["Bob writes"],
    }
    trashed = await posts.with_trashed().rows_grouped(
        User.posts, [ada], ["title"], limit_per_parent=limit
    )
    assert [row.title for row in trashed[ada]] == ["GraphQL basics", "Old news"]
    assert await posts.count_grouped(User.posts, [ada, bob]) == {ada: 1, bob: 1}
    editor = blog.roles["editor"]
    members = scoped(User, session, user="Bob").order_by("id")
    by_role = await members.get_grouped(Role.users, [editor], limit_per_parent=limit)
    assert names(by_role[editor]) == ["Ada"]
    assert await members.count_grouped(Role.users, [editor]) == {editor: 1}


# -- one statement, any request ---------------------------------------------------------


async def test_one_statement_serves_every_request(
    session: AsyncSession, blog: Blog, statements: StatementCounter
) -> None:
    without_bob = scoped(User, session, user="Bob").order_by("id")
    without_ada = scoped(User, session, user="Ada").order_by("id")
    assert str(without_bob.statement) == str(without_ada.statement)
    statements.reset()
    assert await without_bob.pluck("name") == ["Ada", "Dee", "Eve"]
    assert await without_ada.pluck("name") == ["Bob", "Dee", "Eve"]
    assert statements.statements[0] == statements.statements[1]
    statement = without_bob.statement
    for hidden, expected in [("Ada", ["Bob", "Dee", "Eve"]), ("Dee", ["Ada", "Bob", "Eve"])]:
        found = await session.scalars(statement, hiding(user=hidden))
        assert names(list(found)) == expected


async def test_a_compiled_template_takes_the_scope_values(
    session: AsyncSession, blog: Blog
) -> None:
    connection = await session.connection()
    query = scoped(Post, session).order_by("id")
    template = compile_select(query.rows_statement("title"), connection.dialect)
    rows = await template.fetch(connection, hiding(post="SQL tricks"))
    assert [row[0] for row in rows] == ["GraphQL basics", "Bob writes", "Ghost story"]
    rows = await template.fetch(connection, hiding(post="Bob writes"))
    assert [row[0] for row in rows] == ["GraphQL basics", "SQL tricks", "Ghost story"]


def test_to_sql_inlines_the_params() -> None:
    query = QueryBuilder(User, scopes=SCOPES, params=hiding(user="Bob"))
    assert query.to_sql("sqlite").endswith("WHERE users.deleted_at IS NULL AND users.name != 'Bob'")
    assert query.where(name="Ada").params == hiding(user="Bob")
    assert query.with_trashed().scopes is SCOPES


def test_a_repository_narrows_its_rows_with_a_scope_not_by_overriding_query() -> None:
    with pytest.raises(TypeError, match="row scope"):

        class Narrowed(BaseRepository[Any]):
            model = object

            def query(self) -> Any:  # pragma: no cover - refused at class creation
                raise AssertionError


def test_a_repository_keeps_its_own_scope_among_the_scopes_it_is_given() -> None:
    own = RowScope(lambda users: users.id > 0)

    class Scoped(BaseRepository[User]):
        model = User
        scope = own

    repository = Scoped(cast(AsyncSession, None), scopes=Scopes())
    assert repository.scopes.scope_of(User) is own
    same = Scopes.of([Scoped])
    assert same.including(Scopes.of([Scoped])) is same  # no new scope: the same object
