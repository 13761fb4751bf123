"""UTCDateTime: aware UTC in, aware UTC out, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.dialects import registry
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncSession

from fast_query import QueryBuilder, UTCDateTime, utcnow
from models import Role, User

INSTANT = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
KOLKATA = timezone(timedelta(hours=5, minutes=30))
HONOLULU = timezone(timedelta(hours=-10))


async def store_and_read(session: AsyncSession, value: datetime) -> tuple[Role, datetime]:
    """Write ``value`` as a role's created_at; read it back through a fresh object."""
    role = Role(name=f"r{value.isoformat()}", created_at=value, updated_at=value)
    session.add(role)
    await session.flush()
    session.expunge(role)
    read = await session.scalar(select(Role).where(Role.id == role.id))
    assert read is not None
    return read, read.created_at


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(INSTANT, INSTANT, id="aware-utc"),
        pytest.param(INSTANT.replace(tzinfo=None), INSTANT, id="naive-is-utc"),
        pytest.param(INSTANT.astimezone(KOLKATA), INSTANT, id="plus-0530"),
        pytest.param(INSTANT.astimezone(HONOLULU), INSTANT, id="minus-10"),
        pytest.param(
            datetime(2024, 1, 1, 0, 30, tzinfo=KOLKATA),
            datetime(2023, 12, 31, 19, 0, tzinfo=UTC),
            id="crosses-a-year",
        ),
        pytest.param(
            datetime(2024, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
            datetime(2024, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
            id="one-microsecond",
        ),
    ],
)
async def test_round_trip(session: AsyncSession, value: datetime, expected: datetime) -> None:
    _, read = await store_and_read(session, value)
    assert read == expected
    assert read.tzinfo is UTC
    # Same fields, not merely the same instant.
    assert (read.year, read.hour, read.minute, read.microsecond) == (
        expected.year,
        expected.hour,
        expected.minute,
        expected.microsecond,
    )


async def test_storage_is_utc(session: AsyncSession, dialect: str) -> None:
    role = Role(name="r", created_at=INSTANT.astimezone(KOLKATA), updated_at=INSTANT)
    session.add(role)
    await session.flush()
    raw = await session.scalar(text("SELECT created_at FROM roles"))
    # SQLite keeps naive UTC text (which sorts by time); PostgreSQL a timestamptz.
    expected: dict[str, Any] = {"sqlite": "2024-05-06 07:08:09.123456", "postgresql": INSTANT}
    assert raw == expected[dialect]


async def test_comparisons_convert_the_bound_value(session: AsyncSession) -> None:
    session.add(Role(name="r", created_at=INSTANT, updated_at=INSTANT))
    await session.flush()
    roles = QueryBuilder(Role, session)
    assert await roles.where(created_at=INSTANT.astimezone(HONOLULU)).count() == 1
    assert await roles.where(created_at=INSTANT.replace(tzinfo=None)).count() == 1
    later = (INSTANT + timedelta(microseconds=1)).astimezone(KOLKATA)
    assert await roles.where(Role.created_at < later).count() == 1
    assert await roles.where(Role.created_at >= later).count() == 0


async def test_order_is_by_instant_not_by_local_time(session: AsyncSession) -> None:
    # Local clock times sort the other way round from the instants.
    stamps = {
        "first": datetime(2024, 1, 1, 20, 0, tzinfo=HONOLULU),  # 2024-01-02 06:00 UTC
        "second": datetime(2024, 1, 2, 12, 0, tzinfo=KOLKATA),  # 2024-01-02 06:30 UTC
        "third": datetime(2024, 1, 2, 7, 0, tzinfo=UTC),
    }
    session.add_all(Role(name=n, created_at=at, updated_at=at) for n, at in stamps.items())
    await session.flush()
    assert await QueryBuilder(Role, session).oldest().pluck("name") == ["first", "second", "third"]
    assert await QueryBuilder(Role, session).latest().pluck("name") == ["third", "second", "first"]


async def test_none_stays_none(session: AsyncSession) -> None:
    user = User(name="Ada", email="ada@example.com", deleted_at=None)
    session.add(user)
    await session.flush()
    assert await session.scalar(select(User.deleted_at)) is None


async def test_non_datetimes_are_refused(session: AsyncSession) -> None:
    with pytest.raises(StatementError, match="UTCDateTime needs a datetime, got str"):
        await session.execute(select(Role).where(Role.created_at == "2024-01-01"))


@pytest.mark.parametrize(
    ("dialect", "value", "expected"),
    [
        pytest.param(
            "sqlite", INSTANT.astimezone(KOLKATA), INSTANT.replace(tzinfo=None), id="sqlite-naive"
        ),
        pytest.param("postgresql", INSTANT.astimezone(KOLKATA), INSTANT, id="postgresql-aware"),
        pytest.param("postgresql", INSTANT.replace(tzinfo=None), INSTANT, id="postgresql-naive-in"),
        pytest.param("sqlite", None, None, id="none"),
    ],
)
def test_bind_processing(dialect: str, value: datetime | None, expected: datetime | None) -> None:
    processed = UTCDateTime().process_bind_param(value, registry.load(dialect)())
    assert processed == expected
    assert (processed.tzinfo if processed else None) == (expected.tzinfo if expected else None)


def test_utcnow_is_aware_utc() -> None:
    before = datetime.now(UTC)
    now = utcnow()
    assert now.tzinfo is UTC
    assert before <= now <= datetime.now(UTC)
