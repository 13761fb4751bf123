"""``python -m bench.soak``: issue 5's load script, a soak test of the running server.

It prepares the benchmark's standard data set (``bench.dataset``), copies it
to a database of its own (so the benchmark's rows stay as they were), starts
our server under uvicorn (``ftf serve``, one worker unless ``--workers``),
and drives it from this process with ``--clients`` concurrent clients
(asyncio and httpx) for ``--duration`` seconds on a weighted mix of the
contract's queries and mutations. It prints, overall and per operation, the
requests, throughput, latency percentiles and the errors by kind, telling
the expected ones (a client looks up a row another client deleted) from the
unexpected ones. After the run it stops the server and reads the database
directly to check that every mutation the server confirmed is there, and
that nothing it refused or never confirmed is. It exits 1 when anything
unexpected happened, 2 when it could not run, 130 on Ctrl-C, 143 on SIGTERM.

Only 127.0.0.1 is contacted. Every request has a client-side timeout, every
loop a deadline, and the server is stopped at the end, on an error and on
Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from types import FrameType
from typing import Any, TypeVar

import asyncpg

from bench import dataset, report, services
from bench.dataset import DATA, Kind
from bench.soak.client import drive
from bench.soak.integrity import check_integrity
from bench.soak.serverlog import prune_logs, read_server_log
from bench.soak.summary import print_report
from bench.soak.world import World, read_reference

_T = TypeVar("_T")

SOAK_PG_DATABASE = "ftf_bench_soak"
SOAK_SQLITE_FILE = DATA / "soak.sqlite3"
MAX_DURATION = 3600
MAX_CLIENTS = 500
MAX_WORKERS = 16


log = report.progress("soak")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak",
        description="Issue 5's load script: concurrent clients on a mix of queries and mutations.",
    )
    parser.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    parser.add_argument("--seed", type=int, default=1, help="the clients' random seed")
    parser.add_argument(
        "--postgres",
        default="postgresql://postgres@127.0.0.1:5432",
        help="the PostgreSQL server (ftf_bench is prepared, and copied to ftf_bench_soak)",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.duration <= MAX_DURATION:
        parser.error(f"--duration must be between 1 and {MAX_DURATION}")
    if not 1 <= args.clients <= MAX_CLIENTS:
        parser.error(f"--clients must be between 1 and {MAX_CLIENTS}")
    if not 1 <= args.workers <= MAX_WORKERS:
        parser.error(f"--workers must be between 1 and {MAX_WORKERS}")
    if not 0.1 <= args.timeout <= 120:
        parser.error("--timeout must be between 0.1 and 120")
    return args


@dataclass(slots=True)
class _Stop:
    """What SIGTERM stops: the load while it runs, else the main thread."""

    task: asyncio.Task[Any] | None = None
    signum: int | None = None


_STOP = _Stop()


def _terminate(signum: int, _frame: FrameType | None) -> None:
    """SIGTERM: cancel the load, as Ctrl-C does (the clients stop, then the server); else raise."""
    _STOP.signum = signum
    task = _STOP.task
    if task is None or task.done():
        raise KeyboardInterrupt
    task.cancel()
    task.get_loop().call_soon_threadsafe(lambda: None)  # wake the loop up from select()


async def _stoppable(load: Coroutine[Any, Any, _T]) -> _T:
    _STOP.task = asyncio.current_task()
    try:
        return await load
    finally:
        _STOP.task = None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    kind: Kind = args.db
    command = report.command_line("bench.soak", argv)
    try:
        bench_target = dataset.target(kind, args.postgres)
        dataset.prepare(bench_target, log)
        log(f"{kind}: copying the standard data set for the run")
        target = dataset.target(
            kind, args.postgres, database=SOAK_PG_DATABASE, sqlite_file=SOAK_SQLITE_FILE
        )
        dataset.clone(bench_target, target)
        ref = read_reference(target)
        tag = os.urandom(3).hex()
        prune_logs(kind)
        world = World(ref, tag, time.monotonic())
        environment = {"DATABASE_URL": target.server_url, "LOG_LEVEL": "info"}
        server = services.start_server(
            target, workers=args.workers, environment=environment, name=f"{kind}-soak-{tag}-server"
        )
        try:
            server.wait_ready()
            log(
                f"{kind}: server on :{server.port} ({args.workers} worker(s)); "
                f"{args.clients} clients for {args.duration:g} s"
            )
            server_cpu = server.cpu_seconds()
            client_cpu = time.process_time()
            recorder, elapsed = asyncio.run(
                _stoppable(
                    drive(
                        server.base_url, world, args.clients, args.duration, args.timeout, args.seed
                    )
                )
            )
            client_cpu = time.process_time() - client_cpu
            server_cpu = server.cpu_seconds() - server_cpu
            server.check_alive()
        finally:
            server.stop()
        log(f"{kind}: server stopped; checking the database")
        checks = check_integrity(target, world)
        server_log = read_server_log(server.log_path, tag)
    except (KeyboardInterrupt, asyncio.CancelledError):
        log(f"{'terminated' if _STOP.signum else 'interrupted'}; the server is stopped")
        return 128 + (_STOP.signum or signal.SIGINT)
    except (RuntimeError, OSError, subprocess.SubprocessError, asyncpg.PostgresError) as exc:
        log(f"stopped: {type(exc).__name__}: {exc}")
        return 2

    load = os.getloadavg()
    header = (
        f"{command}\n{kind} ({dataset.server_version(target)}), {args.workers} worker(s), "
        f"{args.clients} clients, {elapsed:.1f} s, request timeout {args.timeout:g} s, "
        f"load average {load[0]:.2f} at the end\n"
        f"CPU used during the load: server {server_cpu:.1f} s "
        f"({100 * server_cpu / elapsed:.0f}% of one core), this load generator "
        f"{client_cpu:.1f} s ({100 * client_cpu / elapsed:.0f}%), on {os.cpu_count()} cores"
    )
    log_path = server.log_path.relative_to(dataset.ROOT)
    return print_report(
        header, recorder, elapsed, checks, world.ledger.unknown, log_path, server_log
    )


if __name__ == "__main__":
    sys.exit(main())
