"""The server's own account of the run: its log, read back after it stopped.

With ``LOG_LEVEL=info`` the server writes one JSON line per request, carrying
the ``X-Request-ID`` the client sent, and error records with their request id;
the report sets them against what the clients sent.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench import services
from bench.dataset import Kind
from bench.soak.stats import EXAMPLES

#: Server logs kept per database (``bench/.data/logs/<db>-soak-<run>-server.log``).
KEPT_LOGS = 10


@dataclass(slots=True)
class LogSummary:
    requests: int = 0
    soak_requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)
    max_ms: float = 0.0
    errors: list[str] = field(default_factory=list)
    error_count: int = 0
    other_lines: int = 0


def read_server_log(path: Path, tag: str) -> LogSummary:
    """One JSON line per request (``server.request``), and error records with their request id."""
    summary = LogSummary()
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if not isinstance(record, dict):
            summary.other_lines += 1
            continue
        if record.get("logger") == "server.request":
            summary.requests += 1
            if str(record.get("request_id", "")).startswith(f"soak-{tag}-"):
                summary.soak_requests += 1
                summary.statuses[int(record.get("status", 0))] += 1
                summary.codes.update(str(code) for code in record.get("error_codes") or [])
                summary.max_ms = max(summary.max_ms, float(record.get("duration_ms", 0)))
        elif record.get("level") in ("error", "critical") or "exception" in record:
            summary.error_count += 1
            if len(summary.errors) < EXAMPLES:
                last = str(record.get("exception", "")).strip().splitlines()[-1:]
                summary.errors.append(f"{record.get('message')} — {' '.join(last)}")
    return summary


def prune_logs(kind: Kind) -> None:
    """Keep the server logs of the last few runs on ``kind``; this run adds one."""
    logs = sorted(
        services.LOGS.glob(f"{kind}-soak-*-server.log"), key=lambda path: path.stat().st_mtime
    )
    for old in logs[: max(0, len(logs) - (KEPT_LOGS - 1))]:
        old.unlink(missing_ok=True)
