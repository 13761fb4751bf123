from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from fast_query import BaseRepository, integrity_errors
from models import User, normalize_email, user_roles


class UserRepository(BaseRepository[User]):
    model = User

    async def find_by_email(self, email: str) -> User | None:
        return await self.query().with_trashed().where(email=normalize_email(email)).first()

    async def assign_role(self, user_id: int, role_id: int) -> None:
        """Link a user to a role; linking twice, even concurrently, is not an error."""
        dialect = self.session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = (
            insert(user_roles)
            .values(user_id=user_id, role_id=role_id)
            .on_conflict_do_nothing(index_elements=["user_id", "role_id"])
        )
        with integrity_errors():
            await self.session.execute(statement)
        await self._persist()

    async def revoke_role(self, user_id: int, role_id: int) -> None:
        """Unlink a user from a role; unlinking what is not linked is not an error."""
        await self.session.execute(
            delete(user_roles).where(
                user_roles.c.user_id == user_id, user_roles.c.role_id == role_id
            )
        )
        await self._persist()
