"""What a soak run prints to stdout: the table per operation, the errors, the checks, the verdict.

The table is drawn by ``bench.report``, as the benchmark's own; everything
here only reads what the run recorded.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from bench.report import text_table
from bench.soak.integrity import Check
from bench.soak.serverlog import LogSummary
from bench.soak.stats import OpStats, Recorder, merge, percentile

HEADER = (
    "operation", "requests", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "expected",
    "unexpected",
)  # fmt: skip
#: The columns' least widths: the table lines up whatever the figures.
WIDTHS = (17, 8, 8, 8, 8, 8, 8, 9, 10)


def _row(name: str, stats: OpStats, elapsed: float) -> list[str]:
    ordered = sorted(stats.latencies)
    count = len(ordered)
    figures = [percentile(ordered, q) * 1000 for q in (0.5, 0.9, 0.99, 1.0)]
    return [
        name,
        str(count),
        f"{count / elapsed:.1f}",
        *(f"{value:.1f}" for value in figures),
        str(stats.expected_requests),
        str(stats.unexpected_requests),
    ]


def _errors(recorder: Recorder, expected: bool) -> list[str]:
    lines = [
        f"  {name}: {kind} × {count}"
        for name in sorted(recorder.ops)
        for kind, count in sorted(
            (recorder.ops[name].expected if expected else recorder.ops[name].unexpected).items()
        )
    ]
    return lines or ["  none"]


def operations(recorder: Recorder, elapsed: float, header: str) -> str:
    """The header, one row per operation and one for all, then the errors by kind."""
    rows = [_row(name, recorder.ops[name], elapsed) for name in sorted(recorder.ops)]
    rows.append(_row("all", merge(recorder.ops.values()), elapsed))
    lines = [header, "", text_table(HEADER, rows, right=set(range(1, len(HEADER))), widths=WIDTHS)]
    lines += ["", "expected errors (by kind, per operation):", *_errors(recorder, True)]
    lines += ["unexpected errors (by kind, per operation):", *_errors(recorder, False)]
    if recorder.examples:
        lines.append("first unexpected errors (request id → the server log):")
        lines.extend(
            f"  {ex.request_id} {ex.operation}: {ex.kind}: {ex.detail}" for ex in recorder.examples
        )
    return "\n".join(lines)


def integrity(checks: list[Check], unknown: Counter[str]) -> tuple[list[str], int]:
    """The lines of the integrity checks, and how many failed."""
    lines = ["integrity (read from the database after the server stopped):"]
    failed = 0
    for check in checks:
        mark = "✗" if check.problems else "✓"
        skipped = f", {check.skipped} skipped (no answer)" if check.skipped else ""
        lines.append(f"  {mark} {check.name}: {check.checked} checked{skipped}")
        lines.extend(f"      {problem}" for problem in check.problems[:10])
        failed += bool(check.problems)
    if sum(unknown.values()):
        lines.append(
            f"  creates without an answer (may or may not have committed): {dict(unknown)}"
        )
    return lines, failed


def server_log(path: Path, summary: LogSummary, recorder: Recorder) -> list[str]:
    """The server log's request lines of this run against the requests sent, and its errors."""
    sent = sum(len(stats.latencies) for stats in recorder.ops.values())
    line = (
        f"server log {path}: {summary.soak_requests} "
        f"request lines of this run for {sent} requests sent ({recorder.answered} answered "
        "with a GraphQL body), "
        f"statuses {dict(summary.statuses)}, error codes {dict(summary.codes) or 'none'}, "
        f"slowest {summary.max_ms:.0f} ms, {summary.error_count} error record(s)"
    )
    return [line, *(f"  {error}" for error in summary.errors)]


def print_report(
    header: str,
    recorder: Recorder,
    elapsed: float,
    checks: list[Check],
    unknown: Counter[str],
    log_path: Path,
    log_summary: LogSummary,
) -> int:
    """Print the whole report; the exit status: 1 when anything unexpected showed up, else 0."""
    print(operations(recorder, elapsed, header))
    print()
    lines, failed = integrity(checks, unknown)
    print("\n".join(lines))
    print()
    print("\n".join(server_log(log_path, log_summary, recorder)))
    unexpected = sum(stats.unexpected_requests for stats in recorder.ops.values())
    bad = unexpected or failed or log_summary.error_count
    verdict = "FAILED" if bad else "OK"
    print(
        f"\n{verdict}: {unexpected} request(s) with unexpected errors, {failed} failed integrity "
        f"check(s), {log_summary.error_count} error record(s) in the server log"
    )
    return 1 if bad else 0
