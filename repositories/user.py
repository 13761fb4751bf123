from __future__ import annotations

from sqlalchemy import select

from fast_query import BaseRepository
from fast_query.rules import Rule
from models import User, normalize_email
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
