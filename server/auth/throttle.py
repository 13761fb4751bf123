"""Login throttling: after 10 failed logins for one email within 15 minutes, wait.

Failures are rows of ``auth_login_failures``, so every process counts the
same ones. The email is keyed as typed, trimmed and lower-cased (the form
users' emails are stored in), and kept only as its SHA-256: people type
passwords into the email field, and no such slip is kept in clear. The
window slides: a login is allowed again as soon as fewer than 10 of the
failures are younger than 15 minutes, and ``retry_after`` says when that is.

An attempt is filed as a failure before its password is checked
(``reserve_attempt``), with the check, under a lock on the email: logins
that run at the same moment cannot all pass the check before any of them
counts, so a burst gets no more than 10 guesses either. A login that
succeeds forgets the email's failures, its own filing with them; until it
does, it counts, so more than 10 logins for one email at the same moment
(a load test sharing an account) are refused too: the throttle fails closed.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from fast_query import dialect_name, utcnow
from models import auth_login_failures, normalize_email

MAX_FAILED_LOGINS = 10
FAILED_LOGIN_WINDOW = timedelta(minutes=15)

_failures = auth_login_failures


def email_key(email: str) -> str:
    """How failures of ``email`` are filed: the SHA-256 (hex) of it trimmed and lower-cased."""
    return hashlib.sha256(normalize_email(email).encode("utf-8", "surrogatepass")).hexdigest()


async def record_failed_login(
    db: AsyncConnection | AsyncSession, email: str, *, now: datetime | None = None
) -> None:
    """File a failed login for ``email`` (and forget its failures older than the window)."""
    now = now or utcnow()
    key = email_key(email)
    await db.execute(
        delete(_failures).where(
            _failures.c.email_hash == key, _failures.c.failed_at <= now - FAILED_LOGIN_WINDOW
        )
    )
    await db.execute(insert(_failures).values(email_hash=key, failed_at=now))


async def reserve_attempt(
    db: AsyncConnection | AsyncSession, email: str, *, now: datetime | None = None
) -> int | None:
    """File an attempt for ``email`` as a failure, unless it must wait: then the seconds
    to wait (``retry_after``), and nothing filed.

    Run it in a write transaction of its own: the check and the filing hold a
    lock on the email until it commits (PostgreSQL: an advisory lock on the
    email's hash; SQLite: the write lock ``BEGIN IMMEDIATE`` took).
    """
    key = email_key(email)
    if dialect_name(db) == "postgresql":
        await db.execute(select(func.pg_advisory_xact_lock(_lock_id(key))))
    wait = await retry_after(db, email, now=now)
    if wait is None:
        await record_failed_login(db, email, now=now)
    return wait


def _lock_id(key: str) -> int:
    """The advisory lock of an email: 64 bits of its hash, as PostgreSQL's signed bigint."""
    return int.from_bytes(bytes.fromhex(key[:16]), "big", signed=True)


async def failed_logins(
    db: AsyncConnection | AsyncSession, email: str, *, now: datetime | None = None
) -> int:
    """How many failed logins for ``email`` fall within the window before ``now``."""
    now = now or utcnow()
    result = await db.execute(
        select(func.count())
        .select_from(_failures)
        .where(
            _failures.c.email_hash == email_key(email),
            _failures.c.failed_at > now - FAILED_LOGIN_WINDOW,
        )
    )
    return int(result.scalar_one())


async def retry_after(
    db: AsyncConnection | AsyncSession, email: str, *, now: datetime | None = None
) -> int | None:
    """Seconds until a login for ``email`` is allowed again; ``None``: allowed now.

    One statement: the tenth most recent failure in the window, if there is
    one. Once it is older than the window, fewer than ten remain. Rounded up,
    so a client that waits that long is let in.
    """
    now = now or utcnow()
    result = await db.execute(
        select(_failures.c.failed_at)
        .where(
            _failures.c.email_hash == email_key(email),
            _failures.c.failed_at > now - FAILED_LOGIN_WINDOW,
        )
        .order_by(_failures.c.failed_at.desc())
        .limit(1)
        .offset(MAX_FAILED_LOGINS - 1)
    )
    oldest_counted: datetime | None = result.scalar_one_or_none()
    if oldest_counted is None:
        return None
    wait = (oldest_counted + FAILED_LOGIN_WINDOW - now).total_seconds()
    return max(1, math.ceil(wait))


async def clear_failed_logins(db: AsyncConnection | AsyncSession, email: str) -> None:
    """Forget the failed logins for ``email`` (after a successful one)."""
    await db.execute(delete(_failures).where(_failures.c.email_hash == email_key(email)))


async def prune_failed_logins(
    db: AsyncConnection | AsyncSession, *, now: datetime | None = None
) -> int:
    """Delete every failure older than the window, for every email; how many. For a periodic job."""
    now = now or utcnow()
    result = await db.execute(
        delete(_failures)
        .where(_failures.c.failed_at <= now - FAILED_LOGIN_WINDOW)
        .returning(_failures.c.id)
    )
    return len(result.all())
