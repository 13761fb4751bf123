"""Fixtures of the account, token and session tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pwdlib.hashers.argon2 import Argon2Hasher

from server.auth.passwords import Passwords
from server.auth.sessions import Sessions
from server.auth.tokens import AccessTokens
from tests.server.auth.support import ISSUER, SECRET, Clock


def cheap_hasher() -> Argon2Hasher:
    """Argon2id with parameters far below the real ones, for tests that are not about cost."""
    return Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
def cheap() -> Iterator[Passwords]:
    """Argon2id with small parameters and a pool of its own, closed after the test."""
    hasher = Passwords(cheap_hasher())
    yield hasher
    hasher.close()


@pytest.fixture
def tokens() -> AccessTokens:
    """Access tokens signed with ``SECRET``: the default issuer, no audience, 900 s."""
    return AccessTokens(SECRET, issuer=ISSUER)


@pytest.fixture
def sessions(tokens: AccessTokens) -> Sessions:
    """Sessions whose refresh tokens live the default 30 days."""
    return Sessions(tokens)


@pytest.fixture
def clock() -> Clock:
    """A monotonic clock the test moves by hand."""
    return Clock()
