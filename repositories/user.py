from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from fast_query import BaseRepository, integrity_errors
from fast_query.rules import Rule
from models import User, normalize_email, user_roles
from repositories.rules import ADMIN, owned_by_viewer

#: A user's own account, and admins: change it, see its email.
MANAGES_USER: Rule = owned_by_viewer("id") | ADMIN


class UserRepository(BaseRepository[User]):
    model = User
    trashed_scope = ADMIN.scope()
    masks = {"email": MANAGES_USER}
    can_update = MANAGES_USER
    can_delete = MANAGES_USER

    async def find_by_email(self, email: str) -> User | None:
        """The user with this email, soft-deleted or not, whoever asks (emails are unique
        among all users): for uniqueness and sign-in checks, never an answer to a client."""
        statement = select(User).where(User.email == normalize_email(email))
        return (await self.session.scalars(statement)).first()

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
