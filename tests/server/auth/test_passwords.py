"""Passwords: the rules at their edges, Argon2id hashes, and hashing off the event loop."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time

import pytest

from server.auth.passwords import (
    InvalidPassword,
    Passwords,
    default_concurrency,
    hash_password,
    password_needs_rehash,
    password_problem,
    verify_password,
)
from tests.server.auth.conftest import cheap_hasher

SECRET = "correct horse battery staple"
TOO_SHORT = "must be 8 to 128 characters"


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        pytest.param("a" * 7, TOO_SHORT, id="7"),
        pytest.param("a" * 8, None, id="8"),
        pytest.param("a" * 128, None, id="128"),
        pytest.param("a" * 129, TOO_SHORT, id="129"),
        pytest.param("", "must not be blank", id="empty"),
        pytest.param(" " * 8, "must not be blank", id="spaces"),
        pytest.param("\t\n\u3000\u00a0 \r\x0b\x0c", "must not be blank", id="unicode-spaces"),
        pytest.param("  inner  ", None, id="kept-as-typed"),
        # Outside the BMP: one code point each, two UTF-16 units, four UTF-8 bytes.
        pytest.param("\U0001f600" * 7, TOO_SHORT, id="7-emoji"),
        pytest.param("\U0001f600" * 8, None, id="8-emoji"),
        pytest.param("\U0001f600" * 128, None, id="128-emoji"),
        pytest.param("\U0001f600" * 129, TOO_SHORT, id="129-emoji"),
        pytest.param("e\u0301" * 4, None, id="combining-marks-count"),
    ],
)
def test_password_rules_at_their_edges(password: str, problem: str | None) -> None:
    assert password_problem(password) == problem


async def test_hash_round_trip_with_argon2id() -> None:
    hashed = await hash_password(SECRET)

    assert hashed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert SECRET not in hashed
    assert await verify_password(SECRET, hashed) is True
    assert await verify_password(SECRET + " ", hashed) is False
    assert await verify_password(SECRET.upper(), hashed) is False
    assert password_needs_rehash(hashed) is False


async def test_every_hash_has_its_own_salt(cheap: Passwords) -> None:
    first, second = await asyncio.gather(cheap.hash(SECRET), cheap.hash(SECRET))
    assert first != second
    assert await cheap.verify(SECRET, first)
    assert await cheap.verify(SECRET, second)


async def test_a_given_salt_gives_the_same_hash(cheap: Passwords) -> None:
    salt = b"0123456789abcdef"
    hashed = await cheap.hash(SECRET, salt=salt)
    assert await cheap.hash(SECRET, salt=salt) == hashed
    assert cheap.hash_blocking(SECRET, salt=salt) == hashed


@pytest.mark.parametrize(
    "password",
    [
        pytest.param("\U0001f600" * 8, id="non-bmp"),
        pytest.param("pässwörd ünïcode", id="latin"),
        pytest.param("abc\ud800defgh", id="lone-surrogate"),
        pytest.param("nul\x00inside", id="nul"),
        pytest.param("x" * 128, id="longest"),
    ],
)
async def test_unusual_passwords_round_trip(cheap: Passwords, password: str) -> None:
    hashed = await cheap.hash(password)
    assert await cheap.verify(password, hashed)
    assert not await cheap.verify(password[:-1], hashed)


@pytest.mark.parametrize(
    "password", [pytest.param("short7!", id="short"), pytest.param(" " * 9, id="blank")]
)
async def test_hashing_refuses_a_password_that_breaks_the_rules(
    cheap: Passwords, password: str
) -> None:
    with pytest.raises(InvalidPassword) as excinfo:
        await cheap.hash(password)
    assert str(excinfo.value) == password_problem(password)
    with pytest.raises(InvalidPassword):
        cheap.hash_blocking(password)


async def test_no_hash_is_checked_against_a_dummy_and_never_matches(
    cheap: Passwords, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "No such user" costs one Argon2 verification, like a wrong password."""
    verified: list[bytes] = []
    real_verify = cheap._hasher.verify

    def spy(password: bytes, password_hash: bytes | str) -> bool:
        verified.append(password_hash if isinstance(password_hash, bytes) else b"")
        return real_verify(password, password_hash)

    monkeypatch.setattr(cheap._hasher, "verify", spy)

    assert await cheap.verify(SECRET, None) is False
    assert await cheap.verify("", None) is False
    assert len(verified) == 2
    assert verified[0] == verified[1]  # one dummy hash, made once
    assert verified[0].startswith(b"$argon2id$v=19$m=1024,t=1,p=1$")


async def test_unknown_and_wrong_passwords_take_about_as_long() -> None:
    """With real parameters: a missing hash is no faster than a wrong password."""
    hasher = Passwords(concurrency=1)
    try:
        stored = await hasher.hash(SECRET)
        await hasher.verify(SECRET, None)  # makes the dummy hash

        async def duration(password_hash: str | None) -> float:
            start = time.perf_counter()
            assert await hasher.verify("wrong password", password_hash) is False
            return time.perf_counter() - start

        wrong = min([await duration(stored) for _ in range(5)])
        missing = min([await duration(None) for _ in range(5)])
        assert 0.5 < missing / wrong < 2
    finally:
        hasher.close()


@pytest.mark.parametrize(
    "stored",
    [
        pytest.param("not a hash", id="garbage"),
        pytest.param("$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$bm90IGEgZGlnZXN0", id="damaged"),
        pytest.param("$2b$12$abcdefghijklmnopqrstuu5Yh4Y0F7Q1cK2rSx5w7Q5hN4QpS3a6y", id="bcrypt"),
    ],
)
async def test_a_stored_value_that_is_no_argon2_hash_never_matches(
    cheap: Passwords, caplog: pytest.LogCaptureFixture, stored: str
) -> None:
    with caplog.at_level(logging.WARNING, logger="server.auth.passwords"):
        assert await cheap.verify(SECRET, stored) is False
    assert cheap.needs_rehash(stored) is True
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert stored not in logged
    assert SECRET not in logged


async def test_other_parameters_need_a_rehash(cheap: Passwords) -> None:
    old = await cheap.hash(SECRET)
    assert cheap.needs_rehash(old) is False
    assert password_needs_rehash(old) is True  # the default hasher's parameters differ
    assert await verify_password(SECRET, old) is True  # and still verifies it


async def test_hashing_does_not_block_the_event_loop() -> None:
    """A ticker keeps ticking while four hashes with the real parameters run."""
    hasher = Passwords()
    try:
        start = time.perf_counter()
        hasher.hash_blocking(SECRET)
        one_hash = time.perf_counter() - start

        ticks: list[float] = []
        done = asyncio.Event()

        async def ticker() -> None:
            while not done.is_set():
                ticks.append(time.perf_counter())
                await asyncio.sleep(0.002)

        ticking = asyncio.create_task(ticker())
        await asyncio.sleep(0.01)
        started = time.perf_counter()
        hashes = await asyncio.gather(*(hasher.hash(SECRET) for _ in range(4)))
        elapsed = time.perf_counter() - started
        done.set()
        await ticking

        assert len(set(hashes)) == 4
        gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
        # Blocked, the loop would stall for a whole hash at least (four, in fact); a
        # loaded machine may delay a tick, never by a whole hash.
        assert max(gaps) < one_hash, (max(gaps), one_hash)
        assert sum(1 for tick in ticks if tick >= started) > elapsed / 0.02
    finally:
        hasher.close()


async def test_at_most_concurrency_hashes_run_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    hasher = Passwords(cheap_hasher(), concurrency=2)
    running = peak = 0
    lock = threading.Lock()
    real_hash_now = hasher._hash_now

    def counted(password: str, salt: bytes | None) -> str:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        try:
            time.sleep(0.02)
            return real_hash_now(password, salt)
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr(hasher, "_hash_now", counted)
    try:
        await asyncio.gather(*(hasher.hash(SECRET) for _ in range(8)))
    finally:
        hasher.close()
    assert peak == 2


async def test_hashes_run_in_the_pool_of_their_own(cheap: Passwords) -> None:
    names: list[str] = []
    real_hash_now = cheap._hash_now

    def recorded(password: str, salt: bytes | None) -> str:
        names.append(threading.current_thread().name)
        return real_hash_now(password, salt)

    cheap._hash_now = recorded  # type: ignore[method-assign]
    await cheap.hash(SECRET)
    assert names and names[0].startswith("password-hash")


@pytest.mark.parametrize(("cpus", "expected"), [(1, 1), (2, 1), (4, 3), (16, 15)])
def test_one_core_is_left_for_the_event_loop(
    monkeypatch: pytest.MonkeyPatch, cpus: int, expected: int
) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(cpus)), raising=False)
    assert default_concurrency() == expected
    assert Passwords().concurrency == expected
