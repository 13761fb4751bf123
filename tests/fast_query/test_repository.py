"""BaseRepository: reads, writes, soft and hard deletes, commits and constraint errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from fast_query import (
    BaseRepository,
    ForeignKeyViolation,
    InvalidQuery,
    NotNullViolation,
    Page,
    RecordNotFound,
    RowScope,
    Scopes,
    Trashed,
    UniqueViolation,
    create_session_factory,
    utcnow,
)
from models import Comment, Post, Role, User, user_roles
from tests.conftest import StatementCounter
from tests.fast_query.support import (
    EPOCH,
    Blog,
    CommentRepository,
    PostRepository,
    RoleRepository,
    UserRepository,
)


async def rows_in(session: AsyncSession, model: type[Any]) -> int:
    """How many rows the table really holds, soft-deleted ones included."""
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def stored(session: AsyncSession, user_id: int) -> tuple[Any, ...]:
    """(name, created_at, updated_at, deleted_at) as the database has them."""
    row = (
        await session.execute(
            select(User.name, User.created_at, User.updated_at, User.deleted_at).where(
                User.id == user_id
            )
        )
    ).one()
    return tuple(row)


# -- reads ----------------------------------------------------------------------


async def test_find(session: AsyncSession, blog: Blog) -> None:
    users = UserRepository(session)
    ada = await users.find(blog.users["Ada"])
    assert ada is not None
    assert (ada.id, ada.name) == (blog.users["Ada"], "Ada")
    assert await users.find(blog.users["Ada"]) is ada  # the identity map's object
    assert await users.find(10_000) is None


@pytest.mark.parametrize(
    ("trashed", "found"),
    [
        pytest.param(Trashed.WITHOUT, False, id="without"),
        pytest.param(Trashed.WITH, True, id="with"),
        pytest.param(Trashed.ONLY, True, id="only"),
    ],
)
async def test_find_trashed(
    session: AsyncSession, blog: Blog, trashed: Trashed, found: bool
) -> None:
    users = UserRepository(session)
    cyd = await users.find(blog.users["Cyd"], trashed=trashed)
    assert (cyd is not None) is found
    ada = await users.find(blog.users["Ada"], trashed=trashed)
    assert (ada is not None) is (trashed is not Trashed.ONLY)


async def test_find_or_fail(session: AsyncSession, blog: Blog) -> None:
    users = UserRepository(session)
    assert (await users.find_or_fail(blog.users["Bob"])).name == "Bob"
    with pytest.raises(RecordNotFound) as caught:
        await users.find_or_fail(blog.users["Cyd"])
    assert (caught.value.model, caught.value.id) == ("User", blog.users["Cyd"])
    assert str(caught.value) == f"User {blog.users['Cyd']} not found"
    assert (await users.find_or_fail(blog.users["Cyd"], trashed=Trashed.WITH)).name == "Cyd"
    with pytest.raises(RecordNotFound) as missing:
        await RoleRepository(session).find_or_fail(10_000)
    assert (missing.value.model, missing.value.id) == ("Role", 10_000)


async def test_find_many(session: AsyncSession, blog: Blog, statements: StatementCounter) -> None:
    users = UserRepository(session)
    ids = [blog.users["Eve"], blog.users["Cyd"], 10_000, blog.users["Ada"]]
    statements.reset()
    found = await users.find_many(ids)
    assert statements.count == 1
    assert sorted(user.name for user in found) == ["Ada", "Eve"]
    with_trashed = await users.find_many(ids, trashed=Trashed.WITH)
    assert sorted(user.name for user in with_trashed) == ["Ada", "Cyd", "Eve"]
    statements.reset()
    assert await users.find_many([]) == []
    assert statements.count == 0


@pytest.mark.parametrize(
    ("trashed", "names"),
    [
        pytest.param(Trashed.WITHOUT, ["Ada", "Bob", "Dee", "Eve"], id="without"),
        pytest.param(Trashed.WITH, ["Ada", "Bob", "Cyd", "Dee", "Eve"], id="with"),
        pytest.param(Trashed.ONLY, ["Cyd"], id="only"),
    ],
)
async def test_all_count_exists_paginate(
    session: AsyncSession, blog: Blog, trashed: Trashed, names: list[str]
) -> None:
    users = UserRepository(session)
    assert [user.name for user in await users.all(trashed=trashed)] == names
    assert await users.count(trashed=trashed) == len(names)
    assert await users.exists(trashed=trashed) is True
    assert await users.exists(trashed=trashed, email="cyd@example.com") is ("Cyd" in names)
    assert await users.exists(trashed=trashed, name="Ada", email="ada@example.com") is (
        "Ada" in names
    )
    page = await users.paginate(page=1, per_page=2, trashed=trashed)
    assert isinstance(page, Page)
    assert [user.name for user in page.items] == names[:2]
    assert (page.total, page.page, page.per_page) == (len(names), 1, 2)


async def test_defaults_hide_trashed_rows(session: AsyncSession, blog: Blog) -> None:
    users = UserRepository(session)
    assert [user.name for user in await users.all()] == ["Ada", "Bob", "Dee", "Eve"]
    assert await users.count() == 4
    assert await users.exists(name="Cyd") is False
    page = await users.paginate(page=2, per_page=3)
    assert ([user.name for user in page.items], page.total, page.pages) == (["Eve"], 4, 2)
    assert await CommentRepository(session).count() == 5
    assert await RoleRepository(session).exists(name="guest") is True


async def test_empty_tables(session: AsyncSession) -> None:
    roles = RoleRepository(session)
    assert await roles.all() == []
    assert await roles.count() == 0
    assert await roles.exists() is False
    page = await roles.paginate()
    assert (page.items, page.total, page.pages, page.has_next) == ([], 0, 1, False)


# -- create ---------------------------------------------------------------------


async def test_create_flushes_and_returns_the_row(session: AsyncSession) -> None:
    users = UserRepository(session)
    before = utcnow()
    ada = await users.create(name="Ada", email="ada@example.com")
    assert isinstance(ada.id, int)
    assert ada.deleted_at is None
    assert before <= ada.created_at <= utcnow()
    assert await rows_in(session, User) == 1
    assert await stored(session, ada.id) == ("Ada", ada.created_at, ada.created_at, None)


async def test_create_with_explicit_values(session: AsyncSession) -> None:
    role = await RoleRepository(session).create(name="admin", created_at=EPOCH, updated_at=EPOCH)
    assert (role.name, role.created_at, role.updated_at) == ("admin", EPOCH, EPOCH)


async def test_bulk_create(session: AsyncSession, statements: StatementCounter) -> None:
    users = UserRepository(session)
    statements.reset()
    created = await users.bulk_create(
        {"name": name, "email": f"{name.lower()}@example.com"} for name in ["Ada", "Bob", "Cyd"]
    )
    assert statements.count == 1
    assert [user.name for user in created] == ["Ada", "Bob", "Cyd"]
    assert len({user.id for user in created}) == 3
    assert all(user.created_at == user.updated_at for user in created)
    assert all(user.created_at.utcoffset() == timedelta(0) for user in created)
    assert [user.name for user in await users.all()] == ["Ada", "Bob", "Cyd"]
    assert await users.find(created[1].id) is created[1]


async def test_bulk_create_nothing(session: AsyncSession, statements: StatementCounter) -> None:
    statements.reset()
    assert await UserRepository(session).bulk_create([]) == []
    assert statements.count == 0


async def test_bulk_create_unique_violation(session: AsyncSession) -> None:
    rows = [{"name": "admin"}, {"name": "editor"}, {"name": "admin"}]
    with pytest.raises(UniqueViolation) as caught:
        await RoleRepository(session).bulk_create(rows)
    assert (caught.value.table, caught.value.columns) == ("roles", ("name",))


# -- update ---------------------------------------------------------------------


async def test_update_by_object_and_by_key(session: AsyncSession, blog: Blog) -> None:
    posts = PostRepository(session)
    post = await posts.find_or_fail(blog.posts["SQL tricks"])
    updated = await posts.update(post, title="SQL tips", published=True)
    assert updated is post
    assert (post.title, post.published) == ("SQL tips", True)
    again = await posts.update(blog.posts["SQL tricks"], body="new body")
    assert again is post
    session.expunge_all()
    fresh = await posts.find_or_fail(blog.posts["SQL tricks"])
    assert (fresh.title, fresh.body, fresh.published) == ("SQL tips", "new body", True)


async def test_update_a_soft_deleted_row_raises(session: AsyncSession, blog: Blog) -> None:
    users = UserRepository(session)
    with pytest.raises(RecordNotFound) as by_key:
        await users.update(blog.users["Cyd"], name="Cy")
    assert (by_key.value.model, by_key.value.id) == ("User", blog.users["Cyd"])
    cyd = await users.find_or_fail(blog.users["Cyd"], trashed=Trashed.ONLY)
    with pytest.raises(RecordNotFound) as by_object:
        await users.update(cyd, name="Cy")
    assert (by_object.value.model, by_object.value.id) == ("User", blog.users["Cyd"])
    assert cyd.name == "Cyd"


async def test_update_missing_row_or_unknown_attribute_raises(
    session: AsyncSession, blog: Blog
) -> None:
    users = UserRepository(session)
    with pytest.raises(RecordNotFound):
        await users.update(10_000, name="Nobody")
    with pytest.raises(InvalidQuery, match="User has no attribute 'nickname'"):
        await users.update(blog.users["Ada"], nickname="A")


# -- delete, restore, force_delete ----------------------------------------------


async def test_delete_soft_deletes(session: AsyncSession, blog: Blog) -> None:
    users = UserRepository(session)
    bob = await users.find_or_fail(blog.users["Bob"])
    before = utcnow()
    deleted = await users.delete(bob)
    assert deleted is bob
    assert bob.deleted_at is not None
    assert before <= bob.deleted_at <= utcnow()
    assert bob.updated_at == bob.deleted_at
    assert bob.created_at == EPOCH + timedelta(hours=1)
    # The row stays, hidden from default queries.
    assert await stored(session, bob.id) == ("Bob", bob.created_at, bob.deleted_at, bob.deleted_at)
    assert await users.find(bob.id) is None
    assert await users.count() == 3
    assert await rows_in(session, User) == 5


async def test_delete_by_key_soft_deletes_posts(session: AsyncSession, blog: Blog) -> None:
    posts = PostRepository(session)
    post = await posts.delete(blog.posts["Bob writes"])
    assert post.deleted_at is not None
    assert post.updated_at == post.deleted_at
    assert await posts.find(blog.posts["Bob writes"]) is None
    assert await posts.find(blog.posts["Bob writes"], trashed=Trashed.ONLY) is post
    assert await rows_in(session, Post) == 6


async def test_delete_an_already_soft_deleted_row_raises(session: AsyncSession, blog: Blog) -> None:
    users = UserRepository(session)
    with pytest.raises(RecordNotFound) as by_key:
        await users.delete(blog.users["Cyd"])
    assert (by_key.value.model, by_key.value.id) == ("User", blog.users["Cyd"])
    cyd = await users.find_or_fail(blog.users["Cyd"], trashed=Trashed.WITH)
    deleted_at = cyd.deleted_at
    with pytest.raises(RecordNotFound):
        await users.delete(cyd)
    assert cyd.deleted_at == deleted_at == EPOCH + timedelta(days=30)


@pytest.mark.parametrize(
    ("repository", "model", "key"),
    [
        pytest.param(CommentRepository, Comment, ("comments", "Thanks"), id="comment"),
        pytest.param(RoleRepository, Role, ("roles", "guest"), id="role"),
    ],
)
async def test_delete_hard_deletes_models_without_soft_deletes(
    session: AsyncSession, blog: Blog, repository: Any, model: type[Any], key: tuple[str, str]
) -> None:
    repo = repository(session)
    before = await rows_in(session, model)
    row_id = getattr(blog, key[0])[key[1]]
    await repo.delete(row_id)
    assert await rows_in(session, model) == before - 1
    assert await repo.find(row_id) is None
    with pytest.raises(RecordNotFound):
        await repo.delete(row_id)


async def test_deleting_a_role_removes_its_links(session: AsyncSession, blog: Blog) -> None:
    roles = RoleRepository(session)
    editor = await roles.find_or_fail(blog.roles["editor"])
    await roles.delete(editor)
    links = await session.scalars(select(user_roles.c.role_id).distinct())
    assert sorted(links.all()) == sorted([blog.roles["admin"], blog.roles["reader"]])


async def test_restore(session: AsyncSession, blog: Blog) -> None:
    users = UserRepository(session)
    before = utcnow()
    cyd = await users.restore(blog.users["Cyd"])
    assert cyd.deleted_at is None
    assert before <= cyd.updated_at <= utcnow()
    assert await stored(session, cyd.id) == ("Cyd", cyd.created_at, cyd.updated_at, None)
    assert await users.find(blog.users["Cyd"]) is cyd
    # By object, after a delete through the repository.
    await users.delete(cyd)
    restored = await users.restore(cyd)
    assert restored is cyd
    assert cyd.deleted_at is None


async def test_restore_a_live_row_raises(session: AsyncSession, blog: Blog) -> None:
    users = UserRepository(session)
    with pytest.raises(RecordNotFound) as by_key:
        await users.restore(blog.users["Ada"])
    assert (by_key.value.model, by_key.value.id) == ("User", blog.users["Ada"])
    ada = await users.find_or_fail(blog.users["Ada"])
    with pytest.raises(RecordNotFound):
        await users.restore(ada)
    with pytest.raises(RecordNotFound):
        await users.restore(10_000)


async def test_restore_needs_soft_deletes(session: AsyncSession, blog: Blog) -> None:
    with pytest.raises(InvalidQuery, match="Comment does not soft-delete"):
        await CommentRepository(session).restore(blog.comments["Thanks"])
    assert await rows_in(session, Comment) == 5


@pytest.mark.parametrize(
    "name", [pytest.param("Cyd", id="trashed"), pytest.param("Bob", id="live")]
)
async def test_force_delete(session: AsyncSession, blog: Blog, name: str) -> None:
    users = UserRepository(session)
    await users.force_delete(blog.users[name])
    assert await rows_in(session, User) == 4
    assert await users.find(blog.users[name], trashed=Trashed.WITH) is None
    # ON DELETE CASCADE took the user's posts (live and trashed) with it.
    authors = await session.scalars(select(Post.user_id).distinct())
    assert blog.users[name] not in authors.all()
    with pytest.raises(RecordNotFound):
        await users.force_delete(blog.users[name])


async def test_force_delete_by_object(session: AsyncSession, blog: Blog) -> None:
    posts = PostRepository(session)
    old = await posts.find_or_fail(blog.posts["Old news"], trashed=Trashed.ONLY)
    await posts.force_delete(old)
    assert await posts.find(blog.posts["Old news"], trashed=Trashed.WITH) is None
    assert await rows_in(session, Post) == 5
    # Its comment "Stale" went with it.
    assert await CommentRepository(session).find(blog.comments["Stale"]) is None


# -- commit=True / commit=False -------------------------------------------------


@pytest.fixture
async def other_session(committed_engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A second session on the really-committing engine, to see what was committed."""
    async with create_session_factory(committed_engine)() as session:
        yield session


@pytest.mark.parametrize(
    "commit", [pytest.param(True, id="commit"), pytest.param(False, id="flush")]
)
async def test_commit_flag(
    committed_engine: AsyncEngine, other_session: AsyncSession, commit: bool
) -> None:
    async with create_session_factory(committed_engine)() as session:
        roles = RoleRepository(session, commit=commit)
        role = await roles.create(name="admin")
        assert session.in_transaction() is not commit
        # Flushed either way: the writing session sees it.
        assert await roles.exists(name="admin") is True
        seen = await RoleRepository(other_session).find(role.id)
        assert (seen is not None) is commit
        await other_session.rollback()
        await session.rollback()
    async with create_session_factory(committed_engine)() as session:
        assert await RoleRepository(session).count() == int(commit)


async def test_commit_true_commits_every_write(
    committed_engine: AsyncEngine, other_session: AsyncSession
) -> None:
    async with create_session_factory(committed_engine)() as session:
        users = UserRepository(session, commit=True)
        ada = await users.create(name="Ada", email="ada@example.com")
        await users.update(ada, name="Ada L.")
        await users.delete(ada)
    seen = await UserRepository(other_session).find_or_fail(ada.id, trashed=Trashed.ONLY)
    assert (seen.name, seen.deleted_at) == ("Ada L.", ada.deleted_at)


# -- constraint errors ------------------------------------------------------------


@pytest.mark.parametrize(
    ("repository", "first", "second", "table", "columns"),
    [
        pytest.param(
            UserRepository,
            {"name": "Ada", "email": "ada@example.com"},
            {"name": "Ada II", "email": "ada@example.com"},
            "users",
            ("email",),
            id="users.email",
        ),
        pytest.param(
            RoleRepository,
            {"name": "admin"},
            {"name": "admin"},
            "roles",
            ("name",),
            id="roles.name",
        ),
    ],
)
async def test_unique_violation(
    session: AsyncSession,
    dialect: str,
    repository: Any,
    first: dict[str, str],
    second: dict[str, str],
    table: str,
    columns: tuple[str, ...],
) -> None:
    repo = repository(session)
    await repo.create(**first)
    with pytest.raises(UniqueViolation) as caught:
        await repo.create(**second)
    assert (caught.value.table, caught.value.columns) == (table, columns)
    assert str(caught.value) == f"UniqueViolation on {table}{list(columns)}"
    expected_constraint = {"sqlite": None, "postgresql": f"uq_{table}_{columns[0]}"}
    assert caught.value.constraint == expected_constraint[dialect]


async def test_unique_violation_of_a_soft_deleted_row(session: AsyncSession, blog: Blog) -> None:
    # Cyd is trashed, but her email is still taken.
    with pytest.raises(UniqueViolation) as caught:
        await UserRepository(session).create(name="Cyd", email="cyd@example.com")
    assert caught.value.columns == ("email",)


async def test_unique_violation_on_update(session: AsyncSession, blog: Blog) -> None:
    with pytest.raises(UniqueViolation) as caught:
        await UserRepository(session).update(blog.users["Bob"], email="ada@example.com")
    assert (caught.value.table, caught.value.columns) == ("users", ("email",))


async def test_foreign_key_violation(session: AsyncSession, dialect: str) -> None:
    with pytest.raises(ForeignKeyViolation) as caught:
        await PostRepository(session).create(user_id=10_000, title="Orphan", body="")
    # PostgreSQL names the constraint; SQLite only says a foreign key failed.
    expected = {
        "sqlite": (None, (), None),
        "postgresql": ("posts", ("user_id",), "fk_posts_user_id_users"),
    }
    assert (caught.value.table, caught.value.columns, caught.value.constraint) == expected[dialect]


async def test_not_null_violation(session: AsyncSession) -> None:
    with pytest.raises(NotNullViolation) as caught:
        await UserRepository(session).create(name="Nameless")
    assert (caught.value.table, caught.value.columns) == ("users", ("email",))


# -- the app's repositories -------------------------------------------------------


async def members(session: AsyncSession, role_id: int) -> list[int]:
    found = await session.scalars(
        select(user_roles.c.user_id).where(user_roles.c.role_id == role_id).order_by("user_id")
    )
    return list(found.all())


async def test_attach_is_idempotent_in_one_statement(
    session: AsyncSession, blog: Blog, statements: StatementCounter
) -> None:
    users = UserRepository(session)
    dee, ada, admin = blog.users["Dee"], blog.users["Ada"], blog.roles["admin"]
    statements.reset()
    await users.attach("roles", dee, [admin])
    assert statements.count == 1
    await users.attach("roles", dee, [admin, admin])
    await users.attach("roles", ada, [admin])  # already linked by the fixture
    await users.attach("roles", ada, [])

    assert await members(session, admin) == [ada, dee]


async def test_attach_links_several_rows_and_from_either_side(
    session: AsyncSession, blog: Blog
) -> None:
    dee, bob = blog.users["Dee"], blog.users["Bob"]
    await UserRepository(session).attach("roles", dee, blog.roles.values())
    await RoleRepository(session).attach("users", blog.roles["admin"], [bob])

    dee_user = await UserRepository(session).query().with_("roles").where(id=dee).first_or_fail()
    assert sorted(role.id for role in dee_user.roles) == sorted(blog.roles.values())
    assert bob in await members(session, blog.roles["admin"])


async def test_detach_is_idempotent(session: AsyncSession, blog: Blog) -> None:
    users = UserRepository(session)
    ada, editor = blog.users["Ada"], blog.roles["editor"]
    await users.detach("roles", ada, [editor])
    await users.detach("roles", ada, [editor])
    await users.detach("roles", blog.users["Dee"], [editor])  # never linked

    assert await members(session, editor) == [blog.users["Bob"]]
    ada_user = await users.query().with_("roles").where(id=ada).first_or_fail()
    assert [role.name for role in ada_user.roles] == ["admin"]


async def test_attach_and_detach_leave_rows_the_repository_cannot_see(
    session: AsyncSession, blog: Blog
) -> None:
    """Soft-deleted rows and rows outside a scope are missing: nothing is linked or unlinked."""
    cyd, ada, admin, editor = (
        blog.users["Cyd"],
        blog.users["Ada"],
        blog.roles["admin"],
        blog.roles["editor"],
    )
    not_editor = Scopes({Role: RowScope(lambda roles: roles.name != bindparam("hidden"))})
    users = UserRepository(session, scopes=not_editor, params={"hidden": "editor"})

    await users.attach("roles", cyd, [admin])  # Cyd is soft-deleted
    await users.attach("roles", blog.users["Dee"], [editor])  # editor is out of scope
    await users.detach("roles", ada, [editor])

    assert cyd not in await members(session, admin)
    assert await members(session, editor) == [ada, blog.users["Bob"]]


@pytest.mark.parametrize(
    ("model", "relation", "message"),
    [
        pytest.param(User, "posts", "User.posts is not a many-to-many", id="one-to-many"),
        pytest.param(User, "nothing", "User.nothing is not a many-to-many", id="no-relation"),
        pytest.param(Post, "author", "Post.author is not a many-to-many", id="to-one"),
    ],
)
async def test_attach_refuses_what_is_not_many_to_many(
    session: AsyncSession, model: type[Any], relation: str, message: str
) -> None:
    repositories: dict[type[Any], type[BaseRepository[Any]]] = {
        User: UserRepository,
        Post: PostRepository,
    }
    repository = repositories[model](session)
    with pytest.raises(InvalidQuery, match=message):
        await repository.attach(relation, 1, [1])
    with pytest.raises(InvalidQuery, match=message):
        await repository.detach(relation, 1, [1])


async def test_find_by_email_and_name(session: AsyncSession, blog: Blog) -> None:
    users = UserRepository(session)
    found = await users.find_by_email("  Ada@Example.com ")
    assert found is not None
    assert found.name == "Ada"
    trashed = await users.find_by_email("cyd@example.com")
    assert trashed is not None
    assert trashed.is_deleted is True
    assert await users.find_by_email("zed@example.com") is None
    role = await RoleRepository(session).find_by_name(" editor ")
    assert role is not None
    assert role.id == blog.roles["editor"]
