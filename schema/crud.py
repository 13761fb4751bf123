"""Generic mutations: create, update, delete and restore, each in a transaction of its own.

A mutation either commits everything it did or nothing: it runs in
``schema.transaction.write``, and a unique violation that slips past
validation (a race) becomes ``BAD_USER_INPUT`` on the field it concerns.
The repositories carry the request's row scopes, so a row the request
cannot see is not found, exactly like a missing one.
"""

from __future__ import annotations

from typing import Any

import strawberry

from fast_query import RecordNotFound
from schema.context import Info
from schema.kinds.base import INFO, REQUIRED, argument, lookup_key, make_field
from schema.kinds.create import Create
from schema.resource import Resource
from schema.transaction import write
from schema.validation import InputSpec


def create(
    resource: Resource[Any], node: Any, input_type: Any, spec: InputSpec, description: str
) -> Any:
    return Create(resource, spec).field(node, input_type, description)


def update(
    resource: Resource[Any], node: Any, input_type: Any, spec: InputSpec, description: str
) -> Any:
    async def resolve(info: Info, id: str, input: Any) -> Any:
        key = lookup_key(resource, id)
        repository = await info.context.service(resource.repository)
        async with write(info, repository.session, spec):
            row = await _live(repository, resource, key, id)
            values = await spec.values(input, info.context.loaders.rows, current_id=key)
            return await repository.update(row, **values)

    parameters = [
        INFO,
        argument("id", strawberry.ID, "The global ID of the row to change.", REQUIRED),
        argument("input", input_type, "The fields to change; others stay.", REQUIRED),
    ]
    return make_field(resolve, parameters, node | None, description)


def delete(resource: Resource[Any], node: Any, description: str) -> Any:
    async def resolve(info: Info, id: str) -> Any:
        key = lookup_key(resource, id)
        repository = await info.context.service(resource.repository)
        async with write(info, repository.session):
            row = await _live(repository, resource, key, id)
            return await repository.delete(row)

    parameters = [
        INFO,
        argument("id", strawberry.ID, "The global ID of the row to delete.", REQUIRED),
    ]
    return make_field(resolve, parameters, node | None, description)


def restore(resource: Resource[Any], node: Any, description: str) -> Any:
    async def resolve(info: Info, id: str) -> Any:
        key = lookup_key(resource, id)
        repository = await info.context.service(resource.repository)
        async with write(info, repository.session):
            try:
                return await repository.restore(key)
            except RecordNotFound:
                raise RecordNotFound(resource.type_name, id) from None

    parameters = [
        INFO,
        argument("id", strawberry.ID, "The global ID of the row to restore.", REQUIRED),
    ]
    return make_field(resolve, parameters, node | None, description)


async def _live(repository: Any, resource: Resource[Any], key: int, id: str) -> Any:
    """The live row to change, locked: a concurrent change or delete of it comes first."""
    row = await repository.find(key, for_update=True)
    if row is None:
        raise RecordNotFound(resource.type_name, id)
    return row
