"""Errors the schema raises for bad input; ``server/errors.py`` gives them their codes."""

from __future__ import annotations

from collections.abc import Mapping


class UserInputError(Exception):
    """Invalid argument values, keyed by argument path (``{"input.email": "already taken"}``)."""

    def __init__(self, fields: Mapping[str, str], message: str | None = None) -> None:
        self.fields = dict(fields)
        if message is None:
            details = "; ".join(f"{path}: {problem}" for path, problem in self.fields.items())
            message = f"Invalid input ({details})" if details else "Invalid input"
        super().__init__(message)
