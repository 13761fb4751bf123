"""The one place where exceptions become the contract's error codes.

Domain errors keep their meaning (``RecordNotFound`` -> ``NOT_FOUND``,
``UserInputError`` -> ``BAD_USER_INPUT``); anything unexpected becomes
``INTERNAL_SERVER_ERROR`` with a generic message and the request id, and the
exception goes to the log under that id, never to the client. A statement
the database refuses as too deeply nested is ``QUERY_TOO_COMPLEX``. A database
timeout (a statement, lock, pool or connection wait that ran out) is still
``INTERNAL_SERVER_ERROR``, with a message that says so.
"""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError

from fast_query import RecordNotFound, is_timeout, is_too_complex
from schema.errors import Forbidden, RateLimited, Unauthenticated, UserInputError

logger = logging.getLogger("server.errors")

NOT_FOUND = "NOT_FOUND"
BAD_USER_INPUT = "BAD_USER_INPUT"
BAD_REQUEST = "BAD_REQUEST"
GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"
RATE_LIMITED = "RATE_LIMITED"
# Persisted documents (server.persisted): Apollo's codes, which its clients act on.
PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
PERSISTED_QUERY_NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
QUERY_NOT_IN_SAFELIST = "QUERY_NOT_IN_SAFELIST"

INTERNAL_MESSAGE = "Internal server error: something went wrong on our side."
TOO_COMPLEX_MESSAGE = (
    "The query is too complex for the database to run: nest its filters less deeply."
)
TIMEOUT_MESSAGE = "Internal server error: the database did not answer in time. Try again later."


def error(message: str, code: str, **extensions: Any) -> dict[str, Any]:
    """An error entry for ``errors[]`` that is not tied to a field."""
    return {"message": message, "extensions": {"code": code, **extensions}}


def request_error(error_: GraphQLError, code: str) -> dict[str, Any]:
    """A parse, validation or variable error: the GraphQL message with ``code``."""
    formatted: dict[str, Any] = dict(error_.formatted)
    extensions: dict[str, Any] = dict(formatted.get("extensions") or {})
    extensions.setdefault("code", code)
    formatted["extensions"] = extensions
    return formatted


def internal_error(exc: BaseException, request_id: str) -> dict[str, Any]:
    """``INTERNAL_SERVER_ERROR`` for a failure outside any field; the details go to the log."""
    logger.error("unexpected error in request [request %s]", request_id, exc_info=exc)
    return error(internal_message(exc), INTERNAL_SERVER_ERROR, requestId=request_id)


def internal_message(exc: BaseException | None) -> str:
    """The generic sentence for ``INTERNAL_SERVER_ERROR``: nothing of ``exc`` but its kind."""
    return TIMEOUT_MESSAGE if exc is not None and is_timeout(exc) else INTERNAL_MESSAGE


def field_error(error_: GraphQLError, request_id: str) -> dict[str, Any]:
    """An error raised while resolving a field, with the code its cause deserves."""
    original = error_.original_error
    formatted: dict[str, Any] = dict(error_.formatted)
    if isinstance(original, RecordNotFound):
        formatted["extensions"] = {"code": NOT_FOUND, "model": original.model, "id": original.id}
    elif isinstance(original, UserInputError):
        formatted["extensions"] = {"code": BAD_USER_INPUT, "fields": original.fields}
    elif isinstance(original, Unauthenticated):
        formatted["extensions"] = {"code": UNAUTHENTICATED}
    elif isinstance(original, Forbidden):
        formatted["extensions"] = {"code": FORBIDDEN, **original.extensions()}
    elif isinstance(original, RateLimited):
        formatted["extensions"] = {"code": RATE_LIMITED, "retryAfter": original.retry_after}
    elif original is None and (error_.extensions or {}).get("code"):
        formatted["extensions"] = dict(error_.extensions or {})
    elif original is not None and is_too_complex(original):
        # Valid, but past what the database (or SQLAlchemy's compiler) can nest.
        formatted["message"] = TOO_COMPLEX_MESSAGE
        formatted["extensions"] = {"code": QUERY_TOO_COMPLEX}
    else:
        logger.error(
            "unexpected error in %s [request %s]",
            ".".join(str(part) for part in error_.path or ()) or "request",
            request_id,
            exc_info=original or error_,
        )
        formatted["message"] = internal_message(original)
        formatted["extensions"] = {"code": INTERNAL_SERVER_ERROR, "requestId": request_id}
    return formatted
