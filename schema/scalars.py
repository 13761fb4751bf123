"""The ``DateTime`` scalar: ISO 8601 in UTC with microseconds; naive input is taken as UTC."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry
from strawberry.types.scalar import ScalarDefinition


def serialize_datetime(value: datetime) -> str:
    # Values read from the database are UTC already: skip the conversion (a large
    # share of a list's time when every row has a date).
    if value.tzinfo is not UTC:
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.isoformat(timespec="microseconds")


def parse_datetime(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError("DateTime must be an ISO 8601 string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


DateTime: ScalarDefinition = strawberry.scalar(
    name="DateTime",
    description="An ISO 8601 date-time with offset, in UTC "
    "(e.g. 2024-05-01T12:00:00.000000+00:00).",
    serialize=serialize_datetime,
    parse_value=parse_datetime,
)
