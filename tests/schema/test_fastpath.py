"""The fast path reads through the request's repository, whatever that repository narrows."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from fast_query import QueryBuilder
from repositories import UserRepository
from tests.api import Dataset, GraphQL


class NamedOnly(UserRepository):
    """A repository that narrows every query with request state (as a tenant filter would)."""

    current = {"name": ""}

    def query(self) -> QueryBuilder[Any]:
        return super().query().where(name=self.current["name"])


async def test_a_repository_that_narrows_its_query_is_honoured_on_every_request(
    app: Starlette, gql: GraphQL, blog: Dataset
) -> None:
    def make(session: AsyncSession) -> NamedOnly:
        return NamedOnly(session)

    query = "{ users { totalCount nodes { name } } }"
    with app.state.container.override(UserRepository, factory=make):
        NamedOnly.current["name"] = "Ada Lovelace"
        first = await gql.data(query)
        NamedOnly.current["name"] = "Bob Builder"
        second = await gql.data(query)

    assert first == {"users": {"totalCount": 1, "nodes": [{"name": "Ada Lovelace"}]}}
    assert second == {"users": {"totalCount": 1, "nodes": [{"name": "Bob Builder"}]}}
