"""The tests' ``/graphql``: whatever the fast path answers, the resolvers must answer alike.

``create_app(settings, endpoint=VerifyingGraphQLHTTP)`` serves an app whose
every planned query runs on the fast path and again through the resolvers;
the request fails unless both give the same data, byte for byte. A planned
create's answer must be the new row as the resolvers read it back (running
the mutation through them too would write it twice). The fast path runs
strict: an unexpected failure is raised instead of left to the resolvers.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import orjson
from _pytest.outcomes import Failed
from graphql import (
    DocumentNode,
    ExecutionResult,
    FragmentDefinitionNode,
    GraphQLSchema,
    OperationDefinitionNode,
    SelectionSetNode,
    parse,
    print_ast,
)
from starlette.requests import Request

from schema.fastpath import OperationPlan, lookup_field
from schema.ids import to_global_id
from schema.resource import by_model
from schema.viewer import Viewer
from server.graphql_http import GraphQLHTTP
from server.http_request import GraphQLRequest
from server.observability import current_request

#: True while the resolvers re-run an operation to compare: ``StatementCounter`` skips
#: those statements (and the request log, which sees no request then, does too).
verifying: ContextVar[bool] = ContextVar("verifying", default=False)

Created = dict[str, tuple[type[Any], Any]]


class FastPathMismatch(Failed):
    """The fast path and the resolvers disagreed.

    A ``pytest.fail`` outcome, which is a ``BaseException``: the endpoint's
    ``except Exception`` (an INTERNAL_SERVER_ERROR answer) lets it through to
    the test, which fails with it.
    """


@dataclass(frozen=True, slots=True)
class ReadBack:
    """How the resolvers read back a row that a planned create wrote."""

    key: str  # the create's response key
    lookup: str  # the root field that finds a row of its type by ID
    selection: SelectionSetNode  # what the create selected of the row
    id: str  # the new row's global ID


def read_backs(
    schema: GraphQLSchema, plan: OperationPlan, created: Created
) -> list[ReadBack] | None:
    """``None`` for a plan that only reads; for one that writes, a read-back per row it created.

    The one place here that knows the shape of a plan.
    """
    if not plan.writes:
        return None
    backs = []
    for root in plan.fields:
        if root.kind is None or not root.kind.writes:
            continue
        assert root.node is not None and root.node.selection_set is not None
        model, key = created[root.key]
        global_id = to_global_id(by_model(model).type_name, key)
        lookup = lookup_field(schema, model)
        backs.append(ReadBack(root.key, lookup, root.node.selection_set, global_id))
    return backs


@contextmanager
def aside() -> Iterator[None]:
    """Statements run inside are the verification's: neither the request's nor ``sql``'s."""
    verifying_token = verifying.set(True)
    request_token = current_request.set(None)
    try:
        yield
    finally:
        current_request.reset(request_token)
        verifying.reset(verifying_token)


#: The tests' stand-in for an admin, sent as ``Authorization: Bearer test-admin``. The
#: tests written before authorization (section 8) send it: an admin sees every row and
#: may do everything, so they still check what they checked. Its user id matches no row,
#: so it owns nothing. Tests of authorization sign in for real (``tests/server/auth``).
TEST_ADMIN_TOKEN = "test-admin"
TEST_ADMIN = Viewer(user_id=0, roles=frozenset({"admin"}))
AS_TEST_ADMIN = {"Authorization": f"Bearer {TEST_ADMIN_TOKEN}"}


class AdminTokenGraphQLHTTP(GraphQLHTTP):
    """``/graphql`` that also knows the tests' admin token; every other token is checked."""

    async def viewer(self, request: Request) -> Viewer:
        if request.headers.get("authorization") == AS_TEST_ADMIN["Authorization"]:
            return TEST_ADMIN
        return await super().viewer(request)


class VerifyingGraphQLHTTP(AdminTokenGraphQLHTTP):
    """``/graphql`` that checks every fast-path answer against the resolvers."""

    async def execute(
        self,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        graphql_request: GraphQLRequest,
        request_id: str,
        plan: OperationPlan | None,
    ) -> ExecutionResult:
        if plan is None:
            return await super().execute(document, operation, graphql_request, request_id, None)
        created: Created = {}
        result = await self.run_plan(plan, operation, graphql_request, strict=True, created=created)
        if result is None:  # the fast path declined: the resolvers answer alone
            return await super().execute(document, operation, graphql_request, request_id, None)
        if result.errors:  # a create that failed after it may have written: not retried
            return result
        assert result.data is not None
        backs = read_backs(self.schema.graphql_schema, plan, created)
        if backs is None:
            await self._compare(document, graphql_request, request_id, result.data)
        else:
            await self._compare_created(
                document, operation, graphql_request, request_id, result.data, created, backs
            )
        return result

    async def _compare(
        self,
        document: DocumentNode,
        graphql_request: GraphQLRequest,
        request_id: str,
        data: dict[str, Any],
    ) -> None:
        """The resolvers must give byte for byte the data the fast path gave."""
        with aside():
            expected = await self.resolve(document, graphql_request, request_id, read_only=True)
        if expected.errors or orjson.dumps(expected.data) != orjson.dumps(data):
            raise FastPathMismatch(
                f"fast path {orjson.dumps(data)[:2000]!r} != resolvers "
                f"{orjson.dumps(expected.data)[:2000]!r} {expected.errors}"
            )

    async def _compare_created(
        self,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        graphql_request: GraphQLRequest,
        request_id: str,
        data: dict[str, Any],
        created: Created,
        backs: list[ReadBack],
    ) -> None:
        """Each create's answer must be its new row as the resolvers read it back."""
        if sorted(back.key for back in backs) != sorted(created):
            raise FastPathMismatch(f"created {sorted(created)}, to read back {backs}")
        fragments = [
            print_ast(definition)
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        ]
        variables = ["$fqVerifyId: ID!"]
        variables += [print_ast(definition) for definition in operation.variable_definitions or ()]
        for back in backs:
            query = (
                f"query FqVerify({', '.join(variables)}) "
                f"{{ fqVerify: {back.lookup}(id: $fqVerifyId) {print_ast(back.selection)} }}\n"
                + "\n".join(fragments)
            )
            values = {**(graphql_request.variables or {}), "fqVerifyId": back.id}
            request = GraphQLRequest(query, values, "FqVerify", None, graphql_request.viewer)
            with aside():
                expected = await self.resolve(parse(query), request, request_id, read_only=True)
            if expected.errors or expected.data is None:
                raise FastPathMismatch(f"reading back {back.key}: {expected.errors}")
            if orjson.dumps(expected.data["fqVerify"]) != orjson.dumps(data[back.key]):
                raise FastPathMismatch(
                    f"fast path {orjson.dumps(data[back.key])!r} != resolvers "
                    f"{orjson.dumps(expected.data['fqVerify'])!r}"
                )
