"""An identity provider's tokens, checked against a key server the tests run on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.jwks import (
    ProviderClaims,
    ProviderKeys,
    ProviderTokens,
    verify_access_token,
)
from server.auth.sessions import viewer_by_email
from server.auth.tokens import AccessClaims, AccessTokens, InvalidToken
from server.settings import Settings, SettingsError
from tests.conftest import StatementCounter
from tests.server.auth.support import ISSUER, NOW, Clock, add_user, hs256, soft_delete_user

T0 = int(NOW.timestamp())
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class KeyServer:
    """A JWKS endpoint on 127.0.0.1: serves ``keys``, counts requests, can be down."""

    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = []
        self.requests = 0
        self.down = False
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests += 1
                if server.down:
                    self.send_error(503)
                    return
                body = json.dumps({"keys": server.keys}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}/.well-known/jwks.json"
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._thread.join()


@pytest.fixture
def key_server() -> Iterator[KeyServer]:
    server = KeyServer()
    yield server
    server.close()


@pytest.fixture
def provider(key_server: KeyServer, clock: Clock) -> ProviderTokens:
    return ProviderTokens(ProviderKeys(key_server.url, clock=clock), issuer=ISSUER)


RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def public_jwk(private: PrivateKey, kid: str) -> dict[str, Any]:
    if isinstance(private, rsa.RSAPrivateKey):
        jwk = RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
        algorithm = "RS256"
    else:
        jwk = ECAlgorithm.to_jwk(private.public_key(), as_dict=True)
        algorithm = "ES256"
    return {**jwk, "kid": kid, "use": "sig", "alg": algorithm}


def provider_token(private: PrivateKey, kid: str, **changes: Any) -> str:
    algorithm = "RS256" if isinstance(private, rsa.RSAPrivateKey) else "ES256"
    claims: dict[str, Any] = {
        "sub": "provider|123",
        "email": " Ada@Example.com ",
        "iat": T0,
        "exp": T0 + 300,
        "iss": ISSUER,
    }
    claims.update(changes)
    claims = {name: value for name, value in claims.items() if value is not None}
    return jwt.encode(claims, private, algorithm=algorithm, headers={"kid": kid})


async def refused(provider: ProviderTokens, token: str, reason: str, **verify: Any) -> None:
    with pytest.raises(InvalidToken) as excinfo:
        await provider.verify(token, **verify)
    assert str(excinfo.value) == reason
    assert token not in repr(excinfo.value)


async def test_rs256_and_es256_tokens_of_the_provider_are_accepted(
    provider: ProviderTokens, key_server: KeyServer
) -> None:
    key_server.keys = [public_jwk(RSA_KEY, "rsa-1"), public_jwk(EC_KEY, "ec-1")]

    signers: list[tuple[PrivateKey, str]] = [(RSA_KEY, "rsa-1"), (EC_KEY, "ec-1")]
    for private, kid in signers:
        claims = await provider.verify(provider_token(private, kid), now=NOW)
        assert claims == ProviderClaims("ada@example.com", NOW, NOW + timedelta(seconds=300))
    assert key_server.requests == 1  # fetched once, then cached


async def test_a_rotated_key_is_fetched_when_a_token_names_it_at_most_once_a_minute(
    provider: ProviderTokens, key_server: KeyServer, clock: Clock
) -> None:
    key_server.keys = [public_jwk(RSA_KEY, "old")]
    await provider.verify(provider_token(RSA_KEY, "old"), now=NOW)
    key_server.keys = [public_jwk(EC_KEY, "new")]  # the provider rotates its key
    rotated = provider_token(EC_KEY, "new")

    clock.now += 59  # within a minute of the last fetch: no new one
    await refused(provider, rotated, "token key not known", now=NOW)
    assert key_server.requests == 1

    clock.now += 1
    assert (await provider.verify(rotated, now=NOW)).email == "ada@example.com"
    assert key_server.requests == 2
    # the withdrawn key is gone with the set that no longer has it
    await refused(provider, provider_token(RSA_KEY, "old"), "token key not known", now=NOW)

    # made-up kids cost one fetch a minute, however many come
    clock.now += 30
    for index in range(20):
        await refused(provider, provider_token(EC_KEY, f"made-up-{index}"), "token key not known")
    assert key_server.requests == 2
    clock.now += 30
    await refused(provider, provider_token(EC_KEY, "made-up"), "token key not known")
    assert key_server.requests == 3


async def test_concurrent_tokens_naming_an_unknown_kid_cost_one_fetch(
    provider: ProviderTokens, key_server: KeyServer, clock: Clock
) -> None:
    key_server.keys = [public_jwk(RSA_KEY, "old")]
    await provider.verify(provider_token(RSA_KEY, "old"), now=NOW)
    key_server.keys = [public_jwk(RSA_KEY, "old"), public_jwk(EC_KEY, "new")]
    clock.now += 60

    results = await asyncio.gather(
        *(provider.verify(provider_token(EC_KEY, "new"), now=NOW) for _ in range(10))
    )

    assert {claims.email for claims in results} == {"ada@example.com"}
    assert key_server.requests == 2


async def test_a_withdrawn_key_stops_being_accepted_when_the_set_is_fetched_again(
    provider: ProviderTokens, key_server: KeyServer, clock: Clock
) -> None:
    key_server.keys = [public_jwk(RSA_KEY, "a"), public_jwk(EC_KEY, "b")]
    token = provider_token(RSA_KEY, "a")
    await provider.verify(token, now=NOW)
    key_server.keys = [public_jwk(EC_KEY, "b")]

    clock.now += 299
    assert await provider.verify(token, now=NOW)  # the set is five minutes good
    assert key_server.requests == 1
    clock.now += 1
    await refused(provider, token, "token key not known", now=NOW)
    assert key_server.requests == 2


async def test_a_provider_that_is_down_is_asked_once_a_minute_and_known_keys_stay(
    provider: ProviderTokens, key_server: KeyServer, clock: Clock
) -> None:
    key_server.down = True
    token = provider_token(RSA_KEY, "a")
    await refused(provider, token, "token key not known", now=NOW)
    clock.now += 59
    await refused(provider, token, "token key not known", now=NOW)
    assert key_server.requests == 1

    key_server.down = False
    key_server.keys = [public_jwk(RSA_KEY, "a")]
    clock.now += 1
    assert await provider.verify(token, now=NOW)
    assert key_server.requests == 2

    key_server.down = True
    clock.now += 300  # the set is due again, and the fetch fails: keep the keys
    assert await provider.verify(token, now=NOW)
    assert key_server.requests == 3


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        pytest.param({"iss": "https://elsewhere.example"}, "token issuer not accepted", id="iss"),
        pytest.param({"iss": None}, "token lacks the 'iss' claim", id="no-iss"),
        pytest.param({"email": None}, "token lacks the 'email' claim", id="no-email"),
        pytest.param({"email": ["a@example.com"]}, "token claim 'email' is malformed", id="list"),
        pytest.param({"email": "  "}, "token claim 'email' is malformed", id="blank-email"),
        pytest.param({"email_verified": False}, "token email not verified", id="unverified"),
        pytest.param({"exp": None}, "token lacks the 'exp' claim", id="no-exp"),
        pytest.param({"aud": "https://api.example"}, "token audience not accepted", id="aud"),
    ],
)
async def test_wrong_or_missing_claims_are_refused(
    provider: ProviderTokens, key_server: KeyServer, changes: dict[str, Any], reason: str
) -> None:
    key_server.keys = [public_jwk(RSA_KEY, "a")]

    await refused(provider, provider_token(RSA_KEY, "a", **changes), reason, now=NOW)


@pytest.mark.parametrize(
    ("seconds", "accepted"),
    [
        pytest.param(300 + 29, True, id="leeway-minus-1s"),
        pytest.param(300 + 30, False, id="leeway-passed"),
    ],
)
async def test_expiry_has_the_same_leeway(
    provider: ProviderTokens, key_server: KeyServer, seconds: int, accepted: bool
) -> None:
    key_server.keys = [public_jwk(RSA_KEY, "a")]
    token = provider_token(RSA_KEY, "a")
    moment = NOW + timedelta(seconds=seconds)

    if accepted:
        assert await provider.verify(token, now=moment)
    else:
        await refused(provider, token, "token expired", now=moment)


async def test_the_audience_is_required_when_configured(
    key_server: KeyServer, clock: Clock
) -> None:
    key_server.keys = [public_jwk(RSA_KEY, "a")]
    keys = ProviderKeys(key_server.url, clock=clock)
    provider = ProviderTokens(keys, issuer=ISSUER, audience="https://api.example")

    await refused(provider, provider_token(RSA_KEY, "a"), "token lacks the 'aud' claim", now=NOW)
    token = provider_token(RSA_KEY, "a", aud="https://api.example")
    assert (await provider.verify(token, now=NOW)).email == "ada@example.com"


async def test_signatures_and_algorithms_are_checked(
    provider: ProviderTokens, key_server: KeyServer
) -> None:
    key_server.keys = [public_jwk(RSA_KEY, "rsa"), public_jwk(EC_KEY, "ec")]
    valid = provider_token(RSA_KEY, "rsa")
    claims = valid.split(".")[1]

    # another key that names a known kid
    await refused(
        provider, provider_token(OTHER_RSA_KEY, "rsa"), "token signature does not match", now=NOW
    )
    # an ES256 token naming the RSA key's kid
    await refused(provider, provider_token(EC_KEY, "rsa"), "token algorithm not accepted")
    # alg none, and HS256, with a known kid
    none = jwt.utils.base64url_encode(b'{"alg":"none","kid":"rsa"}').decode()
    await refused(provider, f"{none}.{claims}.", "token algorithm not accepted")
    hmac_token = hs256({"alg": "HS256", "kid": "rsa"}, {"email": "ada@example.com"})
    await refused(provider, hmac_token, "token algorithm not accepted")
    # no kid at all
    await refused(provider, jwt.encode({}, RSA_KEY, algorithm="RS256"), "token key not known")
    await refused(provider, "not a token", "malformed token")


async def test_tokens_go_to_the_verifier_of_their_algorithm(
    provider: ProviderTokens, key_server: KeyServer
) -> None:
    key_server.keys = [public_jwk(RSA_KEY, "rsa")]
    tokens = AccessTokens(b"s" * 32, issuer=ISSUER)
    own = tokens.issue(7, session_id=1, now=NOW).token

    assert isinstance(await verify_access_token(own, tokens, provider, now=NOW), AccessClaims)
    claims = await verify_access_token(provider_token(RSA_KEY, "rsa"), tokens, provider, now=NOW)
    assert isinstance(claims, ProviderClaims)

    # key confusion: HS256 "signed" with the provider's public key goes to the HS256
    # verifier, whose key is the secret, and fails there
    pem = RSA_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    confused = hs256({"alg": "HS256", "kid": "rsa"}, {"email": "ada@example.com"}, key=pem)
    with pytest.raises(InvalidToken, match="token signature does not match"):
        await verify_access_token(confused, tokens, provider, now=NOW)
    # without a provider an RS256 token is just another algorithm
    with pytest.raises(InvalidToken, match="token algorithm not accepted"):
        await verify_access_token(provider_token(RSA_KEY, "rsa"), tokens, None, now=NOW)


async def test_the_viewer_is_the_live_user_with_that_email(
    session: AsyncSession, statements: StatementCounter
) -> None:
    ada = await add_user(session, "ada@example.com")
    bob = await add_user(session, "bob@example.com")
    await soft_delete_user(session, bob)

    statements.reset()
    assert await viewer_by_email(session, " Ada@Example.com ") == ada
    assert statements.count == 1
    assert await viewer_by_email(session, "bob@example.com") is None
    assert await viewer_by_email(session, "nobody@example.com") is None


def test_the_jwks_url_setting() -> None:
    assert ProviderTokens.from_settings(Settings()) is None
    provider = ProviderTokens.from_settings(
        Settings.from_env({"AUTH_JWKS_URL": "https://idp.example/.well-known/jwks.json"})
    )
    assert provider is not None and provider.issuer == ISSUER
    for url in ["file:///etc/passwd", "idp.example/jwks", "ftp://idp.example/jwks"]:
        with pytest.raises(SettingsError, match="AUTH_JWKS_URL must be an http"):
            Settings.from_env({"AUTH_JWKS_URL": url})
