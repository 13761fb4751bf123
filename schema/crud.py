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

from fast_query import ColumnRule, RecordNotFound, Trashed
from fast_query.rules import Rule
from schema.authorization import CreateRule, require, signed_in
from schema.context import Info
from schema.errors import Forbidden
from schema.kinds.base import INFO, REQUIRED, argument, lookup_key, make_field
from schema.kinds.create import Create
from schema.resource import Resource
from schema.transaction import write
from schema.validation import InputSpec


def create(
    resource: Resource[Any],
    node: Any,
    input_type: Any,
    spec: InputSpec,
    description: str,
    rule: CreateRule,
) -> Any:
    return Create(resource, spec, rule).field(node, input_type, description)


def update(
    resource: Resource[Any], node: Any, input_type: Any, spec: InputSpec, description: str
) -> Any:
    async def resolve(info: Info, id: str, input: Any) -> Any:
        signed_in(info.context.params.values)
        key = lookup_key(resource, id)
        repository = await info.context.service(resource.repository)
        async with write(info, repository.session, spec):
            row = await _allowed(repository, resource, key, id, repository.can_update)
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
        signed_in(info.context.params.values)
        key = lookup_key(resource, id)
        repository = await info.context.service(resource.repository)
        async with write(info, repository.session):
            row = await _allowed(repository, resource, key, id, repository.can_delete)
            return await repository.delete(row)

    parameters = [
        INFO,
        argument("id", strawberry.ID, "The global ID of the row to delete.", REQUIRED),
    ]
    return make_field(resolve, parameters, node | None, description)


def restore(
    resource: Resource[Any], node: Any, description: str, allowed: Rule | None = None
) -> Any:
    """``restoreX(id:)``: for whom ``allowed`` lets call it, on rows they may delete."""

    async def resolve(info: Info, id: str) -> Any:
        require(info.context.params.values, allowed)
        key = lookup_key(resource, id)
        repository = await info.context.service(resource.repository)
        async with write(info, repository.session):
            row = await _allowed(repository, resource, key, id, repository.can_delete, Trashed.ONLY)
            return await repository.restore(row)

    parameters = [
        INFO,
        argument("id", strawberry.ID, "The global ID of the row to restore.", REQUIRED),
    ]
    return make_field(resolve, parameters, node | None, description)


async def _allowed(
    repository: Any,
    resource: Resource[Any],
    key: int,
    id: str,
    rule: ColumnRule | None,
    trashed: Trashed = Trashed.WITHOUT,
) -> Any:
    """The row to change, locked, if the viewer may: a concurrent change of it comes first.

    A row the viewer cannot see is ``NOT_FOUND``, exactly like a missing
    one; one it sees but may not change is ``FORBIDDEN``.
    """
    found = await repository.find_checked(key, rule, trashed=trashed)
    if found is None:
        raise RecordNotFound(resource.type_name, id)
    row, allowed = found
    if not allowed:
        raise Forbidden("You may not change this row.", model=resource.type_name, id=id)
    return row
