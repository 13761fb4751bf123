"""Node packages the tests run (real clients and tools from the npm registry), installed once."""

from __future__ import annotations

import fcntl
import hashlib
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import pytest

#: Seconds ``npm ci`` may take.
NPM_TIMEOUT = 300


def npm_ci(directory: Path, npm: str, timeout: float = NPM_TIMEOUT) -> None:
    """``npm ci`` the packages ``directory/package-lock.json`` pins, unless they are installed.

    A stamp in ``node_modules`` records the lock file it installed, so a
    changed lock installs again. One installer at a time (parallel test runs):
    an advisory lock on the lock file itself, which ``npm ci`` only reads.
    """
    lock_file = directory / "package-lock.json"
    stamp = directory / "node_modules" / ".ftf-lock-sha256"
    digest = hashlib.sha256(lock_file.read_bytes()).hexdigest()
    with lock_file.open("rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        if stamp.is_file() and stamp.read_text().strip() == digest:
            return
        command = [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"]
        try:
            done = subprocess.run(
                command, cwd=directory, capture_output=True, text=True, timeout=timeout
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"`npm ci` in {directory} took more than {timeout} s", pytrace=False)
        if done.returncode != 0:
            pytest.fail(
                f"`npm ci` in {directory} failed ({done.returncode}):\n"
                f"{done.stdout[-2000:]}\n{done.stderr[-4000:]}",
                pytrace=False,
            )
        stamp.write_text(digest + "\n")


def node_and_npm(minimum: int, unavailable: Callable[[str], NoReturn]) -> tuple[str, str]:
    """The ``node`` (major version ``minimum`` or later) and ``npm`` executables on PATH;
    ``unavailable(why)`` (a skip, or a failure where they are required) when there are none."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        unavailable(f"needs Node.js {minimum}+ and npm on PATH")
    try:
        version = subprocess.run(
            [node, "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        unavailable(f"`node --version` failed: {exc}")
    found = re.fullmatch(r"v(\d+)\..*", version)
    if found is None or int(found.group(1)) < minimum:
        unavailable(f"needs Node.js {minimum}+, found {version!r}")
    return node, npm
