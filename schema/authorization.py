"""Who may call a mutation: the checks of section 8 that are about the field, not a row.

Row rules (who may update or delete a row) are the repositories'
``can_update``/``can_delete``, checked in the statement that reads the row
(``BaseRepository.find_checked``). What is here needs only the request's
values (``RowParams.values``: the viewer's id and role flags), so the
resolvers and the fast path run the same checks.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import strawberry

from fast_query.rules import Nobody, Rule
from repositories.rules import VIEWER_ID
from schema.errors import Forbidden, Unauthenticated, UserInputError
from schema.ids import parse_global_id, to_global_id


def signed_in(params: Mapping[str, Any]) -> int:
    """The viewer's user id; ``UNAUTHENTICATED`` for an anonymous request."""
    viewer_id = params.get(VIEWER_ID)
    if viewer_id is None:
        raise Unauthenticated()
    return int(viewer_id)


def require(params: Mapping[str, Any], rule: Rule | None) -> int:
    """A signed-in viewer that ``rule`` (a rule on the viewer alone: its roles) allows."""
    viewer_id = signed_in(params)
    if rule is not None and not rule.allows(None, params):
        raise Forbidden("You may not do this: your roles do not allow it.")
    return viewer_id


@dataclass(frozen=True, slots=True)
class CreateRule:
    """Who may create a row of a type.

    ``allowed`` may call the create at all (``None``: any signed-in viewer).
    With ``owner`` (the input field naming the row's owner, ``author_id``)
    the viewer creates as itself: left out, the owner is the viewer; another
    user only if ``others`` allows.
    """

    allowed: Rule | None = None
    owner: str | None = None
    owner_type: str = "User"
    others: Rule = field(default_factory=Nobody)

    def authorize(self, params: Mapping[str, Any], data: Any, prefix: str = "input") -> Any:
        """``data`` with the owner filled in, if this viewer may create it; else an error."""
        viewer_id = require(params, self.allowed)
        if self.owner is None:
            return data
        given = getattr(data, self.owner, strawberry.UNSET)
        if given is strawberry.UNSET or given is None:
            data = copy.copy(data)
            setattr(data, self.owner, to_global_id(self.owner_type, viewer_id))
            return data
        path = f"{prefix}.{_camel(self.owner)}"
        try:
            owner = parse_global_id(str(given), path)
        except UserInputError:
            return data  # malformed: the input's validation says so
        if (owner.type_name, owner.key) != (self.owner_type, viewer_id) and not self.others.allows(
            None, params
        ):
            raise Forbidden(
                "You may only create this as yourself.",
                fields={path: "must be you (or left out) unless your roles allow others"},
            )
        return data


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
