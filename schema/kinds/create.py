"""``createX(input:)``: a generic create, in the resolvers and as one statement on the fast path.

The resolvers create a row in a transaction of four round trips (``BEGIN``,
the input's row checks, the ORM's ``INSERT``, ``COMMIT``). When the input
passes its rules, the same row checks can be the ``WHERE`` of an ``INSERT
... SELECT``: the row is written only if every referenced row is live and
seen by the request and every unique value free, in one statement that
commits on its own. When it writes nothing (a check failed) the resolvers
run the mutation and report exactly what is wrong; nothing was written by
the first attempt.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Insert, and_, bindparam, insert, select, true

from fast_query import IntegrityViolation, Scopes, connection_transaction
from schema.context import Info
from schema.fastpath.plan import ObjectPlan, RootField
from schema.fastpath.reads import table_of
from schema.fastpath.run import Fallback, Runner
from schema.kinds.base import INFO, REQUIRED, argument, make_field
from schema.kinds.objects import ObjectRoot
from schema.resource import Resource
from schema.transaction import write
from schema.validation import InputSpec, RowCheck, check_params, row_exists


class Create(ObjectRoot):
    """``createUser(input: CreateUserInput!): User``."""

    writes = True

    def __init__(self, resource: Resource[Any], spec: InputSpec) -> None:
        self.resource = resource
        self.model = resource.model
        self.spec = spec

    def field(self, node: Any, input_type: Any, description: str) -> Any:
        async def resolve(info: Info, input: Any) -> Any:
            repository = await info.context.service(self.resource.repository)
            async with write(info, repository.session, self.spec):
                values = await self.spec.values(input, info.context.loaders.rows)
                return await repository.create(**values)

        parameters = [INFO, argument("input", input_type, "The new row's fields.", REQUIRED)]
        return make_field(resolve, parameters, node | None, description, self)

    async def read_root(self, runner: Runner, field: RootField) -> Any:
        """One ``INSERT ... SELECT ... WHERE <row checks> RETURNING``."""
        assert field.definition is not None and isinstance(field.plan, ObjectPlan)
        plan = field.plan
        arguments = runner.arguments(field.definition, field.node)
        cleaned = await self.spec.clean(arguments["input"])
        if cleaned.problems:
            raise Fallback("invalid input")
        names = sorted(cleaned.values)
        checks = [check for _path, check in cleaned.checks]
        columns = sorted(plan.columns())
        scopes = runner.rows.scopes
        shape = (
            self.model,
            scopes,
            tuple(names),
            tuple((check.kind, check.model, check.column) for check in checks),
            tuple(columns),
        )
        statement = runner.inserts.get(
            shape, lambda: insert_statement(self.model, names, checks, columns, scopes)
        )
        params = {f"fq_value_{name}": cleaned.values[name] for name in names}
        params.update(check_params(checks))
        params.update(runner.rows.params)
        connection = runner.connection
        try:
            async with connection_transaction(connection):
                rows = (await connection.execute(statement, params)).all()
        except IntegrityViolation as exc:  # a race the checks could not see
            raise Fallback("constraint") from exc
        if not rows:
            raise Fallback("a row check failed")
        runner.created[field.key] = (self.model, rows[0][columns.index("id")])
        try:
            return (await runner.objects(plan, rows, columns))[0]
        except Fallback as exc:  # written: the resolvers must not write it again
            raise RuntimeError(f"the new row's answer could not be read: {exc}") from exc


def insert_statement(
    model: type[Any],
    names: Sequence[str],
    checks: Sequence[RowCheck],
    returning: Sequence[str],
    scopes: Scopes,
) -> Insert:
    """``INSERT INTO model (names) SELECT :fq_value_<name>... WHERE <checks> RETURNING ...``.

    Columns left out (timestamps, say) get their defaults, as the ORM gives them.
    """
    table: Any = table_of(model)
    values = select(
        *(bindparam(f"fq_value_{name}", type_=table.c[name].type).label(name) for name in names)
    )
    conditions = [
        row_exists(check, index, scopes)
        if check.kind == "live"
        else ~row_exists(check, index, scopes)
        for index, check in enumerate(checks)
    ]
    values = values.where(and_(true(), *conditions))
    return (
        insert(table)
        .from_select(list(names), values)
        .returning(*(table.c[column] for column in returning))
    )
