"""The error every limit reports."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, Node

QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"


def too_complex(
    what: str, limit: int, actual: int | None, nodes: list[Node] | None = None
) -> GraphQLError:
    """``QUERY_TOO_COMPLEX`` naming the limit, and the measured value where it is known."""
    extensions: dict[str, Any] = {"code": QUERY_TOO_COMPLEX, "limit": limit}
    if actual is not None:
        extensions["actual"] = actual
    detail = f" ({actual})" if actual is not None else ""
    return GraphQLError(
        f"The query's {what}{detail} is over the limit of {limit}.",
        nodes=nodes,
        extensions=extensions,
    )
