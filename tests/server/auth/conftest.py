"""Fixtures of the account tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pwdlib.hashers.argon2 import Argon2Hasher

from server.auth.passwords import Passwords


def cheap_hasher() -> Argon2Hasher:
    """Argon2id with parameters far below the real ones, for tests that are not about cost."""
    return Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
def cheap() -> Iterator[Passwords]:
    """Argon2id with small parameters and a pool of its own, closed after the test."""
    hasher = Passwords(cheap_hasher())
    yield hasher
    hasher.close()
