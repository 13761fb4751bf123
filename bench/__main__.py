"""``python -m bench``: prepare the data, start both services, load them in turn, report.

Per database: the standard data set (seeded once), statement counts
in-process, then our server and the floor (one uvicorn worker each), a
byte-for-byte check that they answer alike, and for each workload a warm-up
and a measured wrk run against ours, then against the floor. W6 and W7 are
also timed on our server alone with one connection. Both services stop at
the end, on an error and on Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from types import FrameType

from bench import dataset, load, report, services, statements, verify
from bench.dataset import Kind, Target
from bench.workloads import Workload, select

SOLO = ("W6", "W7-first", "W7")  # the latency targets: one request on its own


log = report.progress("bench")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Issue 4's benchmark: our GraphQL server against a hand-written floor.",
    )
    parser.add_argument("--db", choices=["postgresql", "sqlite", "both"], default="both")
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of load before each")
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (≤ connections)")
    parser.add_argument(
        "--workloads", help="comma-separated, e.g. W1,W3,W7 (W7 brings W7-first); default all"
    )
    parser.add_argument(
        "--no-floor", action="store_true", help="measure our server only (no ratio, no check)"
    )
    parser.add_argument(
        "--postgres",
        default="postgresql://postgres@127.0.0.1:5432",
        help="the PostgreSQL server (the database is always ftf_bench)",
    )
    args = parser.parse_args(argv)
    if args.duration < 1 or args.warmup < 0 or args.connections < 1 or args.threads < 1:
        parser.error("--duration, --connections and --threads must be ≥ 1, --warmup ≥ 0")
    try:
        args.selected = select(args.workloads.split(",") if args.workloads else None)
    except ValueError as exc:
        parser.error(str(exc))
    return args


def measure(
    target: Target, workloads: list[Workload], args: argparse.Namespace
) -> report.DatabaseRun:
    params = dataset.prepare(target, log)
    log(f"{target.kind}: rows used: {dataset.describe(params)}")
    version = dataset.server_version(target)
    bodies = {workload.name: workload.body(params) for workload in workloads}
    environment = {**os.environ, **services.server_environment(target)}
    log(f"{target.kind}: counting statements in-process")
    counts = statements.count(environment, bodies)
    run = report.DatabaseRun(target.kind, version)

    with ExitStack() as stack:
        server = services.start_server(target)
        stack.callback(server.stop)
        floor = None
        if not args.no_floor:
            floor = services.start_floor(target)
            stack.callback(floor.stop)
        server.wait_ready()
        if floor is not None:
            floor.wait_ready()
            log(f"{target.kind}: checking that both answer the same bytes")
            sizes = verify.check(workloads, params, server.base_url, floor.base_url)
            log(f"{target.kind}: identical; bytes per response: {sizes}")
        else:
            sizes = {}
        log(
            f"{target.kind}: our server on :{server.port}, floor on :{floor.port if floor else '–'}"
        )

        def drive(
            service: services.Service, url: str, body: bytes, label: str, connections: int
        ) -> load.LoadResult:
            settings = {"connections": connections, "threads": args.threads}
            if args.warmup:
                load.run(url, body, seconds=args.warmup, label=f"{label}-warmup", **settings)
            result = load.run(url, body, seconds=args.duration, label=label, **settings)
            service.check_alive()
            return result

        for workload in workloads:
            body = bodies[workload.name]
            label = f"{target.kind}-{workload.name}"
            log(f"{target.kind}: {workload.name} ({workload.summary})")
            ours = drive(server, f"{server.base_url}/graphql", body, label, args.connections)
            floor_result = None
            if floor is not None:
                url = floor.base_url + workload.floor_path(params)
                floor_result = drive(floor, url, body, f"{label}-floor", args.connections)
            run.measurements.append(
                report.Measurement(
                    workload.name,
                    ours,
                    floor_result,
                    counts.get(workload.name),
                    server.peak_rss_kib(),
                    sizes.get(workload.name),
                )
            )
        for workload in workloads:
            if workload.name in SOLO:
                log(f"{target.kind}: {workload.name} alone, one connection")
                url = f"{server.base_url}/graphql"
                label = f"{target.kind}-{workload.name}-solo"
                run.solo[workload.name] = drive(server, url, bodies[workload.name], label, 1)
        run.server_peak_kib = server.peak_rss_kib()
        run.floor_peak_kib = floor.peak_rss_kib() if floor is not None else None
    return run


def _terminate(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    load.wrk_path()  # fail now rather than after seeding
    kinds: list[Kind] = ["postgresql", "sqlite"] if args.db == "both" else [args.db]
    started = datetime.now(UTC)
    load_at_start = os.getloadavg()
    clock = time.monotonic()
    command = report.command_line("bench", argv)
    runs: list[report.DatabaseRun] = []
    try:
        for target in dataset.targets(kinds, args.postgres):
            runs.append(measure(target, args.selected, args))
    except KeyboardInterrupt:
        log("interrupted; both services are stopped")
        return 130
    except SystemExit:
        log("terminated; both services are stopped")
        raise
    except verify.Mismatch as exc:
        log(f"the floor and our server disagree, so nothing was measured: {exc}")
        return 1
    settings = report.RunSettings(
        command,
        args.duration,
        args.warmup,
        args.connections,
        args.threads,
        not args.no_floor,
        load_at_start,
    )
    versions = [f"PostgreSQL {run.version}" for run in runs if run.db == "postgresql"]
    text = report.write_results(runs, settings, started, versions)
    print(text)
    written = report.RESULTS.relative_to(dataset.ROOT)
    log(f"done in {time.monotonic() - clock:.0f} s; wrote {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
