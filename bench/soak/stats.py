"""Recording what each request met: latencies, and errors told expected from unexpected.

An error is expected only where another client could cause it; the request
says which (``Expect``), and the recorder counts both kinds per operation.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

#: Unexpected errors (and error records of the server log) shown with their request id.
EXAMPLES = 20


@dataclass(slots=True)
class Expect:
    """The errors a request may meet without anything being wrong."""

    codes: frozenset[str] = frozenset()
    fields: frozenset[str] = frozenset()
    """For ``BAD_USER_INPUT``: the argument paths it may name."""


NOTHING = Expect()
GONE = Expect(frozenset({"NOT_FOUND"}))


@dataclass(slots=True)
class OpStats:
    latencies: list[float] = field(default_factory=list)
    expected: Counter[str] = field(default_factory=Counter)
    unexpected: Counter[str] = field(default_factory=Counter)
    expected_requests: int = 0
    unexpected_requests: int = 0


@dataclass(slots=True)
class Example:
    operation: str
    request_id: str
    kind: str
    detail: str


@dataclass(slots=True)
class Recorder:
    ops: dict[str, OpStats] = field(default_factory=dict)
    examples: list[Example] = field(default_factory=list)
    answered: int = 0

    def stats(self, operation: str) -> OpStats:
        return self.ops.setdefault(operation, OpStats())

    def unexpected(self, operation: str, request_id: str, kind: str, detail: str) -> None:
        self.stats(operation).unexpected[kind] += 1
        if len(self.examples) < EXAMPLES:
            self.examples.append(Example(operation, request_id, kind, detail[:300]))


def error_kind(error: Any) -> tuple[str, str]:
    """``(code, kind)`` of one GraphQL error; the kind names the fields of BAD_USER_INPUT."""
    extensions = error.get("extensions") if isinstance(error, dict) else None
    code = str((extensions or {}).get("code") or "NO_CODE")
    if code == "BAD_USER_INPUT" and isinstance(extensions, dict):
        fields = extensions.get("fields")
        if isinstance(fields, dict):
            return code, f"{code}({','.join(sorted(fields))})"
    return code, code


def is_expected(error: Any, expect: Expect) -> bool:
    code, _ = error_kind(error)
    if code not in expect.codes:
        return False
    if code != "BAD_USER_INPUT":
        return True
    fields = (error.get("extensions") or {}).get("fields")
    return isinstance(fields, dict) and bool(fields) and set(fields) <= expect.fields


def percentile(ordered: list[float], q: float) -> float:
    if not ordered:
        return math.nan
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def merge(stats: Iterable[OpStats]) -> OpStats:
    total = OpStats()
    for one in stats:
        total.latencies.extend(one.latencies)
        total.expected.update(one.expected)
        total.unexpected.update(one.unexpected)
        total.expected_requests += one.expected_requests
        total.unexpected_requests += one.unexpected_requests
    return total
