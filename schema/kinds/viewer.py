"""``viewer``: the signed-in user's row, in the resolvers and on the fast path."""

from __future__ import annotations

from typing import Any

from fast_query import Trashed
from repositories.rules import VIEWER_ID
from schema.context import Info
from schema.fastpath.plan import ObjectPlan, RootField
from schema.fastpath.run import Runner
from schema.kinds.base import INFO, make_field
from schema.kinds.lookup import Lookup
from schema.kinds.objects import ObjectRoot
from schema.resource import Resource


class ViewerLookup(ObjectRoot):
    """``viewer: User``: the row of the request's viewer, as that user sees itself.

    A lookup whose key is the viewer's id instead of an argument, so a
    document asking for it keeps the fast path. ``null`` when anonymous, and
    for a viewer with no live row (the tests' stand-in admin; a token of a
    soft-deleted user is refused before anything runs).
    """

    def __init__(self, resource: Resource[Any]) -> None:
        self.resource = resource
        self.model = resource.model
        self.lookup = Lookup(resource)

    def field(self, node: Any, description: str) -> Any:
        async def resolve(info: Info) -> Any:
            viewer_id = info.context.params.values.get(VIEWER_ID)
            if viewer_id is None:
                return None
            return await info.context.loaders.by_key(self.model, Trashed.WITHOUT).load(viewer_id)

        return make_field(resolve, [INFO], node | None, description, self)

    async def read_root(self, runner: Runner, field: RootField) -> Any:
        assert isinstance(field.plan, ObjectPlan)
        viewer_id = runner.rows.params.get(VIEWER_ID)
        if viewer_id is None:
            return None
        return await self.lookup.read_one(runner, field.plan, viewer_id, Trashed.WITHOUT)
