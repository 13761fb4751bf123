"""Real GraphQL clients from the npm registry against a real ``ftf serve``.

The pinned packages (``package.json``, ``package-lock.json``) are installed
with ``npm ci`` into ``tests/clients/node_modules`` (git-ignored) the first
time, and again only when the lock file changes. Each test module starts the
servers it needs once, as subprocesses on free ports of 127.0.0.1 over SQLite
files of their own. Without Node.js 20+ or npm the tests skip, unless
``FTF_REQUIRE_NODE=1``, which makes them fail instead.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, NoReturn

import httpx
import pytest

from server.settings import Settings
from tests.conftest import FTF
from tests.npm import npm_ci
from tests.pg_cluster import free_port

CLIENTS_DIR = Path(__file__).resolve().parent
REQUIRE_NODE = os.environ.get("FTF_REQUIRE_NODE", "") not in ("", "0", "false")
MIN_NODE = 20

COMMAND_TIMEOUT = 120  # an ftf command, a Node script
START_TIMEOUT = 60  # until /health answers
STOP_TIMEOUT = 15


def _unavailable(reason: str) -> NoReturn:
    message = f"client tests: {reason}"
    if REQUIRE_NODE:
        pytest.fail(f"{message} (FTF_REQUIRE_NODE=1: required)", pytrace=False)
    pytest.skip(message)


def _node_and_npm() -> tuple[str, str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        _unavailable(f"needs Node.js {MIN_NODE}+ and npm on PATH")
    try:
        version = subprocess.run(
            [node, "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        _unavailable(f"`node --version` failed: {exc}")
    found = re.fullmatch(r"v(\d+)\..*", version)
    if found is None or int(found.group(1)) < MIN_NODE:
        _unavailable(f"needs Node.js {MIN_NODE}+, found {version!r}")
    return node, npm


def _install(npm: str) -> None:
    npm_ci(CLIENTS_DIR, npm)


@pytest.fixture(scope="session")
def node() -> str:
    """The ``node`` executable, with the pinned packages installed."""
    node, npm = _node_and_npm()
    _install(npm)
    return node


def run_node(node: str, script: str, *args: str) -> Any:
    """Run ``tests/clients/<script>``; what it printed, as JSON."""
    try:
        done = subprocess.run(
            [node, script, *args],
            cwd=CLIENTS_DIR,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{script} took more than {COMMAND_TIMEOUT} s", pytrace=False)
    assert done.returncode == 0, f"{script} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    return json.loads(done.stdout)


def server_env(database_url: str, **settings: str) -> dict[str, str]:
    """This environment without any server setting (the defaults) but ``settings``."""
    names = {spec.name.upper() for spec in fields(Settings)}
    env = {key: value for key, value in os.environ.items() if key not in names}
    env.update(settings)
    env["DATABASE_URL"] = database_url
    return env


def ftf(directory: Path, env: dict[str, str], *args: str) -> str:
    """Run ``ftf`` in ``directory``; its standard output (it must succeed)."""
    done = subprocess.run(
        [str(FTF), *args],
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        cwd=directory,
        env=env,
    )
    assert done.returncode == 0, f"ftf {' '.join(args)} failed:\n{done.stderr[-4000:]}"
    return done.stdout


@dataclass(frozen=True)
class Served:
    """A running ``ftf serve``: its address and its SQLite file."""

    url: str
    database: Path


def serve(directory: Path, env: dict[str, str], database: Path) -> Iterator[Served]:
    """``ftf serve`` on a free port until the generator is closed (a fixture's body)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = directory / f"serve-{port}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(FTF), "serve", "--host", "127.0.0.1", "--port", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=directory,
            env=env,
        )

    def tail() -> str:
        return log.read_text(errors="replace")[-4000:]

    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"`ftf serve` exited with {process.returncode}:\n{tail()}")
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"`ftf serve` not up after {START_TIMEOUT} s:\n{tail()}")
            time.sleep(0.1)
        yield Served(url, database)
    finally:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)
