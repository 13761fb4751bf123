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
from typing import Any, Protocol

from sqlalchemy import Insert, and_, bindparam, insert, select, true

from fast_query import IntegrityViolation, Scopes, write_statement
from schema.authorization import CreateRule
from schema.context import Info
from schema.errors import UserInputError
from schema.fastpath.plan import ObjectPlan, RootField
from schema.fastpath.reads import table_of
from schema.fastpath.run import Fallback, Runner
from schema.kinds.base import INFO, REQUIRED, argument, make_field
from schema.kinds.objects import ObjectRoot
from schema.resource import Resource
from schema.transaction import write
from schema.validation import InputSpec, RowCheck, check_params, row_exists


class Derived(Protocol):
    """An input field outside the spec whose column values a service makes (a password's hash).

    The fast path has no services: a create given such a field declines it.
    """

    @property
    def name(self) -> str:
        """The input field (``password``): optional in ``CreateXInput``."""
        ...

    @property
    def description(self) -> str: ...

    def given(self, data: Any) -> bool: ...

    async def problems(self, info: Info, data: Any, prefix: str = "input") -> dict[str, str]: ...

    async def values(self, info: Info, data: Any) -> dict[str, Any]: ...


async def derived_values(
    info: Info, spec: InputSpec, derived: Sequence[Derived], data: Any
) -> dict[str, Any]:
    """The column values of the derived fields ``data`` gives, made before any transaction.

    Making them may take a while (a hash, some 30 ms of CPU), so no lock is
    held meanwhile. Everything is checked first, the spec's row checks
    included, and every problem reported at once; the create checks the
    spec again in its transaction, against what committed meanwhile.
    """
    given = [field for field in derived if field.given(data)]
    if not given:
        return {}
    problems: dict[str, str] = {}
    try:
        await spec.values(data, info.context.loaders.rows)
    except UserInputError as exc:
        problems.update(exc.fields)
    for field in given:
        problems.update(await field.problems(info, data))
    if problems:
        raise UserInputError(problems)
    values: dict[str, Any] = {}
    for field in given:
        values.update(await field.values(info, data))
    return values


class Create(ObjectRoot):
    """``createUser(input: CreateUserInput!): User``."""

    writes = True

    def __init__(
        self,
        resource: Resource[Any],
        spec: InputSpec,
        rule: CreateRule,
        derived: Sequence[Derived] = (),
    ) -> None:
        self.resource = resource
        self.model = resource.model
        self.spec = spec
        self.rule = rule
        self.derived = tuple(derived)
        self.table_columns = frozenset(table_of(self.model).c.keys())

    def field(self, node: Any, input_type: Any, description: str) -> Any:
        async def resolve(info: Info, input: Any) -> Any:
            input = self.rule.authorize(info.context.params.values, input)
            repository = await info.context.service(self.resource.repository)
            derived = await derived_values(info, self.spec, self.derived, input)
            async with write(info, repository.session, self.spec):
                values = await self.spec.values(input, info.context.loaders.rows)
                return await repository.create(**values, **derived)

        parameters = [INFO, argument("input", input_type, "The new row's fields.", REQUIRED)]
        return make_field(resolve, parameters, node | None, description, self)

    async def read_root(self, runner: Runner, field: RootField) -> Any:
        """One ``INSERT ... SELECT ... WHERE <row checks> RETURNING``."""
        assert field.definition is not None and isinstance(field.plan, ObjectPlan)
        plan = field.plan
        arguments = runner.arguments(field.definition, field.node)
        if any(derived.given(arguments["input"]) for derived in self.derived):
            raise Fallback("a derived field")  # its values need a service
        try:
            given = self.rule.authorize(runner.rows.params, arguments["input"])
        except Exception as exc:  # refused: the resolvers report it, having written nothing
            raise Fallback("not allowed") from exc
        cleaned = await self.spec.clean(given)
        if cleaned.problems:
            raise Fallback("invalid input")
        names = sorted(cleaned.values)
        checks = [check for _path, check in cleaned.checks]
        columns = sorted(plan.columns())
        if not self.table_columns.issuperset(columns) or set(columns) & set(
            runner.rows.scopes.masks(self.model)
        ):
            # A computed column (``viewerCanUpdate``) or a masked one (``email``) of the
            # new row: ``RETURNING`` reads neither as the request sees it, the resolvers do.
            raise Fallback("a computed or masked column")
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
            rows = await write_statement(connection, statement, params)
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
