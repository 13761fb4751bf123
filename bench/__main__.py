"""``python -m bench``: prepare the data, start both services, load them in turn, report.

Per database: the standard data set (seeded once), statement counts
in-process (anonymous and signed in as the seeded admin), then our server and
the floor (one uvicorn worker each), a byte-for-byte check that they answer
each viewer alike, and for each workload and viewer a warm-up and a measured
wrk run against ours, then against the floor, with the same ``Authorization``
header. W6 and W7 are also timed on our server alone with one connection.
Both services stop at the end, on an error and on Ctrl-C.
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
from bench.viewers import VIEWERS, AdminSession, Credentials, LoginFailed, Viewer, label
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
        "--viewer",
        choices=[*VIEWERS, "both"],
        default="both",
        help="anonymous (no Authorization header), signed in as the seeded admin, or both",
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
    args.viewers = VIEWERS if args.viewer == "both" else (args.viewer,)
    if not any(set(args.viewers) & set(workload.viewers) for workload in args.selected):
        names = ", ".join(workload.name for workload in args.selected)
        parser.error(f"{names}: nothing to measure as {args.viewer} (W4 needs a signed-in viewer)")
    return args


def measure(
    target: Target, workloads: list[Workload], args: argparse.Namespace
) -> report.DatabaseRun:
    params = dataset.prepare(target, log)
    log(f"{target.kind}: rows used: {dataset.describe(params)}")
    version = dataset.server_version(target)
    bodies = {workload.name: workload.body(params) for workload in workloads}
    viewers: tuple[Viewer, ...] = args.viewers
    by_viewer = {v: [w for w in workloads if v in w.viewers and v in viewers] for v in VIEWERS}
    environment = {**os.environ, **services.server_environment(target)}
    admin = Credentials(params.admin_id, params.admin_email, dataset.SEED_PASSWORD)
    log(f"{target.kind}: counting statements in-process, anonymous and as {admin.email}")
    # Both viewers are counted whatever --viewer says: the contract bounds their difference.
    counts = statements.count(
        environment,
        {v: {w.name: bodies[w.name] for w in workloads if v in w.viewers} for v in VIEWERS},
        admin,
    )
    run = report.DatabaseRun(target.kind, version, viewers, statements=counts)

    with ExitStack() as stack:
        server = services.start_server(target)
        stack.callback(server.stop)
        floor = None
        if not args.no_floor:
            floor = services.start_floor(target)
            stack.callback(floor.stop)
        server.wait_ready()
        session = AdminSession(server.base_url, admin)
        measured = args.warmup + args.duration

        def headers(viewer: Viewer) -> dict[str, str]:
            """The viewer's header, with a token that outlives the next measurement."""
            return {} if viewer == "anonymous" else session.headers(valid_for=measured)

        sizes: dict[tuple[Viewer, str], int] = {}
        if floor is not None:
            floor.wait_ready()
            for viewer in viewers:
                if not by_viewer[viewer]:
                    continue
                log(f"{target.kind}: checking that both answer the same bytes ({viewer})")
                checked = verify.check(
                    by_viewer[viewer],
                    params,
                    server.base_url,
                    floor.base_url,
                    viewer,
                    headers(viewer),
                )
                log(f"{target.kind}: identical ({viewer}); bytes per response: {checked}")
                sizes.update({(viewer, name): size for name, size in checked.items()})
        log(
            f"{target.kind}: our server on :{server.port}, floor on :{floor.port if floor else '–'}"
        )

        def drive(
            service: services.Service,
            url: str,
            body: bytes,
            name: str,
            connections: int,
            viewer: Viewer,
        ) -> load.LoadResult:
            settings = {"connections": connections, "threads": args.threads}
            sent = headers(viewer)
            if args.warmup:
                load.run(
                    url, body, seconds=args.warmup, label=f"{name}-warmup", headers=sent, **settings
                )
            result = load.run(
                url, body, seconds=args.duration, label=name, headers=sent, **settings
            )
            service.check_alive()
            return result

        for workload in workloads:
            body = bodies[workload.name]
            for viewer in viewers:
                if viewer not in workload.viewers:
                    continue
                name = f"{target.kind}-{workload.name}" + (
                    "" if viewer == "anonymous" else "-admin"
                )
                log(f"{target.kind}: {label(workload.name, viewer)} ({workload.summary})")
                url = f"{server.base_url}/graphql"
                ours = drive(server, url, body, name, args.connections, viewer)
                floor_result = None
                if floor is not None:
                    url = floor.base_url + workload.floor_path(params)
                    floor_result = drive(
                        floor, url, body, f"{name}-floor", args.connections, viewer
                    )
                run.measurements.append(
                    report.Measurement(
                        workload.name,
                        viewer,
                        ours,
                        floor_result,
                        counts.get((viewer, workload.name)),
                        server.peak_rss_kib(),
                        sizes.get((viewer, workload.name)),
                    )
                )
        for workload in workloads:
            for viewer in viewers:
                if workload.name in SOLO and viewer in workload.viewers:
                    log(f"{target.kind}: {label(workload.name, viewer)} alone, one connection")
                    url = f"{server.base_url}/graphql"
                    name = f"{target.kind}-{workload.name}-solo" + (
                        "" if viewer == "anonymous" else "-admin"
                    )
                    result = drive(server, url, bodies[workload.name], name, 1, viewer)
                    run.solo[workload.name, viewer] = result
        if session.logins:
            log(f"{target.kind}: signed in {session.logins} time(s) as {admin.email}")
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
    except LoginFailed as exc:
        log(f"could not sign in as the seeded admin: {exc}")
        return 1
    settings = report.RunSettings(
        command,
        args.duration,
        args.warmup,
        args.connections,
        args.threads,
        not args.no_floor,
        args.viewers,
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
