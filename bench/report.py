"""The results: the table printed to stdout, the targets of issue 4, and ``bench/RESULTS.md``.

Each workload is a row per viewer: ``W1`` anonymous, ``W1 (admin)`` signed in
as an admin, each against the floor answering that viewer.

The table formatting and the command line are shared with the soak test's report.
"""

from __future__ import annotations

import os
import platform
import shlex
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.dataset import ROOT, Log
from bench.load import LoadResult
from bench.viewers import VIEWERS, Viewer, label
from bench.workloads import WORKLOADS

RESULTS = ROOT / "bench" / "RESULTS.md"
MB = 1024  # VmHWM is in KiB


@dataclass(slots=True)
class Measurement:
    """One workload for one viewer on one database: both services under the same load."""

    workload: str
    viewer: Viewer
    ours: LoadResult
    floor: LoadResult | None
    statements: int | None
    server_peak_kib: int | None
    """Our server's VmHWM once this workload (and every one before it) had run."""
    response_bytes: int | None = None

    @property
    def label(self) -> str:
        return label(self.workload, self.viewer)

    @property
    def ratio(self) -> float | None:
        if self.floor is None or self.floor.rps == 0:
            return None
        return self.ours.rps / self.floor.rps


@dataclass(slots=True)
class DatabaseRun:
    db: str
    version: str
    viewers: tuple[Viewer, ...] = VIEWERS
    """The viewers measured (statements are counted for every viewer regardless)."""
    measurements: list[Measurement] = field(default_factory=list)
    solo: dict[tuple[str, Viewer], LoadResult] = field(default_factory=dict)
    """Our server with one connection: the latency of a request on its own."""
    statements: dict[tuple[Viewer, str], int] = field(default_factory=dict)
    """Statements per request by viewer and workload."""
    server_peak_kib: int | None = None
    floor_peak_kib: int | None = None

    def measurement(self, workload: str, viewer: Viewer = "anonymous") -> Measurement | None:
        return next(
            (m for m in self.measurements if m.workload == workload and m.viewer == viewer), None
        )

    def extra_statements(self, viewer: Viewer, workload: str) -> int | None:
        """How many more statements ``viewer``'s request costs than the anonymous one."""
        counted = self.statements.get((viewer, workload))
        anonymous = self.statements.get(("anonymous", workload))
        return None if counted is None or anonymous is None else counted - anonymous


@dataclass(frozen=True, slots=True)
class RunSettings:
    command: str
    duration: int
    warmup: int
    connections: int
    threads: int
    floor: bool
    viewers: tuple[Viewer, ...]
    load_at_start: tuple[float, float, float]


# -- formatting ---------------------------------------------------------------


def _num(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def _mb(kib: int | None) -> str:
    return "–" if kib is None else f"{kib / MB:,.0f}"


def _widths(
    header: Sequence[str], rows: Sequence[Sequence[str]], least: Sequence[int] = ()
) -> list[int]:
    """Each column's width: its longest cell, and at least ``least[i]``."""
    return [
        max([len(str(row[i])) for row in [header, *rows]] + list(least[i : i + 1]))
        for i in range(len(header))
    ]


def _pad(cells: Sequence[str], widths: Sequence[int], right: set[int]) -> list[str]:
    return [
        str(c).rjust(widths[i]) if i in right else str(c).ljust(widths[i])
        for i, c in enumerate(cells)
    ]


def text_table(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    right: set[int],
    widths: Sequence[int] = (),
) -> str:
    """A plain table: columns one space apart, each at least as wide as ``widths`` says."""
    sizes = _widths(header, rows, widths)
    return "\n".join(" ".join(_pad(cells, sizes, right)) for cells in [header, *rows])


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]], right: set[int]) -> str:
    """A Markdown table padded to line up in a terminal too."""
    widths = _widths(header, rows)

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(_pad(cells, widths, right)) + " |"

    rule = (
        "|"
        + "|".join(
            "-" * (w + 1) + ":" if i in right else "-" * (w + 2) for i, w in enumerate(widths)
        )
        + "|"
    )
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


def results_table(runs: Sequence[DatabaseRun]) -> str:
    header = [
        "db", "workload", "req/s", "p50 ms", "p99 ms", "floor req/s", "floor p50 ms",
        "floor p99 ms", "ours ÷ floor", "SQL/req", "server peak MB", "failures",
    ]  # fmt: skip
    rows: list[list[str]] = []
    for run in runs:
        for m in run.measurements:
            floor = m.floor
            statements = "–" if m.statements is None else str(m.statements)
            extra = run.extra_statements(m.viewer, m.workload)
            if m.viewer != "anonymous" and m.statements is not None and extra is not None:
                statements += f" ({extra:+d})"
            rows.append(
                [
                    run.db,
                    m.label,
                    _num(m.ours.rps),
                    _num(m.ours.p50_ms, 2),
                    _num(m.ours.p99_ms, 2),
                    _num(floor.rps if floor else None),
                    _num(floor.p50_ms if floor else None, 2),
                    _num(floor.p99_ms if floor else None, 2),
                    "–" if m.ratio is None else f"{m.ratio:.2f}×",
                    statements,
                    _mb(m.server_peak_kib),
                    f"{m.ours.failures}/{floor.failures}" if floor else str(m.ours.failures),
                ]
            )
    return markdown_table(header, rows, right=set(range(2, 12)))


# -- targets ------------------------------------------------------------------

Check = Callable[[DatabaseRun, Viewer], tuple[str, bool] | None]


def _statements(workload: str, limit: int, exact: bool) -> Check:
    """Issue 4's counts, which are an anonymous request's (signed in: ``_signed_in_cost``)."""

    def check(run: DatabaseRun, viewer: Viewer) -> tuple[str, bool] | None:
        m = run.measurement(workload, viewer)
        if viewer != "anonymous" or m is None or m.statements is None:
            return None
        met = m.statements == limit if exact else m.statements <= limit
        return str(m.statements), met

    return check


def _throughput(workload: str, floor_share: float) -> Check:
    def check(run: DatabaseRun, viewer: Viewer) -> tuple[str, bool] | None:
        m = run.measurement(workload, viewer)
        if m is None or m.ratio is None:
            return None
        return f"{m.ratio:.2f}×", m.ratio >= floor_share

    return check


def _w6(run: DatabaseRun, viewer: Viewer) -> tuple[str, bool] | None:
    solo = run.solo.get(("W6", viewer))
    if solo is None:
        return None
    return f"{solo.p50_ms:,.0f} ms (p99 {solo.p99_ms:,.0f})", solo.p50_ms < 500


def _w7(run: DatabaseRun, viewer: Viewer) -> tuple[str, bool] | None:
    deep, first = run.solo.get(("W7", viewer)), run.solo.get(("W7-first", viewer))
    if deep is None or first is None or first.p50_ms == 0:
        return None
    ratio = deep.p50_ms / first.p50_ms
    return f"{ratio:.2f}× ({deep.p50_ms:.2f} / {first.p50_ms:.2f} ms)", ratio <= 1.2


def _memory(run: DatabaseRun, viewer: Viewer) -> tuple[str, bool] | None:
    # One server answers every viewer: its peak is the run's, shown once.
    if run.server_peak_kib is None or viewer != run.viewers[0]:
        return None
    return f"{run.server_peak_kib / MB:,.0f} MB", run.server_peak_kib < 200 * MB


def _signed_in_cost(run: DatabaseRun, viewer: Viewer) -> tuple[str, bool] | None:
    """Contract section 8: signed in costs at most one statement more than anonymous."""
    if viewer == "anonymous":
        return None
    extra = {
        m.workload: cost
        for m in run.measurements
        if m.viewer == viewer and (cost := run.extra_statements(viewer, m.workload)) is not None
    }
    if not extra:
        return None
    worst = max(extra.values())
    workloads = "workload" if len(extra) == 1 else "workloads"
    return f"{worst:+d} at most ({len(extra)} {workloads})", worst <= 1


TARGETS: tuple[tuple[str, Check], ...] = (
    ("W1 statements = 1", _statements("W1", 1, exact=True)),
    ("W2 statements ≤ 2", _statements("W2", 2, exact=False)),
    ("W3 statements ≤ 4", _statements("W3", 4, exact=False)),
    ("W5 statements = 1", _statements("W5", 1, exact=True)),
    ("W7 statements = 1", _statements("W7", 1, exact=True)),
    ("W1 throughput ≥ 0.3× floor", _throughput("W1", 0.3)),
    ("W2 throughput ≥ 0.5× floor", _throughput("W2", 0.5)),
    ("W3 throughput ≥ 0.5× floor", _throughput("W3", 0.5)),
    ("W4 throughput ≥ 0.3× floor", _throughput("W4", 0.3)),
    ("W5 throughput ≥ 0.5× floor", _throughput("W5", 0.5)),
    ("W6 10,000 nodes < 0.5 s (1 connection, p50)", _w6),
    ("W7 ≤ 1.2× W7-first (1 connection, p50)", _w7),
    ("server peak memory < 200 MB", _memory),
    ("signed in: ≤ 1 statement more than anonymous (contract § 8)", _signed_in_cost),
)


def targets_table(runs: Sequence[DatabaseRun]) -> str:
    """A column per database and viewer; the statement counts of issue 4 are anonymous ones."""
    columns = [(run, viewer) for run in runs for viewer in run.viewers]
    rows: list[list[str]] = []
    for name, check in TARGETS:
        cells = []
        for run, viewer in columns:
            outcome = check(run, viewer)
            cells.append("–" if outcome is None else f"{outcome[0]} {'✓' if outcome[1] else '✗'}")
        if any(cell != "–" for cell in cells):
            rows.append([name, *cells])
    header = ["target (issue 4)", *(label(run.db, viewer) for run, viewer in columns)]
    return markdown_table(header, rows, right=set())


def statements_table(runs: Sequence[DatabaseRun]) -> str:
    """Statements per request of every workload, anonymous and signed in, side by side."""
    rows: list[list[str]] = []
    for run in runs:
        counted = {workload for _viewer, workload in run.statements}
        workloads = [w.name for w in WORKLOADS if w.name in counted]
        for workload in workloads:
            counts = [run.statements.get((viewer, workload)) for viewer in VIEWERS]
            extra = run.extra_statements("admin", workload)
            rows.append(
                [
                    run.db,
                    workload,
                    *("–" if n is None else str(n) for n in counts),
                    "–" if extra is None else f"{extra:+d}",
                ]
            )
    header = ["db", "workload", *(f"SQL/req {viewer}" for viewer in VIEWERS), "difference"]
    return markdown_table(header, rows, right={2, 3, 4})


# -- the machine --------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_total() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _output(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10, cwd=ROOT)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (done.stdout or done.stderr).strip()


def machine(versions: Sequence[str], load_at_start: tuple[float, float, float]) -> list[str]:
    """Lines describing where the numbers were made."""
    nproc = _output(["nproc"]) or str(os.cpu_count())
    wrk = _output(["wrk", "--version"]).splitlines()
    load = os.getloadavg()
    return [
        f"CPU: {_cpu_model()}, `nproc` = {nproc}",
        f"Memory: {_memory_total()}",
        f"OS: {platform.platform()}",
        ", ".join([f"Python {platform.python_version()}", *versions])
        + f", SQLite {sqlite3.sqlite_version} (Python's sqlite3, used by aiosqlite)",
        f"Load generator: {wrk[0].split(' Copyright')[0] if wrk else 'wrk'}",
        "Load average (1, 5, 15 min) at the start: "
        + " ".join(f"{value:.2f}" for value in load_at_start)
        + "; at the end: "
        + " ".join(f"{value:.2f}" for value in load),
    ]


def progress(name: str) -> Log:
    """A progress log on stderr, each line stamped ``[name HH:MM:SS]``; results go to stdout."""

    def log(message: str) -> None:
        print(f"[{name} {datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)

    return log


def python() -> str:
    """This interpreter as the reader would type it (``.venv/bin/python`` from the repository)."""
    executable = Path(sys.executable)
    if executable.is_relative_to(ROOT):
        return str(executable.relative_to(ROOT))
    return "python"


def command_line(module: str, argv: Sequence[str] | None) -> str:
    """``python -m module`` with ``argv`` (default: this process's arguments), for the report."""
    return shlex.join([python(), "-m", module, *(sys.argv[1:] if argv is None else argv)])


def _revision() -> str:
    commit = _output(["git", "rev-parse", "--short", "HEAD"]) or "unknown"
    dirty = _output(["git", "status", "--porcelain", "--untracked-files=no"])
    return commit + (" with uncommitted changes" if dirty else "")


def write_results(
    runs: Sequence[DatabaseRun],
    settings: RunSettings,
    started: datetime,
    versions: Sequence[str],
    path: Path = RESULTS,
) -> str:
    """Write ``bench/RESULTS.md``; returns its text."""
    lines = [
        "# Benchmark results",
        "",
        f"Made by `{settings.command}` on {started.astimezone(UTC):%Y-%m-%d %H:%M} UTC "
        f"(commit {_revision()}): {settings.duration} s per measurement after a "
        f"{settings.warmup} s warm-up, {settings.connections} connections, "
        f"{settings.threads} wrk thread(s); viewers: {' and '.join(settings.viewers)} "
        "(rows `W1` anonymous, `W1 (admin)` signed in as an admin). "
        "`bench/README.md` explains the columns.",
        "",
        "## Machine",
        "",
        *(f"- {line}" for line in machine(versions, settings.load_at_start)),
        "",
        "## Throughput, latency, statements, memory",
        "",
        results_table(runs),
        "",
        "## Statements per request, anonymous and signed in",
        "",
        statements_table(runs),
        "",
        "## Targets of issue 4",
        "",
        targets_table(runs),
        "",
    ]
    peaks = [
        f"- {run.db}: our server {_mb(run.server_peak_kib)} MB, the floor "
        + (f"{_mb(run.floor_peak_kib)} MB" if settings.floor else "not run")
        for run in runs
    ]
    lines += ["Peak resident memory over the whole run (VmHWM):", "", *peaks, ""]
    text = "\n".join(lines)
    path.write_text(text, encoding="utf-8")
    return text
