"""Access tokens (HS256 JWTs, made and checked with PyJWT) and opaque refresh tokens.

An access token carries the contract's claims: ``sub`` (the user's global
ID), ``exp``, ``iat``, ``iss`` and, when an audience is configured, ``aud``.
Tokens this server issues add ``sid``, the session they belong to, so ending
the session ends them. A token with only the contract's claims, minted by
another service that holds the secret, is accepted too; it has no session
to end, so only its ``exp`` (and the user being live) limits it.

Verification pins the algorithm to HS256 (``alg: none`` and every other
algorithm are refused before any key is used), requires every contract
claim, checks ``iss`` and ``aud``, and allows 30 seconds of clock skew on
``exp``, ``iat`` and ``nbf``. The time checks are made here rather than by
PyJWT, against a ``now`` the caller may give, so they can be tested at
their exact edges without sleeping.

A refresh token is 256 random bits, URL-safe; only its SHA-256 is stored.
No token, and no secret, ever goes into an exception message or a repr.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import jwt
from jwt.exceptions import InvalidSubjectError
from jwt.types import Options

from fast_query import utcnow
from schema.errors import UserInputError
from schema.ids import parse_global_id, to_global_id

ALGORITHM = "HS256"
#: Seconds of clock skew allowed between the token's issuer and this server.
LEEWAY_SECONDS = 30
#: Longer than any token worth reading; refused before it is decoded.
MAX_TOKEN_LENGTH = 8192
#: 32 random bytes: 256 bits, as the contract asks (43 URL-safe characters).
REFRESH_TOKEN_BYTES = 32
MAX_REFRESH_TOKEN_LENGTH = 512
#: HS256 keys shorter than the hash are refused (RFC 7518, section 3.2).
MIN_SECRET_BYTES = 32
DEFAULT_ISSUER = "fast-track-graphql"
DEFAULT_ACCESS_TOKEN_TTL = 900
USER_TYPE = "User"
#: The latest ``exp``, ``iat`` or ``nbf`` read as a time (the year 9999).
_MAX_TIMESTAMP = 253_402_300_799


class InvalidToken(Exception):
    """A token is refused: the message says why in fixed words and never quotes the token."""


@dataclass(frozen=True, slots=True)
class AccessToken:
    """An access token as issued, and when it stops being accepted (its ``exp``)."""

    token: str = field(repr=False)
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class AccessClaims:
    """What a verified access token says: whose it is, and of which session (if any)."""

    user_id: int
    session_id: int | None
    issued_at: datetime
    expires_at: datetime


class AccessTokens:
    """Issues and verifies HS256 access tokens with one secret.

    Args:
        secret: at least 32 bytes; ``AUTH_JWT_SECRET``, or the key kept in
            the database (``server.auth.keys``).
        issuer: the ``iss`` of issued tokens, and the only one accepted.
        audience: the ``aud`` of issued tokens, and the only one accepted;
            ``None``: issued tokens have none, and a token with one is refused.
        ttl: seconds an issued token lives.
    """

    __slots__ = ("_options", "_secret", "audience", "issuer", "ttl")

    def __init__(
        self,
        secret: bytes | str,
        *,
        issuer: str = DEFAULT_ISSUER,
        audience: str | None = None,
        ttl: int = DEFAULT_ACCESS_TOKEN_TTL,
    ) -> None:
        key = secret.encode("utf-8", "surrogatepass") if isinstance(secret, str) else secret
        if len(key) < MIN_SECRET_BYTES:
            raise ValueError(f"an HS256 secret must be at least {MIN_SECRET_BYTES} bytes")
        if not issuer:
            raise ValueError("the issuer must not be empty")
        if ttl <= 0:
            raise ValueError("the lifetime of a token must be positive")
        self._secret = key
        self.issuer = issuer
        self.audience = audience or None
        self.ttl = ttl
        required = ["sub", "exp", "iat", "iss"]
        if self.audience is not None:
            required.append("aud")
        self._options: Options = {
            "require": required,
            # Times are checked in ``verify``, against its ``now``.
            "verify_exp": False,
            "verify_iat": False,
            "verify_nbf": False,
            "enforce_minimum_key_length": True,
        }

    def __repr__(self) -> str:
        return f"AccessTokens(issuer={self.issuer!r}, audience={self.audience!r}, ttl={self.ttl})"

    def issue(
        self, user_id: int, *, session_id: int | None = None, now: datetime | None = None
    ) -> AccessToken:
        """A token for ``user_id`` (in session ``session_id``) that lives ``ttl`` seconds."""
        issued = int((now or utcnow()).timestamp())
        claims: dict[str, Any] = {
            "sub": to_global_id(USER_TYPE, user_id),
            "iat": issued,
            "exp": issued + self.ttl,
            "iss": self.issuer,
        }
        if self.audience is not None:
            claims["aud"] = self.audience
        if session_id is not None:
            claims["sid"] = session_id
        token = jwt.encode(claims, self._secret, algorithm=ALGORITHM)
        return AccessToken(token, datetime.fromtimestamp(issued + self.ttl, UTC))

    def verify(self, token: str, *, now: datetime | None = None) -> AccessClaims:
        """The claims of ``token`` if it is one this server accepts at ``now``.

        Raises:
            InvalidToken: malformed, another algorithm than HS256, signed with
                another key, tampered with, a contract claim missing or
                malformed, another issuer or audience, expired (more than 30 s
                past ``exp``), or issued or valid only in the future (beyond
                the same 30 s), or a subject that is not a user's global ID.
        """
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
            raise InvalidToken("malformed token")
        claims = decode_pinned(
            token, self._secret, ALGORITHM, self.issuer, self.audience, self._options
        )
        issued_at, expires_at = check_times(claims, now)
        session_id = claims.get("sid")
        if session_id is not None and not _is_key(session_id):
            raise InvalidToken("token claim 'sid' is malformed")
        return AccessClaims(
            user_id=_user_id(claims["sub"]),
            session_id=session_id,
            issued_at=issued_at,
            expires_at=expires_at,
        )


def decode_pinned(
    token: str,
    key: Any,
    algorithm: str,
    issuer: str,
    audience: str | None,
    options: Options,
) -> dict[str, Any]:
    """PyJWT's ``decode`` with one algorithm allowed; its refusals as ``InvalidToken``.

    ``from None``: PyJWT's own messages (which may quote a claim) and its
    exception stay out of the error.
    """
    try:
        return jwt.decode(
            token, key, algorithms=[algorithm], issuer=issuer, audience=audience, options=options
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(_reason(exc)) from None


def check_times(claims: dict[str, Any], now: datetime | None = None) -> tuple[datetime, datetime]:
    """``iat`` and ``exp`` of verified ``claims``, if they (and ``nbf``) hold at ``now``.

    30 seconds of leeway each way: refused from ``exp + 30 s`` on, and while
    ``iat`` or ``nbf`` is more than 30 s ahead.

    Raises:
        InvalidToken: expired, not valid yet, or a time that is not a number.
    """
    moment = (now or utcnow()).timestamp()
    expires = _timestamp(claims, "exp")
    issued = _timestamp(claims, "iat")
    if moment >= expires + LEEWAY_SECONDS:
        raise InvalidToken("token expired")
    if issued > moment + LEEWAY_SECONDS:
        raise InvalidToken("token issued in the future")
    if "nbf" in claims and _timestamp(claims, "nbf") > moment + LEEWAY_SECONDS:
        raise InvalidToken("token not valid yet")
    return datetime.fromtimestamp(issued, UTC), datetime.fromtimestamp(expires, UTC)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization`` header value; ``None`` when there is none (anonymous).

    Raises:
        InvalidToken: another scheme than Bearer, or no single token after it.
    """
    if authorization is None or not authorization.strip():
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":  # schemes are case-insensitive (RFC 9110, 11.1)
        raise InvalidToken("not a Bearer token")
    token = token.strip()
    if not token or any(character.isspace() for character in token):
        raise InvalidToken("malformed token")
    return token


def new_refresh_token() -> str:
    """A fresh opaque refresh token: 256 random bits, URL-safe base64."""
    return secrets.token_urlsafe(REFRESH_TOKEN_BYTES)


def refresh_token_hash(token: str) -> str:
    """The SHA-256 (hex) under which a refresh token is stored and looked up.

    A plain hash is enough: the token has 256 random bits, so there is
    nothing to guess, and the lookup must be an equality on an index.
    """
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _reason(exc: jwt.PyJWTError) -> str:
    if isinstance(exc, jwt.InvalidAlgorithmError):
        return "token algorithm not accepted"
    if isinstance(exc, jwt.InvalidSignatureError):
        return "token signature does not match"
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"token lacks the {exc.claim!r} claim"  # one of the names we require
    if isinstance(exc, jwt.InvalidIssuerError):
        return "token issuer not accepted"
    if isinstance(exc, jwt.InvalidAudienceError):
        return "token audience not accepted"
    if isinstance(exc, InvalidSubjectError):
        return "token subject is not a user"
    if isinstance(exc, jwt.DecodeError):
        return "malformed token"
    return "token not accepted"


def _timestamp(claims: dict[str, Any], name: str) -> float:
    value = claims[name]
    # A NumericDate is a JSON number. Python's json reads NaN and Infinity too:
    # every comparison with NaN is false, which would make such a token eternal.
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 <= value <= _MAX_TIMESTAMP
    ):
        raise InvalidToken(f"token claim {name!r} is malformed")
    return float(value)


def _is_key(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31


def _user_id(subject: object) -> int:
    if not isinstance(subject, str):
        raise InvalidToken("token subject is not a user")
    try:
        global_id = parse_global_id(subject, "sub")
    except UserInputError:
        raise InvalidToken("token subject is not a user") from None
    if global_id.type_name != USER_TYPE or global_id.key <= 0:
        raise InvalidToken("token subject is not a user")
    return global_id.key
