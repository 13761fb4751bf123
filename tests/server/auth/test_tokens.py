"""Access tokens: what they carry, and every attack the issue lists refused (no database)."""

from __future__ import annotations

import hashlib
import json
import warnings
from datetime import timedelta
from typing import Any

import jwt
import pytest

from schema.ids import to_global_id
from server.auth.tokens import (
    LEEWAY_SECONDS,
    AccessClaims,
    AccessTokens,
    InvalidToken,
    bearer_token,
    new_refresh_token,
    refresh_token_hash,
)
from tests.server.auth.support import (
    ISSUER,
    NOW,
    SECRET,
    b64url,
    hs256,
    segments,
    unsigned_token,
)

T0 = int(NOW.timestamp())
TTL = 900


def contract_claims(**changes: Any) -> dict[str, Any]:
    """Exactly the contract's claims, as another service holding the secret would mint them."""
    claims: dict[str, Any] = {
        "sub": to_global_id("User", 7),
        "iat": T0,
        "exp": T0 + TTL,
        "iss": ISSUER,
    }
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def minted(claims: dict[str, Any], key: bytes = SECRET, algorithm: str = "HS256") -> str:
    with warnings.catch_warnings():
        # HS384 and HS512 want longer keys: the attack uses ours all the same
        warnings.simplefilter("ignore", jwt.InsecureKeyLengthWarning)
        return jwt.encode(claims, key, algorithm=algorithm)


def refused(tokens: AccessTokens, token: str, **verify: Any) -> InvalidToken:
    """The error ``verify`` raises; it never quotes the token, and hides PyJWT's own error."""
    with pytest.raises(InvalidToken) as excinfo:
        tokens.verify(token, **verify)
    error = excinfo.value
    if token:
        assert token not in str(error) and token not in repr(error)
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__
    return error


def test_an_issued_token_carries_the_contract_claims_and_its_session(
    tokens: AccessTokens,
) -> None:
    issued = tokens.issue(7, session_id=3, now=NOW)

    header, claims = segments(issued.token)
    assert header == {"alg": "HS256", "typ": "JWT"}
    assert claims == {
        "sub": to_global_id("User", 7),
        "iat": T0,
        "exp": T0 + TTL,
        "iss": ISSUER,
        "sid": 3,
    }
    assert issued.expires_at == NOW + timedelta(seconds=TTL)
    assert issued.token not in repr(issued)
    assert tokens.verify(issued.token, now=NOW) == AccessClaims(
        user_id=7, session_id=3, issued_at=NOW, expires_at=issued.expires_at
    )


def test_the_audience_is_set_and_required_when_configured() -> None:
    tokens = AccessTokens(SECRET, audience="https://api.example")
    issued = tokens.issue(7, now=NOW)

    assert segments(issued.token)[1]["aud"] == "https://api.example"
    assert tokens.verify(issued.token, now=NOW).user_id == 7
    listed = minted(contract_claims(aud=["https://other.example", "https://api.example"]))
    assert tokens.verify(listed, now=NOW).user_id == 7
    error = refused(tokens, minted(contract_claims()), now=NOW)
    assert str(error) == "token lacks the 'aud' claim"


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({}, id="exactly-the-contract-claims"),
        pytest.param({"jti": "abc", "scope": "read"}, id="claims-of-its-own"),
        pytest.param({"iat": T0 + 0.5, "exp": T0 + 900.5}, id="fractional-times"),
    ],
)
def test_a_token_minted_by_another_holder_of_the_secret_is_accepted(
    tokens: AccessTokens, extra: dict[str, Any]
) -> None:
    claims = tokens.verify(minted(contract_claims(**extra)), now=NOW)

    assert (claims.user_id, claims.session_id) == (7, None)


def none_token(alg: str) -> str:
    return unsigned_token({"alg": alg, "typ": "JWT"}, contract_claims())


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        pytest.param(none_token("none"), "token algorithm not accepted", id="alg-none"),
        pytest.param(none_token("None"), "token algorithm not accepted", id="alg-None"),
        pytest.param(none_token("NONE"), "token algorithm not accepted", id="alg-NONE"),
        pytest.param(
            minted(contract_claims(), algorithm="HS512"),
            "token algorithm not accepted",
            id="hs512-same-key",
        ),
        pytest.param(
            minted(contract_claims(), algorithm="HS384"),
            "token algorithm not accepted",
            id="hs384-same-key",
        ),
        pytest.param(
            # RS256 named in the header, HMAC-signed with the secret: key confusion
            unsigned_token(
                {"alg": "RS256", "typ": "JWT"},
                contract_claims(),
                b64url(b"x" * 32),
            ),
            "token algorithm not accepted",
            id="rs256-header",
        ),
        pytest.param(
            unsigned_token({"typ": "JWT"}, contract_claims(), b64url(b"x" * 32)),
            "token algorithm not accepted",
            id="no-alg",
        ),
        pytest.param(
            minted(contract_claims(), key=b"another key, also 32 bytes long!"),
            "token signature does not match",
            id="another-key",
        ),
        pytest.param(
            minted(contract_claims(), key=SECRET + b"!"),
            "token signature does not match",
            id="a-longer-key",
        ),
    ],
)
def test_other_algorithms_and_keys_are_refused(
    tokens: AccessTokens, token: str, reason: str
) -> None:
    assert str(refused(tokens, token, now=NOW)) == reason


def test_a_tampered_payload_is_refused(tokens: AccessTokens) -> None:
    issued = tokens.issue(7, session_id=3, now=NOW).token
    header, claims, signature = issued.split(".")
    assert tokens.verify(hs256({"alg": "HS256", "typ": "JWT"}, segments(issued)[1]), now=NOW)

    for change in ({"sub": to_global_id("User", 1)}, {"exp": T0 + 10**6}, {"sid": 4}):
        forged = ".".join([header, b64url(json.dumps({**segments(issued)[1], **change}).encode())])
        assert str(refused(tokens, f"{forged}.{signature}", now=NOW)) == (
            "token signature does not match"
        )
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    assert str(refused(tokens, f"{header}.{claims}.{flipped}", now=NOW)) == (
        "token signature does not match"
    )
    assert str(refused(tokens, f"{header}.{claims}.", now=NOW)) == (
        "token signature does not match"
    )


@pytest.mark.parametrize(
    ("now", "accepted"),
    [
        pytest.param(T0 + TTL - 1, True, id="before-exp"),
        pytest.param(T0 + TTL, True, id="at-exp"),
        pytest.param(T0 + TTL + LEEWAY_SECONDS - 1, True, id="leeway-minus-1s"),
        pytest.param(T0 + TTL + LEEWAY_SECONDS - 0.001, True, id="leeway-minus-1ms"),
        pytest.param(T0 + TTL + LEEWAY_SECONDS, False, id="leeway-passed"),
        pytest.param(T0 + TTL + LEEWAY_SECONDS + 1, False, id="leeway-plus-1s"),
        pytest.param(T0 + 10**6, False, id="long-expired"),
    ],
)
def test_expiry_allows_30_seconds_of_leeway_and_no_more(
    tokens: AccessTokens, now: float, accepted: bool
) -> None:
    token = tokens.issue(7, now=NOW).token
    moment = NOW + timedelta(seconds=now - T0)
    if accepted:
        assert tokens.verify(token, now=moment).user_id == 7
    else:
        assert str(refused(tokens, token, now=moment)) == "token expired"


@pytest.mark.parametrize(
    ("claim", "offset", "reason"),
    [
        pytest.param("iat", LEEWAY_SECONDS, None, id="iat-within-leeway"),
        pytest.param("iat", LEEWAY_SECONDS + 1, "token issued in the future", id="iat-future"),
        pytest.param("nbf", LEEWAY_SECONDS, None, id="nbf-within-leeway"),
        pytest.param("nbf", LEEWAY_SECONDS + 1, "token not valid yet", id="nbf-future"),
    ],
)
def test_a_token_from_the_future_gets_the_same_leeway(
    tokens: AccessTokens, claim: str, offset: int, reason: str | None
) -> None:
    token = minted(contract_claims(**{claim: T0 + offset}))
    if reason is None:
        assert tokens.verify(token, now=NOW).user_id == 7
    else:
        assert str(refused(tokens, token, now=NOW)) == reason


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        pytest.param(contract_claims(iss="someone-else"), "token issuer not accepted", id="iss"),
        pytest.param(contract_claims(iss=None), "token lacks the 'iss' claim", id="no-iss"),
        pytest.param(
            contract_claims(aud="https://api.example"),
            "token audience not accepted",
            id="aud-when-none-is-configured",
        ),
        pytest.param(contract_claims(sub=None), "token lacks the 'sub' claim", id="no-sub"),
        pytest.param(contract_claims(exp=None), "token lacks the 'exp' claim", id="no-exp"),
        pytest.param(contract_claims(iat=None), "token lacks the 'iat' claim", id="no-iat"),
        pytest.param(contract_claims(sub=7), "token subject is not a user", id="sub-number"),
        pytest.param(
            contract_claims(sub=to_global_id("Post", 7)),
            "token subject is not a user",
            id="sub-of-a-post",
        ),
        pytest.param(contract_claims(sub="7"), "token subject is not a user", id="sub-raw-key"),
        pytest.param(
            contract_claims(sub=to_global_id("User", 0)), "token subject is not a user", id="sub-0"
        ),
        pytest.param(
            contract_claims(exp=str(T0 + TTL)), "token claim 'exp' is malformed", id="exp-string"
        ),
        pytest.param(contract_claims(exp=True), "token claim 'exp' is malformed", id="exp-bool"),
        pytest.param(
            contract_claims(exp=float("nan")), "token claim 'exp' is malformed", id="exp-nan"
        ),
        pytest.param(
            contract_claims(exp=float("inf")), "token claim 'exp' is malformed", id="exp-infinity"
        ),
        pytest.param(contract_claims(exp=10**20), "token claim 'exp' is malformed", id="exp-huge"),
        pytest.param(contract_claims(iat="now"), "token claim 'iat' is malformed", id="iat-string"),
        pytest.param(contract_claims(sid="3"), "token claim 'sid' is malformed", id="sid-string"),
        pytest.param(contract_claims(sid=True), "token claim 'sid' is malformed", id="sid-bool"),
    ],
)
def test_wrong_or_missing_claims_are_refused(
    tokens: AccessTokens, claims: dict[str, Any], reason: str
) -> None:
    assert str(refused(tokens, minted(claims), now=NOW)) == reason


def test_an_issuer_that_is_not_a_string_is_refused(tokens: AccessTokens) -> None:
    token = hs256({"alg": "HS256", "typ": "JWT"}, contract_claims(iss=[ISSUER]))

    assert str(refused(tokens, token, now=NOW)) == "token issuer not accepted"


def test_a_token_for_another_audience_is_refused() -> None:
    tokens = AccessTokens(SECRET, audience="https://api.example")
    token = minted(contract_claims(aud="https://other.example"))

    assert str(refused(tokens, token, now=NOW)) == "token audience not accepted"


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("", id="empty"),
        pytest.param("abc", id="one-part"),
        pytest.param("a.b.c", id="not-base64-json"),
        pytest.param(unsigned_token({"alg": "HS256"}, contract_claims())[:-1], id="two-parts"),
        pytest.param(b64url(b"[]") + "." + b64url(b"{}") + ".x", id="header-not-an-object"),
        pytest.param("x" * 9000, id="too-long"),
    ],
)
def test_malformed_tokens_are_refused(tokens: AccessTokens, token: str) -> None:
    assert str(refused(tokens, token, now=NOW)) == "malformed token"


def test_a_payload_that_is_not_an_object_is_refused(tokens: AccessTokens) -> None:
    token = hs256({"alg": "HS256", "typ": "JWT"}, [1, 2])

    assert str(refused(tokens, token, now=NOW)) == "malformed token"


def test_verification_uses_the_clock_when_no_time_is_given(tokens: AccessTokens) -> None:
    assert tokens.verify(tokens.issue(7).token).user_id == 7
    assert str(refused(tokens, tokens.issue(7, now=NOW - timedelta(days=1)).token)) == (
        "token expired"
    )


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param(b"k" * 31, id="31-bytes"),
        pytest.param("é" * 15, id="30-bytes-of-utf8"),
        pytest.param(b"", id="empty"),
    ],
)
def test_a_short_secret_is_refused(secret: bytes | str) -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        AccessTokens(secret)


def test_the_secret_is_never_shown(tokens: AccessTokens) -> None:
    assert "k" * 32 not in repr(tokens)
    assert repr(tokens) == "AccessTokens(issuer='fast-track-graphql', audience=None, ttl=900)"


@pytest.mark.parametrize(
    ("header", "token"),
    [
        pytest.param(None, None, id="no-header"),
        pytest.param("", None, id="empty"),
        pytest.param("Bearer abc.def.ghi", "abc.def.ghi", id="bearer"),
        pytest.param("bearer abc.def.ghi", "abc.def.ghi", id="case-insensitive"),
        pytest.param("  Bearer   abc.def.ghi  ", "abc.def.ghi", id="spaces"),
    ],
)
def test_the_bearer_token_of_an_authorization_header(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        pytest.param("Basic dXNlcjpzZWNyZXQ=", "not a Bearer token", id="basic"),
        pytest.param("Token dXNlcjpzZWNyZXQ=", "not a Bearer token", id="token"),
        pytest.param("dXNlcjpzZWNyZXQ=", "not a Bearer token", id="no-scheme"),
        pytest.param("Bearer", "malformed token", id="no-token"),
        pytest.param("Bearer dXNlcjpz ZWNyZXQ=", "malformed token", id="two-tokens"),
    ],
)
def test_another_scheme_is_refused(header: str, reason: str) -> None:
    with pytest.raises(InvalidToken) as excinfo:
        bearer_token(header)
    assert str(excinfo.value) == reason
    assert "dXNlcjpz" not in str(excinfo.value)


def test_refresh_tokens_have_256_random_bits_and_are_stored_as_their_sha256() -> None:
    made = {new_refresh_token() for _ in range(1000)}

    assert len(made) == 1000
    for token in made:
        assert len(token) >= 43  # 32 bytes in URL-safe base64
        assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    token = made.pop()
    assert refresh_token_hash(token) == hashlib.sha256(token.encode()).hexdigest()
