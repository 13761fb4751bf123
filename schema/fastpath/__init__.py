"""The fast path: queries made only of generic fields, answered without per-field resolvers.

graphql-core calls a resolver and checks an awaitable for every field of
every object; on large lists that is most of the time a request takes. A
query that only reads columns, relations and connections is planned once
per document (``plan``), then each request runs the plan (``run``): the
statements the resolvers would run, reading only the selected columns, with
rows shaped directly into the response. Everything else, and any request
that would answer with an error, goes through the resolvers, so both paths
give the same ``data`` (the tests run both and compare them: ``tests/verify.py``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import DocumentNode, FragmentDefinitionNode, GraphQLSchema, OperationDefinitionNode
from graphql.execution.values import get_variable_values
from sqlalchemy.ext.asyncio import AsyncConnection

from fast_query import is_timeout, is_too_complex
from schema.context import PageLimits, ServiceScope
from schema.fastpath.plan import OperationPlan, Unsupported, lookup_field, plan_operation
from schema.fastpath.reads import Templates
from schema.fastpath.run import Fallback, Runner
from schema.fastpath.writes import Inserts
from schema.resource import scopes
from schema.rows import RowParams, Rows

__all__ = ["FastPath", "OperationPlan", "ReadConnection", "WriteFailed", "lookup_field"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReadConnection:
    """The request's connection for the fast path's reads (a scoped service).

    A plan only reads, with statements compiled beforehand: it needs neither
    an ORM session (its identity map, its transaction) nor a repository
    object, so a request it answers takes one pooled connection and nothing
    else. It reads with the isolation the resolvers' reads have (see
    ``server.services.provide_read_connection``).
    """

    connection: AsyncConnection


class WriteFailed(Exception):
    """A planned write failed in a way that may have left it written; not to be retried."""

    def __init__(self, plan: OperationPlan, error: Exception) -> None:
        super().__init__(str(error))
        self.plan = plan
        self.error = error


class FastPath:
    """Plans documents and runs plans for one schema."""

    def __init__(self, schema: strawberry.Schema, graphql_schema: GraphQLSchema) -> None:
        self.schema = schema
        self.graphql_schema = graphql_schema
        self.templates = Templates()
        self.inserts = Inserts()

    def plan(
        self, document: DocumentNode, operation: OperationDefinitionNode
    ) -> OperationPlan | None:
        """The plan of a validated operation, or ``None`` when the resolvers must answer it."""
        fragments = {
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
        try:
            return plan_operation(self.graphql_schema, operation, fragments)
        except Unsupported:
            return None

    async def run(
        self,
        plan: OperationPlan,
        operation: OperationDefinitionNode,
        variables: dict[str, Any] | None,
        scope: ServiceScope,
        connection: AsyncConnection,
        limits: PageLimits,
        *,
        strict: bool = False,
        created: dict[str, tuple[type[Any], Any]] | None = None,
    ) -> dict[str, Any] | None:
        """The response ``data``, or ``None`` when the resolvers must answer.

        They answer whenever this path would not give exactly their data: an
        input error or a missing row (they report it as a field error), and
        any unexpected failure (they report it too, and a second attempt on a
        fresh connection may even succeed after a database restart), except
        a database timeout, which is raised: the resolvers would only wait as
        long again. With ``strict`` (tests) an unexpected failure is raised.
        A write that fails unexpectedly raises ``WriteFailed``: only a create
        known to have written nothing (a row check failed, a constraint
        refused it) is left to the resolvers.
        """
        coerced = get_variable_values(
            self.graphql_schema, operation.variable_definitions or (), variables or {}
        )
        if isinstance(coerced, list):
            return None
        params = await scope.get(RowParams)
        rows = Rows(scopes(), params.values, dialect=connection.dialect.name)
        try:
            runner = Runner(
                self.schema,
                self.graphql_schema,
                rows,
                connection,
                coerced,
                limits,
                self.templates,
                self.inserts,
            )
            data = await runner.run(plan)
            if created is not None:
                created.update(runner.created)
            return data
        except Fallback:
            return None
        except Exception as exc:
            if plan.writes:
                # The INSERT may have committed (a connection lost after the server
                # committed looks the same): running the mutation again could write
                # it twice, so the failure is the answer.
                raise WriteFailed(plan, exc) from exc
            if is_too_complex(exc):
                return None  # the resolvers fail alike, and report it as such
            if strict or is_timeout(exc):
                raise
            logger.debug("fast path failed; the resolvers will answer", exc_info=True)
            return None
