"""The ``Accept`` header, read once for the API's answer and for GraphiQL's page."""

from __future__ import annotations

from collections.abc import Iterator


def media_ranges(accept: str | None) -> Iterator[tuple[str, float]]:
    """Each media range of ``accept``, lower-cased, with its ``q`` (1 when left out, 0 if bad)."""
    for part in (accept or "").split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        yield media.lower(), q
