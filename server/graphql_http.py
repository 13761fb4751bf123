"""``/graphql``: GraphQL over HTTP, as the GraphQL-over-HTTP specification says.

Written here rather than taken from Strawberry's view because the contract's
transport rules (``application/graphql-response+json`` with 400 for request
errors, 415 for other content types, 413 before parsing, JSON error bodies,
405 for mutations over GET) are not what that view does. It still runs
Strawberry's schema; browsers get GraphiQL's page (``server.graphiql``), and
reading what a request asks is ``server.http_request``'s.
"""

from __future__ import annotations

import inspect
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeGuard, cast

import orjson
from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    execute,
    get_operation_ast,
    parse,
    validate,
)
from graphql.validation import ASTValidationRule
from graphql.validation.validate import ValidationAbortedError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from strawberry.execution import optimized_is_awaitable

from schema import Schema
from schema.context import Context, FilterLimits, PageLimits
from schema.fastpath import FastPath, OperationPlan, ReadConnection, WriteFailed
from schema.limits import MAX_VARIABLE_VALUES, query_cost, too_complex, variable_values
from schema.loaders import Loaders
from schema.rows import RowParams
from schema.viewer import ANONYMOUS, Viewer
from server import graphiql, observability
from server.auth.tokens import InvalidToken
from server.auth.viewer import Authenticator
from server.container import Container, Scope
from server.errors import (
    BAD_REQUEST,
    BAD_USER_INPUT,
    GRAPHQL_PARSE_FAILED,
    GRAPHQL_VALIDATION_FAILED,
    QUERY_TOO_COMPLEX,
    UNAUTHENTICATED,
    error,
    field_error,
    internal_error,
    request_error,
)
from server.http_request import (
    DOCUMENT_PARAMS,
    GRAPHQL_RESPONSE,
    JSON,
    GraphQLRequest,
    HTTPProblem,
    negotiate,
    read_request,
)
from server.persisted import (
    MAX_REGISTERED_LENGTH,
    NO_STORE,
    Malformed,
    PersistedDocuments,
    Refused,
)
from server.settings import Settings

if TYPE_CHECKING:
    from server.tracing import Tracing

logger = logging.getLogger("server.graphql")

_CACHE_SIZE = 512
#: Documents prepared once: what a client may register (APQ) is prepared once too.
_CACHEABLE_LENGTH = MAX_REGISTERED_LENGTH
#: What graphql-core says when its validation work budget runs out (not its error limit).
_VALIDATION_ABORTED = "Validation aborted."
INVALID_TOKEN_MESSAGE = (
    "The access token is not valid (malformed, expired, or signed out): sign in again."
)
#: The request log's status for a client that left before its request was read (nginx's).
CLIENT_CLOSED_REQUEST = 499


@dataclass(frozen=True, slots=True)
class Prepared:
    """A parsed and validated document, or the request errors that stop it.

    ``plans`` caches the fast-path plan of each operation (``None``: no plan),
    ``costs`` the cost of each operation that takes no variables.
    """

    document: DocumentNode | None
    errors: list[dict[str, Any]]
    plans: dict[str | None, OperationPlan | None] = field(default_factory=dict)
    costs: dict[str | None, int] = field(default_factory=dict)


class GraphQLHTTP:
    """The ``/graphql`` endpoint of one application."""

    def __init__(
        self,
        schema: Schema,
        settings: Settings,
        container: Container,
        limit_rules: Sequence[type[ASTValidationRule]],
        rules: Sequence[type[ASTValidationRule]],
        *,
        tracing: Tracing | None = None,
    ) -> None:
        self.schema = schema
        self.tracing = tracing
        self.settings = settings
        self.container = container
        self.limit_rules = tuple(limit_rules)
        self.rules = tuple(rules)
        self.limits = PageLimits(
            default_page_size=settings.graphql_default_page_size,
            max_page_size=settings.graphql_max_page_size,
            filters=FilterLimits(
                depth=settings.graphql_max_filter_depth,
                relations=settings.graphql_max_filter_relations,
                terms=settings.graphql_max_filter_terms,
                pattern_length=settings.graphql_max_filter_pattern_length,
            ),
        )
        self._executor_class = schema.execution_context_class
        self._prepared: OrderedDict[str, Prepared] = OrderedDict()
        self.documents = PersistedDocuments(settings, lambda: container.get(AsyncEngine))
        self.fast_path = FastPath(schema, schema.graphql_schema)
        #: Made by the first request with a token (it may read the signing key).
        self._authenticator: Authenticator | None = None

    # -- HTTP -----------------------------------------------------------------

    async def handle(self, request: Request) -> Response:
        if self.tracing is not None:  # OTEL_* turned traces on: a span around the request
            return await self.tracing.operation(request, self._handle)
        return await self._handle(request)

    async def _handle(self, request: Request) -> Response:
        request_id = observability.request_id()
        media_type = negotiate(request.headers.get("accept"))
        try:
            if request.method == "GET":
                # A browser opening /graphql?query=... gets GraphiQL holding it, not JSON.
                page = self.settings.graphiql and graphiql.wants_page(request)
                if page:
                    return await graphiql.page(self.settings)
                if not DOCUMENT_PARAMS.intersection(request.query_params):
                    raise HTTPProblem(400, "Missing query: pass the GraphQL document as `query`.")
            graphql_request = await read_request(
                request, self.settings.max_body_bytes
            )  # transport problems answer first
            graphql_request = replace(graphql_request, viewer=await self.viewer(request))
            graphql_request = await self._persisted(graphql_request)
            payload, status = await self._run(graphql_request, request, media_type, request_id)
            observability.record_errors(payload.get("errors", ()))
        except HTTPProblem as problem:
            body = {"errors": [error(problem.message, BAD_REQUEST)]}
            observability.record_errors(body["errors"])
            return Response(orjson.dumps(body), problem.status, problem.headers, media_type=JSON)
        except Refused as refused:
            # A request error like a parse error: 200 in JSON, 400 in graphql-response+json.
            body = {"errors": [refused.error]}
            observability.record_errors(body["errors"])
            status = 400 if media_type == GRAPHQL_RESPONSE else 200
            return Response(orjson.dumps(body), status, NO_STORE, media_type=media_type)
        except InvalidToken:
            # Refused before anything runs (RFC 6750, 3.1); why stays in fixed words in the log.
            logger.info("refused a bearer token [request %s]", request_id)
            body = {"errors": [error(INVALID_TOKEN_MESSAGE, UNAUTHENTICATED)]}
            observability.record_errors(body["errors"])
            headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
            return Response(orjson.dumps(body), 401, headers, media_type=media_type)
        except ClientDisconnect:
            # The client went away before its body was read: nothing ran and nobody is
            # left to answer. Not a server error: no traceback, no INTERNAL_SERVER_ERROR.
            logger.info("client disconnected before its request was read [request %s]", request_id)
            return Response(status_code=CLIENT_CLOSED_REQUEST)
        except Exception as exc:
            # Outside any field (the database gone before the first statement, a bug):
            # still the contract's INTERNAL_SERVER_ERROR, never a bare 500 page.
            payload = {"errors": [internal_error(exc, request_id)]}
            status = 500 if media_type == GRAPHQL_RESPONSE else 200
            observability.record_errors(payload["errors"])
        return Response(orjson.dumps(payload), status, media_type=media_type)

    async def viewer(self, request: Request) -> Viewer:
        """Who is asking, from ``Authorization``: one statement when a token is given."""
        authorization = request.headers.get("authorization")
        if authorization is None:
            return ANONYMOUS
        authenticator = self._authenticator = await self.container.get(Authenticator)
        return await authenticator.viewer(await self.container.get(AsyncEngine), authorization)

    # -- GraphQL --------------------------------------------------------------

    async def _persisted(self, graphql_request: GraphQLRequest) -> GraphQLRequest:
        """The request with the document it names read, or refused (``server.persisted``).

        A request that names none passes untouched, with no statement, unless
        only trusted documents may run.
        """
        ref = graphql_request.persisted
        if not self.documents.involved(ref):
            return graphql_request
        sent = None if ref is not None and not graphql_request.query else graphql_request.query
        try:
            query = await self.documents.document(sent, ref, self._registrable)
        except Malformed as exc:
            raise HTTPProblem(400, str(exc)) from None
        return replace(graphql_request, query=query)

    def _registrable(self, query: str) -> bool:
        """Whether a client may register ``query``: it parses and validates (limits included)."""
        prepared = self._prepare(query)
        return prepared.document is not None and not prepared.errors

    async def _run(
        self, graphql_request: GraphQLRequest, request: Request, media_type: str, request_id: str
    ) -> tuple[dict[str, Any], int]:
        failed = 400 if media_type == GRAPHQL_RESPONSE else 200
        prepared = self._prepare(graphql_request.query)
        if prepared.document is None:
            return {"errors": prepared.errors}, failed
        operation = get_operation_ast(prepared.document, graphql_request.operation_name)
        if operation is None:
            name = graphql_request.operation_name
            if name:
                message = f"Unknown operation named {name!r}."
            elif any(isinstance(d, OperationDefinitionNode) for d in prepared.document.definitions):
                message = "The document has several operations: pass `operationName`."
            else:
                message = "The document has no operation to run."
            return {"errors": [error(message, BAD_REQUEST)]}, failed
        observability.record_operation(
            operation.name.value if operation.name else None, operation.operation.value
        )
        if request.method == "GET" and operation.operation is not OperationType.QUERY:
            raise HTTPProblem(405, f"A {operation.operation.value} needs POST.", {"Allow": "POST"})
        if prepared.errors:
            return {"errors": prepared.errors}, failed
        values = variable_values(graphql_request.variables)
        if values > MAX_VARIABLE_VALUES:
            message = f"The variables hold more than {MAX_VARIABLE_VALUES} values."
            too_many = error(message, QUERY_TOO_COMPLEX, limit=MAX_VARIABLE_VALUES, actual=values)
            return {"errors": [too_many]}, failed
        cost = self._cost(prepared, operation, graphql_request.variables)
        if cost > self.settings.graphql_max_cost:
            too_much = too_complex("cost", self.settings.graphql_max_cost, cost, [operation])
            return {"errors": [request_error(too_much, QUERY_TOO_COMPLEX)]}, failed
        plan = self._plan(prepared, operation)
        # A mutation that ends a session or changes a role: this process's next requests
        # read their viewers afresh (others within ``VIEWER_TTL``).
        watching = (
            self._authenticator.mutation()
            if operation.operation is OperationType.MUTATION and self._authenticator
            else nullcontext()
        )
        with watching:
            result = await self.execute(
                prepared.document, operation, graphql_request, request_id, plan
            )
        if result.data is None and result.errors and all(e.path is None for e in result.errors):
            # Variables that do not coerce: a request error, so no `data`.
            return {"errors": [request_error(e, BAD_USER_INPUT) for e in result.errors]}, failed
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = [field_error(e, request_id) for e in result.errors]
        return payload, 200

    def _prepare(self, query: str) -> Prepared:
        """Parse and validate ``query``, once per distinct document (a small LRU)."""
        cached = self._prepared.get(query)
        if cached is not None:
            self._prepared.move_to_end(query)
            return cached
        prepared = self._parse_and_validate(query)
        if len(query) <= _CACHEABLE_LENGTH:
            self._prepared[query] = prepared
            if len(self._prepared) > _CACHE_SIZE:
                self._prepared.popitem(last=False)
        return prepared

    def _parse_and_validate(self, query: str) -> Prepared:
        max_tokens = self.settings.graphql_max_tokens
        try:
            document = parse(query, max_tokens=max_tokens)
        except GraphQLError as exc:
            if "tokens" in exc.message and "Parsing aborted" in exc.message:
                message = f"The document has more than {max_tokens} tokens."
                return Prepared(None, [error(message, QUERY_TOO_COMPLEX, limit=max_tokens)])
            if "nested too deeply" in exc.message:
                depth = self.settings.graphql_max_depth
                message = "The document is nested too deeply."
                return Prepared(None, [error(message, QUERY_TOO_COMPLEX, limit=depth)])
            return Prepared(None, [request_error(exc, GRAPHQL_PARSE_FAILED)])
        errors = validate(self.schema.graphql_schema, document, self.limit_rules)
        if not errors:
            errors = validate(self.schema.graphql_schema, document, self.rules)
        return Prepared(document, [_validation_error(e) for e in errors])

    def _cost(
        self,
        prepared: Prepared,
        operation: OperationDefinitionNode,
        variables: dict[str, Any] | None,
    ) -> int:
        """The operation's cost; without variables it is the same every time, so kept."""
        name = operation.name.value if operation.name else None
        cached = prepared.costs.get(name)
        if cached is not None:
            return cached
        assert prepared.document is not None
        cost = query_cost(
            self.schema.graphql_schema,
            prepared.document,
            operation,
            variables,
            default_page_size=self.limits.default_page_size,
            max_page_size=self.limits.max_page_size,
        )
        if not operation.variable_definitions:
            prepared.costs[name] = cost
        return cost

    def _plan(self, prepared: Prepared, operation: OperationDefinitionNode) -> OperationPlan | None:
        if not self.settings.graphql_fast_path:
            return None
        name = operation.name.value if operation.name else None
        if name not in prepared.plans:
            assert prepared.document is not None
            prepared.plans[name] = self.fast_path.plan(prepared.document, operation)
        return prepared.plans[name]

    async def execute(
        self,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        graphql_request: GraphQLRequest,
        request_id: str,
        plan: OperationPlan | None,
    ) -> ExecutionResult:
        """Run a checked operation: on its plan if any, else (or if that declines) the resolvers.

        The one step to override to run operations otherwise; the tests'
        endpoint (``tests/verify.py``) also runs each through the resolvers and
        compares the two.
        """
        if plan is not None:
            result = await self.run_plan(plan, operation, graphql_request)
            if result is not None:
                return result
        read_only = operation.operation is OperationType.QUERY
        return await self.resolve(document, graphql_request, request_id, read_only=read_only)

    async def run_plan(
        self,
        plan: OperationPlan,
        operation: OperationDefinitionNode,
        graphql_request: GraphQLRequest,
        *,
        strict: bool = False,
        created: dict[str, tuple[type[Any], Any]] | None = None,
    ) -> ExecutionResult | None:
        """The fast path's result, or ``None`` when the resolvers must answer.

        ``strict`` and ``created`` are ``FastPath.run``'s.
        """
        try:
            async with self._scope(graphql_request) as scope:
                reads = await scope.get(ReadConnection)
                data = await self.fast_path.run(
                    plan,
                    operation,
                    graphql_request.variables,
                    scope,
                    reads.connection,
                    self.limits,
                    strict=strict,
                    created=created,
                )
        except WriteFailed as failure:
            observability.record_answer("fast")
            return _failed_write(failure)
        if data is None:
            observability.record_answer("fallback")  # planned, declined: the resolvers answer
            return None
        observability.record_answer("fast")
        return ExecutionResult(data=data)

    async def resolve(
        self,
        document: DocumentNode,
        graphql_request: GraphQLRequest,
        request_id: str,
        *,
        read_only: bool,
    ) -> ExecutionResult:
        observability.record_answer("resolvers")
        async with self._scope(graphql_request) as scope:
            if read_only:
                await _read_only(await scope.get(AsyncSession))
            context = Context(
                scope=scope,
                loaders=await scope.get(Loaders),
                limits=self.limits,
                params=await scope.get(RowParams),
                request_id=request_id,
            )
            result = execute(
                self.schema.graphql_schema,
                document,
                context_value=context,
                variable_values=graphql_request.variables,
                operation_name=graphql_request.operation_name,
                is_awaitable=_is_awaitable,
                executor_class=self._executor_class,
            )
            if inspect.isawaitable(result):
                result = await result
            assert isinstance(result, ExecutionResult)
            return result

    def _scope(self, graphql_request: GraphQLRequest) -> Scope:
        """The request's container scope, with its viewer."""
        scope = self.container.scope()
        scope.provide(Viewer, graphql_request.viewer)
        return scope


def _failed_write(failure: WriteFailed) -> ExecutionResult:
    """What the resolvers answer for a mutation field that raised: ``null`` and its error."""
    plan = failure.plan
    data = {root.key: plan.root_type if root.kind is None else None for root in plan.fields}
    errors = [
        GraphQLError(
            str(failure.error),
            nodes=[root.node],
            path=[root.key],
            original_error=failure.error,
        )
        for root in plan.fields
        if root.kind is not None and root.kind.writes and root.node is not None
    ]
    return ExecutionResult(data=data, errors=errors)


def _validation_error(exc: GraphQLError) -> dict[str, Any]:
    if isinstance(exc, ValidationAbortedError) and exc.message == _VALIDATION_ABORTED:
        # graphql-core ran out of its work budget (comparing thousands of same-named
        # fields, say) on a document that may well be valid: it is too complex, not invalid.
        return error("The document is too complex to validate.", QUERY_TOO_COMPLEX)
    return request_error(exc, GRAPHQL_VALIDATION_FAILED)


async def _read_only(session: AsyncSession) -> None:
    """Reads of a query need no transaction: skip BEGIN and ROLLBACK on PostgreSQL.

    Each statement still sees committed data only (PostgreSQL's default READ
    COMMITTED gives each statement its own snapshot inside a transaction too).
    SQLite's transactions are in-process and cost no round trip.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


_is_awaitable = cast(Callable[[Any], TypeGuard[Awaitable[Any]]], optimized_is_awaitable)
