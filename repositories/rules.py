"""Who may see and change what (contract section 8), in the parts the repositories' rules use.

A rule reads the request's values as named parameters: the viewer's id
(``viewer_id``, ``None`` when anonymous) and one yes/no flag per role a rule
names (``viewer_is_admin``), resolved once per request from the viewer's
roles (``viewer_params``). The repositories put the rules together next to
their models; ``fast_query.rules`` compiles them to SQL and evaluates them in
Python alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fast_query.rules import Equals, Flag

#: The viewer's user id; ``None`` for an anonymous request, which equals no row.
VIEWER_ID = "viewer_id"
#: The roles the rules name: each gets a flag in every request's values.
ROLES = ("admin", "editor", "moderator")


def role(name: str) -> Flag:
    """The viewer has role ``name``."""
    if name not in ROLES:
        raise ValueError(f"{name!r} is not one of the roles the rules know: {ROLES}")
    return Flag(f"viewer_is_{name}")


def owned_by_viewer(column: str) -> Equals:
    """The row's ``column`` is the viewer's id (a post's ``user_id``, a user's ``id``)."""
    return Equals(column, VIEWER_ID)


ADMIN = role("admin")
EDITOR = role("editor")
MODERATOR = role("moderator")


def viewer_params(user_id: int | None, roles: Iterable[str] = ()) -> dict[str, Any]:
    """The request's values of every rule's parameters, for this viewer."""
    held = set(roles)
    return {VIEWER_ID: user_id, **{f"viewer_is_{name}": name in held for name in ROLES}}
