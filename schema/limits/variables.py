"""Maximum values in a request's variables.

Coercing variables into input objects costs tens of microseconds per value,
twice per request (the fast path, then the resolvers), before any filter or
page rule can refuse them: a 1 MiB body of ``{"or": [{}, {}, ...]}`` held
the event loop for many seconds. A document is capped by its tokens; this is
the same cap for the variables that travel beside it, measured in linear
time before anything is coerced.
"""

from __future__ import annotations

from typing import Any

#: Every JSON value counts once: an object, a list, a string, a number...
MAX_VARIABLE_VALUES = 10_000


def variable_values(variables: dict[str, Any] | None) -> int:
    """How many JSON values ``variables`` hold (the enclosing object not counted)."""
    count = 0
    pending: list[Any] = list((variables or {}).values())
    while pending:
        value = pending.pop()
        count += 1
        if isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return count
