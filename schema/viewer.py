"""Who is asking: the request's viewer, as authentication found it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from repositories.rules import viewer_params


@dataclass(frozen=True, slots=True)
class Viewer:
    """The signed-in user (``user_id``), its session and roles; anonymous without a user."""

    user_id: int | None = None
    session_id: int | None = None
    roles: frozenset[str] = frozenset()

    @property
    def signed_in(self) -> bool:
        return self.user_id is not None

    def params(self) -> dict[str, Any]:
        """The values the row rules read (``viewer_id``, one flag per role they name)."""
        return viewer_params(self.user_id, self.roles)


ANONYMOUS = Viewer()
