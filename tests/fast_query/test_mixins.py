"""TimestampMixin and SoftDeletesMixin: who sets which timestamp, and when."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fast_query import SoftDeletesMixin, TimestampMixin, Trashed, utcnow
from models import Comment, Post, Role, User
from tests.fast_query.support import EPOCH, RoleRepository, UserRepository


def test_the_models_mix_in_what_they_should() -> None:
    assert [issubclass(model, TimestampMixin) for model in (User, Post, Comment, Role)] == [
        True,
        True,
        True,
        True,
    ]
    assert [issubclass(model, SoftDeletesMixin) for model in (User, Post, Comment, Role)] == [
        True,
        True,
        False,
        False,
    ]
    columns = [column.name for column in User.__table__.columns]
    assert columns[-3:] == ["created_at", "updated_at", "deleted_at"]


async def test_insert_sets_created_at_equal_to_updated_at(session: AsyncSession) -> None:
    before = utcnow()
    role = await RoleRepository(session).create(name="admin")
    after = utcnow()
    assert role.created_at == role.updated_at
    assert before <= role.created_at <= after
    assert role.created_at.tzinfo is UTC


async def test_one_flush_of_many_rows_shares_one_timestamp(session: AsyncSession) -> None:
    roles = [Role(name=name) for name in ("admin", "editor", "reader")]
    session.add_all(roles)
    await session.flush()
    assert len({(role.created_at, role.updated_at) for role in roles}) == 1


async def test_update_changes_updated_at_only(session: AsyncSession) -> None:
    users = UserRepository(session)
    ada = await users.create(
        name="Ada", email="ada@example.com", created_at=EPOCH, updated_at=EPOCH
    )
    assert (ada.created_at, ada.updated_at) == (EPOCH, EPOCH)
    before = utcnow()
    await users.update(ada, name="Ada L.")
    assert ada.created_at == EPOCH
    assert before <= ada.updated_at <= utcnow()
    assert ada.updated_at.tzinfo is UTC
    session.expunge_all()
    fresh = await users.find_or_fail(ada.id)
    assert (fresh.created_at, fresh.updated_at) == (EPOCH, ada.updated_at)


async def test_core_update_statements_set_updated_at(session: AsyncSession) -> None:
    role = await RoleRepository(session).create(name="admin", created_at=EPOCH, updated_at=EPOCH)
    before = utcnow()
    await session.execute(update(Role).where(Role.id == role.id).values(name="root"))
    row = (await session.execute(select(Role.created_at, Role.updated_at))).one()
    assert row.created_at == EPOCH
    assert before <= row.updated_at <= utcnow()


async def test_an_explicit_updated_at_wins(session: AsyncSession) -> None:
    users = UserRepository(session)
    ada = await users.create(name="Ada", email="ada@example.com")
    await users.update(ada, name="Ada L.", updated_at=EPOCH)
    assert ada.updated_at == EPOCH


async def test_timestamps_read_back_aware_utc(session: AsyncSession) -> None:
    users = UserRepository(session)
    ada = await users.create(name="Ada", email="ada@example.com")
    await users.delete(ada)
    session.expunge_all()
    fresh = await users.find_or_fail(ada.id, trashed=Trashed.ONLY)
    stamps = [fresh.created_at, fresh.updated_at, fresh.deleted_at]
    assert stamps == [ada.created_at, ada.updated_at, ada.deleted_at]
    assert [(stamp.tzinfo, stamp.utcoffset()) if stamp else None for stamp in stamps] == [
        (UTC, timedelta(0))
    ] * 3


def test_soft_delete_and_restore_change_only_the_instance() -> None:
    post = Post(title="t", body="b", created_at=EPOCH, updated_at=EPOCH)
    assert post.is_deleted is False
    before = utcnow()
    post.soft_delete()
    assert post.is_deleted is True
    assert post.deleted_at is not None
    assert before <= post.deleted_at <= utcnow()
    assert post.updated_at == post.deleted_at
    assert post.created_at == EPOCH
    deleted_at = post.deleted_at
    post.restore()
    assert post.is_deleted is False
    assert post.deleted_at is None
    assert post.updated_at >= deleted_at


async def test_soft_delete_is_written_by_the_flush(session: AsyncSession) -> None:
    user = User(name="Ada", email="ada@example.com")
    session.add(user)
    await session.flush()
    user.soft_delete()
    await session.flush()
    row = (await session.execute(select(User.updated_at, User.deleted_at))).one()
    assert tuple(row) == (user.deleted_at, user.deleted_at)


@pytest.mark.parametrize(
    "model", [pytest.param(Comment, id="comment"), pytest.param(Role, id="role")]
)
def test_models_without_soft_deletes_have_no_deleted_at(model: type[object]) -> None:
    assert not hasattr(model, "deleted_at")
    assert not hasattr(model, "soft_delete")
