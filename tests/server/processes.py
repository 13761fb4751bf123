"""Real ``ftf serve`` processes for tests: what several processes of one database share."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path

import httpx
import pytest

from server.settings import Settings
from tests.conftest import FTF
from tests.pg_cluster import free_port

START_TIMEOUT = 60  # until /health answers
STOP_TIMEOUT = 15


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 10.0) -> int:
    """Poll ``check`` every 0.05 s until it holds; how many polls it took. Fails at the deadline."""
    deadline = time.monotonic() + seconds
    polls = 1
    while not await check():
        assert time.monotonic() < deadline, f"still not true after {seconds} s"
        await asyncio.sleep(0.05)
        polls += 1
    return polls


class Server:
    """``ftf serve`` in a subprocess (a process group of its own), logging to a file."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.process = process
        self.port = port
        self.log = log
        self.base_url = f"http://127.0.0.1:{port}"

    def refuses_connections(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return False
        except ConnectionRefusedError:
            return True

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-5000:]

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


StartServer = Callable[..., Awaitable[Server]]


@pytest.fixture
def ftf_serve(tmp_path: Path) -> Iterator[StartServer]:
    """``await ftf_serve(database_url, *options)``: a running ``ftf serve``, killed at the end.

    ``env={...}`` adds variables to the server's environment.
    """
    started: list[Server] = []

    async def start(database_url: str, *options: str, env: dict[str, str] | None = None) -> Server:
        port = free_port()
        log = tmp_path / f"serve-{port}.log"
        env = {**os.environ, **(env or {}), "DATABASE_URL": database_url}
        with log.open("wb") as output:
            process = subprocess.Popen(
                [str(FTF), "serve", "--port", str(port), *options],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                cwd=tmp_path,
                env=env,
                start_new_session=True,
            )
        server = Server(process, port, log)
        started.append(server)

        async def up() -> bool:
            assert process.poll() is None, f"ftf serve exited:\n{server.output()}"
            try:
                async with httpx.AsyncClient(base_url=server.base_url, timeout=2) as http:
                    return (await http.get("/health")).status_code == 200
            except httpx.TransportError:
                return False

        await eventually(up, 30)
        return server

    yield start
    for server in started:
        server.kill()


def server_env(database_url: str, **settings: str) -> dict[str, str]:
    """This environment without any server setting (the defaults) but ``settings``."""
    names = {spec.name.upper() for spec in fields(Settings)}
    env = {key: value for key, value in os.environ.items() if key not in names}
    env.update(settings)
    env["DATABASE_URL"] = database_url
    return env


@contextmanager
def serving(directory: Path, env: dict[str, str]) -> Iterator[str]:
    """``ftf serve`` on a free port of 127.0.0.1 for the ``with`` block (module-scoped,
    synchronous fixtures); its base URL."""
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
                pytest.fail(
                    f"`ftf serve` exited with {process.returncode}:\n{tail()}", pytrace=False
                )
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"`ftf serve` not up after {START_TIMEOUT} s:\n{tail()}", pytrace=False)
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)
