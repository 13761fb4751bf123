"""Load from outside the process: wrk POSTs one body over N connections and reports latencies.

A generated Lua script sets the request, counts responses whose body holds
GraphQL ``"errors"``, and prints wrk's summary as one JSON line, so nothing
is scraped from wrk's human-readable output (kept in the log all the same).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bench.dataset import DATA

RESULT_MARK = "BENCH_RESULT "
WRK_LOGS = DATA / "wrk"
REQUEST_TIMEOUT_S = 30  # wrk's default of 2 s would cut W6 under load short

LUA = r"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
%(headers)swrk.body = %(body)s

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

error_bodies = 0
function response(status, headers, body)
  if string.find(body, '"errors"', 1, true) then
    error_bodies = error_bodies + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("error_bodies") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    '%(mark)s{"requests":%%d,"duration_us":%%d,"bytes":%%d,"p50_us":%%d,"p99_us":%%d,' ..
    '"mean_us":%%f,"max_us":%%d,"connect":%%d,"read":%%d,"write":%%d,"status":%%d,' ..
    '"timeout":%%d,"error_bodies":%%d}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(99), latency.mean, latency.max,
    e.connect, e.read, e.write, e.status, e.timeout, bad))
end
"""


@dataclass(frozen=True, slots=True)
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    socket_errors: int
    non_2xx: int
    timeouts: int
    error_bodies: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    @property
    def failures(self) -> int:
        """Requests that did not get a clean answer: socket errors, non-2xx, GraphQL errors."""
        return self.socket_errors + self.non_2xx + self.timeouts + self.error_bodies


def wrk_path() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise RuntimeError("wrk is not installed (Debian: apt-get install wrk)")
    return found


def _lua_string(text: str) -> str:
    """``text`` as a Lua long bracket string whose level no ``]=*]`` inside can close."""
    level = 0
    while f"]{'=' * level}]" in text:
        level += 1
    return f"[{'=' * level}[{text}]{'=' * level}]"


def run(
    url: str,
    body: bytes,
    *,
    seconds: int,
    connections: int,
    threads: int,
    label: str,
    headers: Mapping[str, str] | None = None,
) -> LoadResult:
    """Drive ``url`` with POSTs of ``body`` (and ``headers``) for ``seconds``.

    wrk's output goes to a log file; the script (which may hold a token) is
    deleted once wrk is done.
    """
    threads = max(1, min(threads, connections))
    # Spaces inside the brackets: ``[[[`` would open a long string in Lua.
    extra = "".join(
        f"wrk.headers[ {_lua_string(name)} ] = {_lua_string(value)}\n"
        for name, value in (headers or {}).items()
    )
    script = LUA % {"body": _lua_string(body.decode()), "mark": RESULT_MARK, "headers": extra}
    WRK_LOGS.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", dir=WRK_LOGS, delete=False) as lua:
        lua.write(script)
    try:
        completed = subprocess.run(
            [
                wrk_path(),
                "--latency",
                "--timeout",
                f"{REQUEST_TIMEOUT_S}s",
                "-t",
                str(threads),
                "-c",
                str(connections),
                "-d",
                f"{seconds}s",
                "-s",
                lua.name,
                url,
            ],  # fmt: skip
            capture_output=True,
            text=True,
            timeout=seconds + REQUEST_TIMEOUT_S + 30,
            stdin=subprocess.DEVNULL,
        )
    finally:
        Path(lua.name).unlink(missing_ok=True)
    (WRK_LOGS / f"{label}.txt").write_text(completed.stdout + completed.stderr)
    if completed.returncode != 0:
        raise RuntimeError(f"wrk failed ({completed.returncode}): {completed.stderr.strip()}")
    for line in completed.stdout.splitlines():
        if line.startswith(RESULT_MARK):
            data = json.loads(line.removeprefix(RESULT_MARK))
            break
    else:
        raise RuntimeError(f"wrk printed no result line; see {WRK_LOGS / f'{label}.txt'}")
    return LoadResult(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        mean_ms=data["mean_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        socket_errors=data["connect"] + data["read"] + data["write"],
        non_2xx=data["status"],
        timeouts=data["timeout"],
        error_bodies=data["error_bodies"],
    )
