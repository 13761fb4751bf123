"""Login throttling: 10 failures for one email within 15 minutes, then wait (both databases)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from fast_query import create_engine, create_session_factory, transaction
from models import auth_login_failures
from server.auth.throttle import (
    FAILED_LOGIN_WINDOW,
    MAX_FAILED_LOGINS,
    clear_failed_logins,
    email_key,
    failed_logins,
    prune_failed_logins,
    record_failed_login,
    reserve_attempt,
    retry_after,
)
from tests.server.auth.support import NOW, auth_rows

EMAIL = "ada@example.com"
SECOND = timedelta(seconds=1)


async def fail(session: AsyncSession, times: int, email: str = EMAIL, every: int = 1) -> None:
    """``times`` failures, one every ``every`` seconds from ``NOW``."""
    for index in range(times):
        await record_failed_login(session, email, now=NOW + index * every * SECOND)


async def test_the_tenth_failure_within_the_window_closes_the_door(session: AsyncSession) -> None:
    await fail(session, MAX_FAILED_LOGINS - 1)
    later = NOW + 9 * SECOND
    assert await retry_after(session, EMAIL, now=later) is None
    assert await failed_logins(session, EMAIL, now=later) == 9

    await record_failed_login(session, EMAIL, now=later)

    assert await failed_logins(session, EMAIL, now=later) == 10
    # open again when the first failure leaves the window, 15 minutes after it
    assert await retry_after(session, EMAIL, now=later) == 900 - 9
    assert await retry_after(session, EMAIL, now=NOW + 899.5 * SECOND) == 1
    assert await retry_after(session, EMAIL, now=NOW + FAILED_LOGIN_WINDOW) is None
    assert await failed_logins(session, EMAIL, now=NOW + FAILED_LOGIN_WINDOW) == 9


async def test_the_window_slides(session: AsyncSession) -> None:
    """Failures a minute apart: after the tenth, each minute frees one slot."""
    await fail(session, 12, every=60)
    last = NOW + 11 * 60 * SECOND

    # the ten most recent (minutes 2..11) are all within the window at the last one
    assert await failed_logins(session, EMAIL, now=last) == 12
    assert await retry_after(session, EMAIL, now=last) == 2 * 60 + 900 - 11 * 60
    assert await retry_after(session, EMAIL, now=NOW + (2 * 60 + 900) * SECOND) is None


async def test_emails_are_counted_apart_but_case_and_spaces_do_not_matter(
    session: AsyncSession,
) -> None:
    await fail(session, 5, " Ada@Example.COM ")
    await fail(session, 5, "ada@example.com")
    await fail(session, 9, "bob@example.com")

    assert await retry_after(session, "ADA@example.com", now=NOW + 5 * SECOND) == 900 - 5
    assert await retry_after(session, "bob@example.com", now=NOW + 9 * SECOND) is None


async def test_a_successful_login_clears_the_failures(session: AsyncSession) -> None:
    await fail(session, MAX_FAILED_LOGINS)
    await fail(session, 3, "bob@example.com")

    await clear_failed_logins(session, EMAIL)

    assert await retry_after(session, EMAIL, now=NOW) is None
    assert await failed_logins(session, EMAIL, now=NOW) == 0
    assert await failed_logins(session, "bob@example.com", now=NOW + 2 * SECOND) == 3


async def test_failures_older_than_the_window_are_dropped_when_another_is_filed(
    session: AsyncSession,
) -> None:
    await fail(session, 5)
    await record_failed_login(session, EMAIL, now=NOW + FAILED_LOGIN_WINDOW + 10 * SECOND)

    stored = await session.scalar(select(func.count()).select_from(auth_login_failures))
    assert stored == 1


async def test_the_email_is_kept_only_as_its_hash(session: AsyncSession) -> None:
    typed = "my secret password typed in the wrong field"
    await record_failed_login(session, typed, now=NOW)

    rows = await auth_rows(session)
    assert [row["email_hash"] for row in rows] == [email_key(typed)]
    assert all("secret" not in str(value) for row in rows for value in row.values())


async def test_a_long_email_is_counted_too(session: AsyncSession) -> None:
    email = "a" * 10_000 + "@example.com"
    await fail(session, MAX_FAILED_LOGINS, email)

    assert await retry_after(session, email, now=NOW + 9 * SECOND) == 900 - 9


async def test_every_process_of_one_database_counts_the_same_failures(
    committed_engine: AsyncEngine, database_url: str
) -> None:
    """Two engines on one database, as two server processes would have."""
    other = create_engine(database_url)
    try:
        for index, engine in enumerate([committed_engine, other] * 5):
            async with engine.begin() as connection:
                await record_failed_login(connection, EMAIL, now=NOW + index * SECOND)
        for engine in (committed_engine, other):
            async with engine.connect() as connection:
                assert await retry_after(connection, EMAIL, now=NOW + 9 * SECOND) == 900 - 9
        async with other.begin() as connection:
            await clear_failed_logins(connection, EMAIL)
        async with committed_engine.connect() as connection:
            assert await retry_after(connection, EMAIL, now=NOW + 9 * SECOND) is None
    finally:
        await other.dispose()


async def test_concurrent_attempts_cannot_all_pass_the_check(
    committed_engine: AsyncEngine,
) -> None:
    """Each attempt is filed, with the check, under a lock on the email: a burst gets ten."""
    sessions = create_session_factory(committed_engine)

    async def attempt(number: int) -> int | None:
        async with sessions() as session, transaction(session):
            # The same email, as people type it.
            return await reserve_attempt(session, f" ADA@example.com{' ' * (number % 3)}")

    waits = await asyncio.gather(*(attempt(number) for number in range(3 * MAX_FAILED_LOGINS)))

    assert sum(wait is None for wait in waits) == MAX_FAILED_LOGINS
    assert {wait for wait in waits if wait is not None} <= set(range(1, 901))
    async with committed_engine.connect() as connection:
        assert await failed_logins(connection, EMAIL) == MAX_FAILED_LOGINS


async def test_pruning_drops_failures_older_than_the_window_for_every_email(
    session: AsyncSession,
) -> None:
    await fail(session, 3, "ada@example.com")
    await fail(session, 2, "bob@example.com", every=600)

    dropped = await prune_failed_logins(session, now=NOW + FAILED_LOGIN_WINDOW + 2 * SECOND)

    assert dropped == 4  # Ada's three, and Bob's first: his second is 10 minutes younger
    assert await failed_logins(session, "bob@example.com", now=NOW + 600 * SECOND) == 1
