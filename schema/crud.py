"""Generic mutations: create, update, delete and restore, each in a transaction of its own.

A mutation either commits everything it did or nothing: it runs in
``fast_query.transaction``, and a unique violation that slips past
validation (a race) becomes ``BAD_USER_INPUT`` on the field it concerns.
The request's dataloaders are dropped afterwards so later fields see the
new state.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from fast_query import RecordNotFound, UniqueViolation, transaction
from schema.context import Info
from schema.errors import UserInputError
from schema.fields import INFO, REQUIRED, FieldSpec, argument, lookup_key, make_field
from schema.resource import Resource
from schema.validation import InputSpec


@asynccontextmanager
async def write(
    info: Info, session: AsyncSession, spec: InputSpec | None = None
) -> AsyncIterator[None]:
    """One mutation's transaction; unique violations become input errors."""
    try:
        async with transaction(session):
            yield
    except UniqueViolation as exc:
        column = exc.columns[0] if exc.columns else ""
        path = spec.path_of_column(column) if spec is not None else "input"
        raise UserInputError({path: "already taken"}) from exc
    finally:
        info.context.loaders.clear()


def create(
    resource: Resource[Any], node: Any, input_type: Any, spec: InputSpec, description: str
) -> Any:
    async def resolve(info: Info, input: Any) -> Any:
        repository = await info.context.service(resource.repository)
        async with write(info, repository.session, spec):
            values = await spec.values(input, repository.session)
            return await repository.create(**values)

    parameters = [INFO, argument("input", input_type, "The new row's fields.", REQUIRED)]
    spec_of_field = FieldSpec("create", resource.model, input_spec=spec)
    return make_field(resolve, parameters, node | None, description, spec_of_field)


def update(
    resource: Resource[Any], node: Any, input_type: Any, spec: InputSpec, description: str
) -> Any:
    async def resolve(info: Info, id: str, input: Any) -> Any:
        key = lookup_key(resource, id)
        repository = await info.context.service(resource.repository)
        async with write(info, repository.session, spec):
            row = await _live(repository, resource, key, id)
            values = await spec.values(input, repository.session, current_id=key)
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
