"""Access tokens of an identity provider (RS256, ES256), checked with the keys at AUTH_JWKS_URL.

The viewer of such a token is the live user whose email equals its
``email`` claim (``sessions.viewer_by_email``). ``iss`` and ``aud`` are
checked as for the server's own tokens, with the same 30 s of leeway.

The key set is kept per process (the contract allows it: keys are the
provider's, not state another process must see) and fetched again:

- when a token names a ``kid`` the set does not have, at most once a
  minute, so a provider's new key is picked up without a restart and a
  stream of made-up ``kid`` values costs one fetch a minute, no more;
- every five minutes when tokens keep coming, so a key the provider
  withdrew stops being accepted.

A failed fetch keeps the keys already known (an outage of the provider
does not sign everyone out) and counts as an attempt, so a provider that is
down is asked at most once a minute too. PyJWT's ``PyJWKClient`` does the
HTTP (urllib, http and https only, no redirects) in a worker thread, never
on the event loop; its own caching is not used, because it only rate-limits
after a successful fetch, drops its whole set when a refetch fails, and
blocks on a thread lock rather than an ``asyncio`` one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt
from jwt.types import Options

from models import normalize_email
from server.auth.tokens import (
    ALGORITHM,
    MAX_TOKEN_LENGTH,
    AccessClaims,
    AccessTokens,
    InvalidToken,
    check_times,
    decode_pinned,
)
from server.settings import Settings

#: What a provider may sign with. HS256 stays the server's own (``AUTH_JWT_SECRET``).
PROVIDER_ALGORITHMS = frozenset({"RS256", "ES256"})
#: Seconds between fetches for an unknown ``kid`` (or after a failed fetch).
REFETCH_INTERVAL = 60.0
#: Seconds a fetched key set is used before it is fetched again.
KEYS_LIFESPAN = 300.0
FETCH_TIMEOUT = 5.0
MAX_EMAIL_LENGTH = 254

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ProviderClaims:
    """What a verified provider token says: whose email it carries (trimmed, lower-cased)."""

    email: str
    issued_at: datetime
    expires_at: datetime


class ProviderKeys:
    """The provider's public keys by ``kid``, fetched as the module docstring says.

    Args:
        url: the JWKS document (``AUTH_JWKS_URL``).
        refetch_interval: least seconds between two fetches for unknown kids.
        lifespan: seconds a fetched set is trusted.
        clock: seconds, monotonic (tests pass their own).
    """

    def __init__(
        self,
        url: str,
        *,
        refetch_interval: float = REFETCH_INTERVAL,
        lifespan: float = KEYS_LIFESPAN,
        timeout: float = FETCH_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = jwt.PyJWKClient(url, cache_jwk_set=False, timeout=timeout)
        self._refetch_interval = refetch_interval
        self._lifespan = lifespan
        self._clock = clock
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None  # the last attempt, successful or not
        self._loaded_at: float | None = None  # the last successful fetch
        self._lock = asyncio.Lock()
        self.fetches = 0  # attempts so far, for tests and logs

    async def key(self, kid: str) -> jwt.PyJWK:
        """The key named ``kid``.

        Raises:
            InvalidToken: no such key, even after a fetch if one was due.
        """
        if self._loaded_at is None or self._clock() - self._loaded_at >= self._lifespan:
            await self._refresh()
        key = self._keys.get(kid)
        if key is None:
            await self._refresh()
            key = self._keys.get(kid)
        if key is None:
            raise InvalidToken("token key not known")
        return key

    async def _refresh(self) -> None:
        async with self._lock:  # one fetch at a time; those who waited use its result
            if (
                self._fetched_at is not None
                and self._clock() - self._fetched_at < self._refetch_interval
            ):
                return
            self._fetched_at = self._clock()
            self.fetches += 1
            try:
                found = await asyncio.to_thread(self._client.get_signing_keys, True)
            except Exception as exc:  # unreachable, not JSON, no usable key: all the same here
                # Keep what we had; the next attempt is a refetch interval away.
                logger.warning(
                    "fetching the identity provider's keys failed: %s", type(exc).__name__
                )
                return
            self._keys = {key.key_id: key for key in found if key.key_id}
            self._loaded_at = self._fetched_at


class ProviderTokens:
    """Verifies an identity provider's access tokens.

    Args:
        keys: the provider's key set.
        issuer, audience: as for ``AccessTokens``.
    """

    def __init__(self, keys: ProviderKeys, *, issuer: str, audience: str | None = None) -> None:
        self.keys = keys
        self.issuer = issuer
        self.audience = audience or None
        required = ["exp", "iat", "iss", "email"]
        if self.audience is not None:
            required.append("aud")
        self._options: Options = {
            "require": required,
            "verify_exp": False,  # checked by check_times, against its ``now``
            "verify_iat": False,
            "verify_nbf": False,
        }

    @classmethod
    def from_settings(cls, settings: Settings) -> ProviderTokens | None:
        """The provider of ``AUTH_JWKS_URL``; ``None`` when it is unset."""
        if not settings.auth_jwks_url:
            return None
        return cls(
            ProviderKeys(settings.auth_jwks_url),
            issuer=settings.auth_jwt_issuer,
            audience=settings.auth_jwt_audience or None,
        )

    async def verify(self, token: str, *, now: datetime | None = None) -> ProviderClaims:
        """The claims of a provider's token, if it holds at ``now``.

        Raises:
            InvalidToken: malformed, not RS256 or ES256, a ``kid`` the
                provider does not have, signed with another key, a claim
                wrong or missing (``email`` included), an email the provider
                says it has not verified, or out of its time.
        """
        header = _header(token)
        algorithm = header.get("alg")
        kid = header.get("kid")
        if algorithm not in PROVIDER_ALGORITHMS:
            raise InvalidToken("token algorithm not accepted")
        if not isinstance(kid, str) or not kid or len(kid) > 256:
            raise InvalidToken("token key not known")
        key = await self.keys.key(kid)
        if key.algorithm_name != algorithm:  # an RSA key's kid on an ES256 token, say
            raise InvalidToken("token algorithm not accepted")
        claims = decode_pinned(token, key.key, algorithm, self.issuer, self.audience, self._options)
        issued_at, expires_at = check_times(claims, now)
        email = claims["email"]
        if not isinstance(email, str) or not 0 < len(email.strip()) <= MAX_EMAIL_LENGTH:
            raise InvalidToken("token claim 'email' is malformed")
        if claims.get("email_verified", True) is not True:
            raise InvalidToken("token email not verified")
        return ProviderClaims(normalize_email(email), issued_at, expires_at)


async def verify_access_token(
    token: str,
    tokens: AccessTokens,
    provider: ProviderTokens | None = None,
    *,
    now: datetime | None = None,
) -> AccessClaims | ProviderClaims:
    """A Bearer token checked by whoever signed it: the server (HS256) or the provider.

    The header's ``alg`` only picks the verifier; each one pins its own
    algorithms, so naming another one cannot make a token pass.
    """
    if provider is None or _header(token).get("alg") == ALGORITHM:
        return tokens.verify(token, now=now)
    return await provider.verify(token, now=now)


def _header(token: str) -> dict[str, Any]:
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidToken("malformed token")
    try:
        return jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise InvalidToken("malformed token") from None
