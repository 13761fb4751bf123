from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from fast_query import RecordNotFound, Trashed
from repositories import UserRepository


async def test_create_find_delete_restore(session: AsyncSession) -> None:
    users = UserRepository(session)
    ada = await users.create(name="Ada", email="ada@example.com")
    assert ada.id is not None
    assert ada.created_at == ada.updated_at
    assert (await users.find(ada.id)) is ada
    await users.delete(ada)
    assert await users.find(ada.id) is None
    assert (await users.find(ada.id, trashed=Trashed.ONLY)) is ada
    try:
        await users.delete(ada.id)
    except RecordNotFound as exc:
        assert exc.model == "User"
    else:
        raise AssertionError("deleting a soft-deleted user must fail")
    await users.restore(ada.id)
    assert ada.deleted_at is None
