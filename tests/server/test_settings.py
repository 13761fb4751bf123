"""Settings read from the environment."""

from __future__ import annotations

import pytest

from server.settings import Settings, SettingsError


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("0", 0.0, id="zero-is-zero"),
        pytest.param("2.5", 2.5, id="number"),
    ],
)
def test_a_float_setting_that_does_not_admit_none_reads_zero_as_zero(
    raw: str, expected: float
) -> None:
    settings = Settings.from_env({"DB_POOL_TIMEOUT": raw, "DB_CONNECT_TIMEOUT": raw})
    assert (settings.db_pool_timeout, settings.db_connect_timeout) == (expected, expected)


@pytest.mark.parametrize("raw", ["off", "none", "0"])
def test_the_statement_timeout_can_be_turned_off(raw: str) -> None:
    assert Settings.from_env({"DB_STATEMENT_TIMEOUT": raw}).db_statement_timeout is None


def test_off_is_not_a_pool_timeout() -> None:
    with pytest.raises(SettingsError) as excinfo:
        Settings.from_env({"DB_POOL_TIMEOUT": "off"})
    assert str(excinfo.value) == "DB_POOL_TIMEOUT='off' is not a valid value"
