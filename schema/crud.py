"""Generic mutations: create, update, delete, restore, attach and detach, each in a transaction
of its own.

A mutation either commits everything it did or nothing: it runs in
``schema.transaction.write``, and a unique violation that slips past
validation (a race) becomes ``BAD_USER_INPUT`` on the field it concerns.
The repositories carry the request's row scopes, so a row the request
cannot see is not found, exactly like a missing one.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import strawberry
from strawberry.utils.str_converters import to_snake_case

from fast_query import ColumnRule, RecordNotFound, Trashed
from fast_query.rules import Rule
from schema.authorization import CreateRule, require, signed_in
from schema.context import Info
from schema.derive import create_input, update_input
from schema.errors import Forbidden
from schema.kinds.base import INFO, REQUIRED, argument, lookup_key, make_field
from schema.kinds.create import Create, Derived
from schema.resource import Resource
from schema.roots import mutation
from schema.transaction import write
from schema.validation import InputSpec, Reference

_P = inspect.Parameter


def create(
    resource: Resource[Any],
    node: Any,
    spec: InputSpec,
    description: str,
    rule: CreateRule,
    *,
    derived: Sequence[Derived] = (),
    input_type: Any = None,
) -> Any:
    """``createX(input: CreateXInput!)``: the input made from ``spec`` unless given."""
    input_type = input_type or create_input(spec, rule, derived)
    return mutation(
        Create(resource, spec, rule, derived=derived).field(node, input_type, description)
    )


def update(
    resource: Resource[Any], node: Any, spec: InputSpec, description: str, input_type: Any = None
) -> Any:
    """``updateX(id:, input: UpdateXInput!)``: the input made from ``spec`` unless given."""
    input_type = input_type or update_input(spec)

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
    return mutation(make_field(resolve, parameters, node | None, description))


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
    return mutation(make_field(resolve, parameters, node | None, description))


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
    return mutation(make_field(resolve, parameters, node | None, description))


def attach(
    owner: Resource[Any],
    node: Any,
    relation: str,
    target: Resource[Any],
    description: str,
    *,
    rule: Rule | None = None,
    arguments: tuple[str, str] | None = None,
    descriptions: tuple[str, str] | None = None,
) -> Any:
    """``assignRole(userId: ID!, roleId: ID!): User``: link two rows of a many-to-many relation.

    For whom ``rule`` lets call it (``None``: any signed-in viewer), on an
    owner row the owner's ``can_update`` allows; both IDs must name live rows
    the viewer sees (``BAD_USER_INPUT``), and linking twice is fine. The
    arguments are named after the two types (``userId``, ``roleId``) unless
    ``arguments`` names them (two of one type); ``descriptions`` describes them.
    """
    names = arguments, descriptions
    return _link(owner, node, relation, target, description, rule, *names, attach=True)


def detach(
    owner: Resource[Any],
    node: Any,
    relation: str,
    target: Resource[Any],
    description: str,
    *,
    rule: Rule | None = None,
    arguments: tuple[str, str] | None = None,
    descriptions: tuple[str, str] | None = None,
) -> Any:
    """``revokeRole(userId: ID!, roleId: ID!): User``: ``attach``'s undoing, under its rules."""
    names = arguments, descriptions
    return _link(owner, node, relation, target, description, rule, *names, attach=False)


def _link(
    owner: Resource[Any],
    node: Any,
    relation: str,
    target: Resource[Any],
    description: str,
    rule: Rule | None,
    arguments: tuple[str, str] | None,
    descriptions: tuple[str, str] | None,
    *,
    attach: bool,
) -> Any:
    own, other = arguments or tuple(f"{to_snake_case(r.type_name)}_id" for r in (owner, target))
    if own == other:
        raise ValueError(f"{owner.type_name}.{relation}: name the two arguments (arguments=)")
    spec = InputSpec(owner.model, {own: Reference(owner), other: Reference(target)})

    async def resolve(info: Info, **ids: str) -> Any:
        require(info.context.params.values, rule)
        repository = await info.context.service(owner.repository)
        async with write(info, repository.session):
            keys = await spec.values(SimpleNamespace(**ids), info.context.loaders.rows, prefix="")
            key = keys[own]
            row = None
            if repository.can_update is not None:
                row = await _allowed(repository, owner, key, ids[own], repository.can_update)
            link = repository.attach if attach else repository.detach
            await link(relation, key, [keys[other]])
            return row if row is not None else await repository.find(key)

    if descriptions is None:
        descriptions = tuple(  # type: ignore[assignment]
            f"The global ID of a live {resource.type_name.lower()} you can see."
            for resource in (owner, target)
        )
    assert descriptions is not None
    parameters = [
        argument(name, strawberry.ID, descriptions[index], REQUIRED)
        for index, name in enumerate((own, other))
    ]
    return mutation(make_field(resolve, [INFO, *parameters], node | None, description))


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
