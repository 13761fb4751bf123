"""A private PostgreSQL cluster for tests that stop, freeze and start the database.

``PgCluster.create()`` runs ``initdb`` in a fresh temporary directory and
``start()`` serves it on a free port of 127.0.0.1 only (no Unix socket), with
trust authentication for the superuser ``postgres``. PostgreSQL refuses to run
as root, so under root the cluster belongs to an unprivileged user
(``FTF_TEST_PG_USER``, default ``nobody``). Nothing here touches the system
cluster. Every command has a timeout; ``destroy()`` stops the server and
removes the directory, and is safe to call twice.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

BINDIR_CANDIDATES = (
    os.environ.get("FTF_TEST_PG_BINDIR", ""),
    "/usr/lib/postgresql/17/bin",
    "/usr/lib/postgresql/16/bin",
    "/usr/lib/postgresql/15/bin",
    "/usr/lib/postgresql/14/bin",
)
COMMAND_TIMEOUT = 60.0


class ClusterUnavailable(RuntimeError):
    """No PostgreSQL binaries here, or the cluster could not be made."""


def find_bindir() -> Path | None:
    """The directory holding ``initdb``, ``pg_ctl`` and ``postgres``, if any."""
    for candidate in BINDIR_CANDIDATES:
        if candidate and (Path(candidate) / "initdb").is_file():
            return Path(candidate)
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PgCluster:
    """One initdb'd data directory served by ``pg_ctl`` on ``127.0.0.1:port``."""

    def __init__(self, bindir: Path, root: Path, port: int, user: str | None) -> None:
        self.bindir = bindir
        self.root = root
        self.data = root / "data"
        self.log = root / "postgres.log"
        self.port = port
        self.user = user  # run the binaries as this user (None: as ourselves)

    @classmethod
    def create(cls) -> PgCluster:
        bindir = find_bindir()
        if bindir is None:
            raise ClusterUnavailable("initdb not found (set FTF_TEST_PG_BINDIR)")
        user = os.environ.get("FTF_TEST_PG_USER", "nobody") if os.geteuid() == 0 else None
        root = Path(tempfile.mkdtemp(prefix="ftf-pg-"))
        cluster = cls(bindir, root, free_port(), user)
        try:
            if user is not None:
                shutil.chown(root, user)
            cluster._run(
                "initdb",
                ["-D", str(cluster.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
                ["--no-sync", "--locale=C"],
            )
            with (cluster.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
                conf.write(
                    f"\nlisten_addresses = '127.0.0.1'\nport = {cluster.port}\n"
                    "unix_socket_directories = ''\nfsync = off\nmax_connections = 50\n"
                )
        except BaseException as exc:
            cluster.destroy()
            if isinstance(exc, OSError | LookupError | subprocess.SubprocessError):
                raise ClusterUnavailable(f"cannot make a cluster as {user}: {exc!r}") from exc
            raise
        return cluster

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self._run("pg_ctl", ["start", "-w", "-t", "30", "-D", str(self.data), "-l", str(self.log)])

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: ``fast`` ends sessions cleanly, ``immediate`` kills them."""
        self._run("pg_ctl", ["stop", "-w", "-t", "30", "-m", mode, "-D", str(self.data)])

    @contextmanager
    def frozen(self) -> Iterator[None]:
        """Inside the block the server hangs (SIGSTOP): sockets stay open, nothing answers.

        That is a database host gone silent (a network cut, a frozen VM), not a
        stopped one: connections are neither refused nor closed.
        """
        pids = self._server_pids()
        try:
            for pid in pids:
                os.kill(pid, signal.SIGSTOP)
            yield
        finally:
            for pid in pids:
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGCONT)

    def sql(self, statement: str, database: str = "postgres") -> str:
        """Run one statement with ``psql`` as the superuser; its output."""
        arguments = ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1"]
        arguments += ["-p", str(self.port), "-U", "postgres", "-d", database, "-c", statement]
        result = self._command("psql", arguments)
        if result.returncode != 0:
            raise ClusterUnavailable(f"psql failed: {result.stderr}")
        return result.stdout.strip()

    def _server_pids(self) -> list[int]:
        """The postmaster and its children (backends, checkpointer, ...)."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue  # gone meanwhile
            if int(fields[1]) == postmaster:  # state, ppid, ...
                children.append(int(stat.parent.name))
        return [postmaster, *children]

    def is_running(self) -> bool:
        status = self._command("pg_ctl", ["status", "-D", str(self.data)])
        return status.returncode == 0

    def destroy(self) -> None:
        if self.data.exists() and self.is_running():
            self._command(
                "pg_ctl", ["stop", "-w", "-t", "30", "-m", "immediate", "-D", str(self.data)]
            )
        shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, program: str, arguments: Sequence[str], extra: Sequence[str] = ()) -> None:
        result = self._command(program, [*arguments, *extra])
        if result.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise ClusterUnavailable(
                f"{program} {' '.join(arguments)} failed ({result.returncode}):\n"
                f"{result.stdout}{result.stderr}{log}"
            )

    def _command(self, program: str, arguments: Sequence[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bindir / program), *arguments],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            cwd=self.root,
            user=self.user,
            env={**os.environ, "LC_ALL": "C"},
            check=False,
        )
