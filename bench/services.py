"""Starting, watching and stopping the two HTTP services: our server and the floor.

Each runs under uvicorn with one worker, in a process group of its own, so a
Ctrl-C in the terminal reaches only the harness, whose ``finally`` stops them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

from bench.dataset import DATA, ROOT, Target, ftf_command

HOST = "127.0.0.1"
START_TIMEOUT = 90.0
STOP_TIMEOUT = 15.0
LOGS = DATA / "logs"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(slots=True)
class Service:
    """A running server: its process, its port and where its output goes."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    log_file: IO[bytes]

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def peak_rss_kib(self) -> int | None:
        """The process's peak resident memory so far (``VmHWM``), or None once it is gone."""
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        return None

    def cpu_seconds(self) -> float:
        """CPU time (user and system) of the live processes of its session: it, its workers."""
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[3]) == self.process.pid:  # state, ppid, pgrp, session, ...; utime, stime
                total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(
                f"{self.name} exited with code {self.process.returncode}; see {self.log_path}"
            )

    def wait_ready(self, path: str = "/health", timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.base_url, timeout=5.0) as client:
            while time.monotonic() < deadline:
                self.check_alive()
                try:
                    if client.get(path).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.2)
        raise RuntimeError(
            f"{self.name} did not answer {path} in {timeout:.0f} s; see {self.log_path}"
        )

    def stop(self) -> None:
        """SIGTERM (uvicorn shuts down gracefully), then SIGKILL to the group if it lingers."""
        try:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout=STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    os.killpg(self.process.pid, signal.SIGKILL)
                    self.process.wait(timeout=STOP_TIMEOUT)
        finally:
            self.log_file.close()


def _start(name: str, command: list[str], env: dict[str, str], port: int) -> Service:
    LOGS.mkdir(parents=True, exist_ok=True)
    log_path = LOGS / f"{name}.log"
    log_file = log_path.open("wb")
    try:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except BaseException:
        log_file.close()
        raise
    return Service(name, process, port, log_path, log_file)


def server_environment(target: Target) -> dict[str, str]:
    """Our server's settings for the run; the rest stay at their defaults."""
    return {
        "DATABASE_URL": target.server_url,
        "GRAPHQL_MAX_PAGE_SIZE": "10000",  # W6 asks for 10,000 nodes in one page
        "LOG_LEVEL": "warning",
    }


def start_server(
    target: Target,
    *,
    workers: int = 1,
    environment: dict[str, str] | None = None,
    name: str | None = None,
) -> Service:
    """``ftf serve`` (migrates, then uvicorn with ``workers`` workers) on a free port.

    ``environment`` replaces the benchmark's settings (``server_environment``);
    ``name`` names the service and its log file (default ``<kind>-server``).
    """
    port = free_port()
    settings = server_environment(target) if environment is None else environment
    env = {**os.environ, **settings}
    command = [
        *ftf_command(), "serve", "--host", HOST, "--port", str(port), "--workers", str(workers),
    ]  # fmt: skip
    return _start(name or f"{target.kind}-server", command, env, port)


def start_floor(target: Target) -> Service:
    """``uvicorn bench.floor:app`` with one worker, uvicorn set up as ``ftf serve`` sets it."""
    port = free_port()
    env = {**os.environ, "FLOOR_DATABASE": target.floor_url}
    command = [
        sys.executable, "-m", "uvicorn", "bench.floor:app",
        "--app-dir", str(ROOT), "--host", HOST, "--port", str(port), "--workers", "1",
        "--log-level", "warning", "--no-access-log", "--no-server-header",
    ]  # fmt: skip
    return _start(f"{target.kind}-floor", command, env, port)
