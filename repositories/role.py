from __future__ import annotations

from fast_query import BaseRepository
from models import Role


class RoleRepository(BaseRepository[Role]):
    model = Role

    async def find_by_name(self, name: str) -> Role | None:
        return await self.query().where(name=name.strip()).first()
