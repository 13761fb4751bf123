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


class Unauthenticated(Exception):
    """The field needs a signed-in viewer, or a sign-in failed (``UNAUTHENTICATED``)."""

    def __init__(self, message: str = "Sign in to do this.") -> None:
        super().__init__(message)


class Forbidden(Exception):
    """The viewer may not do this (``FORBIDDEN``): to a row (``model``, ``id``) or with an input."""

    def __init__(
        self,
        message: str = "You may not do this.",
        *,
        model: str | None = None,
        id: str | None = None,
        fields: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.model = model
        self.id = id
        self.fields = dict(fields) if fields else None

    def extensions(self) -> dict[str, object]:
        found: dict[str, object] = {}
        if self.model is not None:
            found.update(model=self.model, id=self.id)
        if self.fields is not None:
            found["fields"] = self.fields
        return found


class RateLimited(Exception):
    """Too many failed sign-ins for one email (``RATE_LIMITED``); try after ``retry_after`` s."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many failed logins for this email. Try again in {retry_after} s.")
        self.retry_after = retry_after
