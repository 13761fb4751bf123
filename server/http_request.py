"""What a GraphQL-over-HTTP request asks: its document, variables, operation and extensions.

Read from a GET's parameters or a POST's JSON body as the GraphQL-over-HTTP
specification says (415 for another content type, 413 before parsing a body
that is too large, 400 for what is not a GraphQL request, 405 for other
methods), and the answer's media type negotiated from ``Accept``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request

from schema.viewer import ANONYMOUS, Viewer
from server.accept import media_ranges
from server.persisted import Malformed, PersistedRequest, requested

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"
#: The parameters that make a GET a GraphQL request (else a browser gets GraphiQL).
DOCUMENT_PARAMS = frozenset({"query", "documentId", "extensions"})


class HTTPProblem(Exception):
    """A request that is not a GraphQL request at all; answered with ``status``."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


@dataclass(frozen=True, slots=True)
class GraphQLRequest:
    query: str
    variables: dict[str, Any] | None
    operation_name: str | None
    extensions: dict[str, Any] | None
    viewer: Viewer = ANONYMOUS
    # Names a stored document (APQ hash or `documentId`): `query` is "" until it is read.
    persisted: PersistedRequest | None = None


async def read_request(request: Request, max_body_bytes: int) -> GraphQLRequest:
    """The GraphQL request a GET or POST carries; ``HTTPProblem`` for what is not one."""
    if request.method == "GET":
        params = request.query_params
        return _graphql_request(
            {
                "query": params.get("query"),
                "variables": _json_param(params.get("variables"), "variables"),
                "operationName": params.get("operationName"),
                "extensions": _json_param(params.get("extensions"), "extensions"),
                "documentId": params.get("documentId"),
            }
        )
    if request.method != "POST":
        raise HTTPProblem(405, "GraphQL accepts GET and POST.", {"Allow": "GET, POST"})
    content_type = request.headers.get("content-type", "")
    if content_type.split(";", 1)[0].strip().lower() != JSON:
        raise HTTPProblem(415, "Send the request as application/json.")
    body = await _body(request, max_body_bytes)
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise HTTPProblem(400, "The body is not valid JSON.") from None
    if isinstance(data, list):
        raise HTTPProblem(400, "Batched requests are not supported: send one operation.")
    if not isinstance(data, dict):
        raise HTTPProblem(400, "The body must be a JSON object with a `query`.")
    return _graphql_request(data)


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPProblem(413, f"The request body is larger than {limit} bytes.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPProblem(413, f"The request body is larger than {limit} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


def negotiate(accept: str | None) -> str:
    """``application/graphql-response+json`` when the client prefers it, else JSON."""
    if not accept:
        return JSON
    best, best_q = JSON, -1.0
    for media, q in media_ranges(accept):
        if q <= 0:
            continue
        if media == GRAPHQL_RESPONSE and q >= best_q:
            best, best_q = GRAPHQL_RESPONSE, q
        elif media in (JSON, "application/*", "*/*") and q > best_q:
            best, best_q = JSON, q
    return best


def _json_param(raw: str | None, name: str) -> Any:
    if raw is None or raw == "":
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise HTTPProblem(400, f"`{name}` is not valid JSON.") from None


def _graphql_request(data: dict[str, Any]) -> GraphQLRequest:
    query = data.get("query")
    variables = data.get("variables")
    operation_name = data.get("operationName")
    extensions = data.get("extensions")
    document_id = data.get("documentId")
    ref = None
    if document_id is not None or isinstance(extensions, dict):
        named = extensions if isinstance(extensions, dict) else None
        try:
            ref = requested(document_id, named, has_query=query is not None)
        except Malformed as exc:
            raise HTTPProblem(400, str(exc)) from None
    if not isinstance(query, str) and not (ref is not None and query is None):
        raise HTTPProblem(400, "`query` must be a string holding the GraphQL document.")
    if variables is not None and not isinstance(variables, dict):
        raise HTTPProblem(400, "`variables` must be a JSON object.")
    if operation_name is not None and not isinstance(operation_name, str):
        raise HTTPProblem(400, "`operationName` must be a string.")
    if extensions is not None and not isinstance(extensions, dict):
        raise HTTPProblem(400, "`extensions` must be a JSON object.")
    return GraphQLRequest(query or "", variables, operation_name, extensions, persisted=ref)
