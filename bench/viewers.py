"""Who the benchmark asks as: anonymous (no header), or signed in as the seeded admin.

An admin's requests carry ``Authorization: Bearer <access token>``; the
token comes from our server's ``login`` mutation with the seeded admin's
email and ``ftf seed``'s password. Both services get the same header: our
server resolves it to its viewer (one statement), the floor verifies the JWT
itself and checks the user in one statement too (``bench/floor.py``).

An access token lives ``AUTH_ACCESS_TOKEN_TTL`` seconds (900 by default), less
than a full run takes, so ``AdminSession`` signs in again whenever the token it
holds would expire before the next measurement ends.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import httpx
import orjson

Viewer = Literal["anonymous", "admin"]
VIEWERS: tuple[Viewer, ...] = ("anonymous", "admin")
#: Validity a token must have beyond the seconds of load that use it (wrk's start, checks).
MARGIN_S = 10.0
TIMEOUT = 60.0


def label(workload: str, viewer: Viewer) -> str:
    """A row's name in the tables: ``W1`` for anonymous, ``W1 (admin)`` signed in."""
    return workload if viewer == "anonymous" else f"{workload} ({viewer})"


@dataclass(frozen=True, slots=True)
class Credentials:
    """The seeded admin: ``ftf seed`` gives every user the same password."""

    user_id: int
    email: str
    password: str = field(repr=False)

    def login_body(self) -> bytes:
        document = (
            "mutation Login($email: String!, $password: String!) { "
            "login(email: $email, password: $password) { accessToken expiresAt } }"
        )
        variables = {"email": self.email, "password": self.password}
        return orjson.dumps({"query": document, "variables": variables})


@dataclass(frozen=True, slots=True)
class Token:
    token: str = field(repr=False)
    expires_at: float
    """Unix time of the token's ``exp``."""

    @property
    def header(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class LoginFailed(RuntimeError):
    """``login`` did not answer a token: the comparison cannot be made signed in."""


def parse_login(status: int, raw: bytes) -> Token:
    """The token of a ``login`` answer.

    Raises:
        LoginFailed: an HTTP error, GraphQL errors or no token.
    """
    try:
        payload: Any = orjson.loads(raw)
        login = payload["data"]["login"]
        token = Token(login["accessToken"], datetime.fromisoformat(login["expiresAt"]).timestamp())
    except (ValueError, KeyError, TypeError) as exc:
        raise LoginFailed(f"login answered {status}: {raw[:500]!r}") from exc
    if status != 200 or payload.get("errors"):
        raise LoginFailed(f"login answered {status}: {raw[:500]!r}")
    return token


def login(client: httpx.Client, base_url: str, credentials: Credentials) -> Token:
    """Sign in over HTTP (``POST /graphql``)."""
    response = client.post(
        f"{base_url}/graphql",
        content=credentials.login_body(),
        headers={"Content-Type": "application/json"},
    )
    return parse_login(response.status_code, response.content)


class AdminSession:
    """The admin's token against one running server, renewed before it would expire."""

    def __init__(self, base_url: str, credentials: Credentials) -> None:
        self.base_url = base_url
        self.credentials = credentials
        self.token: Token | None = None
        self.logins = 0

    def headers(self, valid_for: float = 0.0) -> dict[str, str]:
        """The ``Authorization`` header, with a token still valid ``valid_for`` seconds from now
        (and ``MARGIN_S`` more): it signs in again when the token it holds would expire sooner.

        Raises:
            LoginFailed: ``login`` failed, or a fresh token lives less than that.
        """
        if self.token is None or self.token.expires_at < time.time() + valid_for + MARGIN_S:
            with httpx.Client(timeout=TIMEOUT) as client:
                self.token = login(client, self.base_url, self.credentials)
            self.logins += 1
            if self.token.expires_at < time.time() + valid_for + MARGIN_S:
                raise LoginFailed(
                    f"a fresh token lives less than the {valid_for + MARGIN_S:.0f} s of a "
                    "measurement; raise AUTH_ACCESS_TOKEN_TTL or shorten --duration"
                )
        return self.token.header
