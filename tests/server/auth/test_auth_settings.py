"""The AUTH_* settings: defaults, the environment, and what is refused at startup."""

from __future__ import annotations

import pytest

from server.settings import Settings, SettingsError


def auth(settings: Settings) -> tuple[object, ...]:
    return (
        settings.auth_jwt_secret,
        settings.auth_jwt_issuer,
        settings.auth_jwt_audience,
        settings.auth_access_token_ttl,
        settings.auth_refresh_token_ttl,
    )


def test_defaults() -> None:
    assert auth(Settings()) == ("", "fast-track-graphql", "", 900, 30 * 24 * 60 * 60)


def test_read_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "AUTH_JWT_SECRET": "x" * 32,
            "AUTH_JWT_ISSUER": "https://auth.example",
            "AUTH_JWT_AUDIENCE": "https://api.example",
            "AUTH_ACCESS_TOKEN_TTL": "60",
            "AUTH_REFRESH_TOKEN_TTL": "3600",
        }
    )

    assert auth(settings) == ("x" * 32, "https://auth.example", "https://api.example", 60, 3600)


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param("x" * 32, id="32-bytes"),
        pytest.param("é" * 16, id="16-characters-of-2-bytes"),
    ],
)
def test_a_secret_of_32_bytes_is_enough(secret: str) -> None:
    assert Settings.from_env({"AUTH_JWT_SECRET": secret}).auth_jwt_secret == secret


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param("short-but-secret-31-bytes-long!", id="31-bytes"),
        pytest.param("é" * 15 + "!", id="31-bytes-of-utf8"),
    ],
)
def test_a_shorter_secret_is_refused_without_being_shown(secret: str) -> None:
    assert len(secret.encode()) == 31
    with pytest.raises(SettingsError) as excinfo:
        Settings.from_env({"AUTH_JWT_SECRET": secret})

    assert str(excinfo.value) == (
        "AUTH_JWT_SECRET must be at least 32 bytes "
        "(or unset, for a key generated and kept in the database)"
    )
    assert secret not in repr(excinfo.value)


@pytest.mark.parametrize("name", ["AUTH_ACCESS_TOKEN_TTL", "AUTH_REFRESH_TOKEN_TTL"])
@pytest.mark.parametrize("value", ["0", "-5"])
def test_a_lifetime_must_be_positive(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=f"{name} must be a positive number of seconds"):
        Settings.from_env({name: value})


def test_an_empty_issuer_is_refused() -> None:
    with pytest.raises(SettingsError, match="AUTH_JWT_ISSUER must not be empty"):
        Settings(auth_jwt_issuer="")
