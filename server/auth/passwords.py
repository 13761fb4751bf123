"""Passwords: the contract's rules, and Argon2id hashes made and checked off the event loop.

Argon2id (pwdlib over argon2-cffi, with OWASP's parameters: 19 MiB, 2
passes, 1 lane) is slow on purpose, some 30 ms of CPU per hash, so it never
runs on the event loop: ``hash_password`` and ``verify_password`` hand it to
a small thread pool of this module's own, and argon2-cffi releases the GIL
while it works. See ``default_concurrency`` for the size of that pool.

No password and no hash ever goes into a log line or an exception message:
the errors raised here carry fixed texts, and a stored hash that cannot be
read is reported without its value.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import TypeVar

from pwdlib import PasswordHash
from pwdlib.exceptions import PwdlibError
from pwdlib.hashers.argon2 import Argon2Hasher

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128

# OWASP's Password Storage Cheat Sheet (Argon2id: m=19 MiB, t=2, p=1). One lane
# means one thread per hash, so ``default_concurrency`` bounds cores, not guesses:
# with argon2-cffi's default 4 lanes a single hash already takes every core of a
# small machine. A hash made with other parameters still verifies (``needs_rehash``).
MEMORY_COST_KIB = 19456
TIME_COST = 2
PARALLELISM = 1

logger = logging.getLogger(__name__)
T = TypeVar("T")


class InvalidPassword(ValueError):
    """A password breaks the rules; the message says which rule, never the password."""


def password_problem(password: str) -> str | None:
    """What is wrong with ``password`` under the contract's rules, or ``None``.

    A password is 8 to 128 code points (a character outside the BMP, an
    emoji say, counts as one) and not blank. It is kept as typed: unlike a
    name it is not trimmed.
    """
    if not password.strip():
        return "must not be blank"
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        return f"must be {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters"
    return None


def _check(password: str) -> None:
    problem = password_problem(password)
    if problem is not None:
        raise InvalidPassword(problem)


def default_concurrency() -> int:
    """How many hashes run at once: one fewer than the CPUs this process may use, at least one.

    Every hash is one thread of pure CPU work that does not hold the GIL,
    so a burst of logins could otherwise take every core and leave the
    event loop, which serves all the other requests, waiting for one. One
    core stays free for it; more hashes than cores would only make each one
    slower and take 19 MiB more memory each. The pool is this module's own
    rather than the loop's default executor, which asyncpg needs for DNS
    look-ups when it opens a connection.
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, cpus - 1)


def argon2id() -> Argon2Hasher:
    """The hasher of new passwords: Argon2id with this module's parameters."""
    return Argon2Hasher(time_cost=TIME_COST, memory_cost=MEMORY_COST_KIB, parallelism=PARALLELISM)


def _secret(password: str) -> bytes:
    # "surrogatepass": a lone surrogate (valid JSON, not valid UTF-8) is hashed
    # like any other character instead of raising an error that quotes it.
    return password.encode("utf-8", "surrogatepass")


class Passwords:
    """Argon2id hashing in worker threads, at most ``concurrency`` hashes at a time.

    Hashes wait their turn in the pool's queue; one whose caller was
    cancelled (a client that went away) is dropped before it starts.

    Args:
        hasher: pwdlib's Argon2 hasher (``argon2id()`` by default); tests
            may pass a cheaper one.
        concurrency: hashes running at once (``default_concurrency()``).
    """

    def __init__(self, hasher: Argon2Hasher | None = None, *, concurrency: int = 0) -> None:
        self._hasher = PasswordHash((hasher or argon2id(),))
        self.concurrency = concurrency or default_concurrency()
        self._executor: ThreadPoolExecutor | None = None
        self._executor_lock = threading.Lock()
        self._dummy: bytes | None = None
        self._dummy_lock = threading.Lock()

    async def hash(self, password: str, *, salt: bytes | None = None) -> str:
        """The Argon2id hash of ``password`` (``$argon2id$v=19$m=...``).

        Raises:
            InvalidPassword: the password breaks the rules (``password_problem``).

        ``salt`` (at least 8 bytes) is for reproducible demo data only
        (``ftf seed``); every real password gets a fresh random salt.
        """
        _check(password)
        return await self._run(self._hash_now, password, salt)

    def hash_blocking(self, password: str, *, salt: bytes | None = None) -> str:
        """``hash`` in the calling thread, for code with no event loop; never call it on one."""
        _check(password)
        return self._hash_now(password, salt)

    async def verify(self, password: str, password_hash: str | None) -> bool:
        """Whether ``password`` matches ``password_hash``.

        ``None`` (no such user, or a user without a password) is checked
        against a dummy hash and is never a match, so it takes as long as a
        wrong password: a login cannot tell the cases apart by its timing.
        A stored value that is not an Argon2 hash never matches either.
        """
        return await self._run(self._verify_now, password, password_hash)

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether a hash that matched was made with other parameters than today's."""
        try:
            return bool(self._hasher.current_hasher.check_needs_rehash(password_hash))
        except (PwdlibError, ValueError):  # not an Argon2 hash at all
            return True

    def close(self) -> None:
        """Stop the worker threads (they also stop by themselves when the process exits)."""
        with self._executor_lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    async def _run(self, function: Callable[..., T], *args: object) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool(), function, *args)

    def _pool(self) -> ThreadPoolExecutor:
        with self._executor_lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    self.concurrency, thread_name_prefix="password-hash"
                )
            return self._executor

    # -- in a worker thread -------------------------------------------------------

    def _hash_now(self, password: str, salt: bytes | None) -> str:
        return self._hasher.hash(_secret(password), salt=salt)

    def _verify_now(self, password: str, password_hash: str | None) -> bool:
        secret = _secret(password)
        if password_hash is not None:
            try:
                return self._hasher.verify(secret, password_hash)
            except PwdlibError:
                logger.warning("a stored password hash is not a valid Argon2 hash")
        self._hasher.verify(secret, self._dummy_hash())
        return False

    def _dummy_hash(self) -> bytes:
        """A hash of a random secret with today's parameters, made once (on first need)."""
        with self._dummy_lock:
            if self._dummy is None:
                self._dummy = self._hasher.hash(secrets.token_bytes(32)).encode("ascii")
            return self._dummy


@cache
def default_passwords() -> Passwords:
    """The process's ``Passwords`` (made on first use, so importing this module does no work)."""
    return Passwords()


async def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """``Passwords.hash`` on the process's pool."""
    return await default_passwords().hash(password, salt=salt)


async def verify_password(password: str, password_hash: str | None) -> bool:
    """``Passwords.verify`` on the process's pool; ``None`` for "no such user"."""
    return await default_passwords().verify(password, password_hash)


def password_needs_rehash(password_hash: str) -> bool:
    return default_passwords().needs_rehash(password_hash)
