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
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

from tests.conftest import FTF
from tests.npm import node_and_npm, npm_ci
from tests.server.processes import serving

CLIENTS_DIR = Path(__file__).resolve().parent
REQUIRE_NODE = os.environ.get("FTF_REQUIRE_NODE", "") not in ("", "0", "false")
MIN_NODE = 20

COMMAND_TIMEOUT = 120  # an ftf command, a Node script


def _unavailable(reason: str) -> NoReturn:
    message = f"client tests: {reason}"
    if REQUIRE_NODE:
        pytest.fail(f"{message} (FTF_REQUIRE_NODE=1: required)", pytrace=False)
    pytest.skip(message)


def _install(npm: str) -> None:
    npm_ci(CLIENTS_DIR, npm)


@pytest.fixture(scope="session")
def node() -> str:
    """The ``node`` executable, with the pinned packages installed."""
    node, npm = node_and_npm(MIN_NODE, _unavailable)
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
    with serving(directory, env) as url:
        yield Served(url, database)
