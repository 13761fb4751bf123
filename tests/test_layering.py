"""Data walks one way: lower layers import nothing from higher ones, and imports do no work.

Each check runs in a fresh interpreter, so modules other tests imported do not count.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

WEB_AND_APP = ["strawberry", "starlette", "graphql", "uvicorn", "server", "schema"]

LOADED_PACKAGES = """
import json, sys
import {module}
print(json.dumps(sorted({{name.split(".")[0] for name in sys.modules}})))
"""


def run_python(code: str, cwd: Path, **env: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env={**os.environ, **env},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize(
    ("module", "forbidden"),
    [
        pytest.param("fast_query", WEB_AND_APP, id="fast_query"),
        pytest.param("models", ["strawberry", "server", "schema", "repositories"], id="models"),
        pytest.param("repositories", ["strawberry", "server", "schema"], id="repositories"),
    ],
)
def test_a_lower_layer_loads_nothing_from_higher_ones(
    tmp_path: Path, module: str, forbidden: list[str]
) -> None:
    loaded = json.loads(run_python(LOADED_PACKAGES.format(module=module), tmp_path))
    assert module in loaded
    assert sorted(set(loaded) & set(forbidden)) == []


IMPORT_SERVER_APP = """
import gc, json, os, sys

import sqlalchemy.engine
import sqlalchemy.ext.asyncio

import server.settings

read_settings = []


def from_env(cls, *args, **kwargs):
    read_settings.append("Settings.from_env")
    raise AssertionError("settings read at import")


server.settings.Settings.from_env = classmethod(from_env)


class SpyEnviron(dict):
    # Records reads of the server's variables (os.getenv goes through get).
    watched = {spec.upper() for spec in server.settings.Settings.__dataclass_fields__}

    def get(self, key, default=None):
        if key in self.watched:
            read_settings.append(key)
        return super().get(key, default)

    def __getitem__(self, key):
        if key in self.watched:
            read_settings.append(key)
        return super().__getitem__(key)


os.environ = SpyEnviron(os.environ)

import server.app

engines = [
    type(o).__name__
    for o in gc.get_objects()
    if isinstance(o, (sqlalchemy.engine.Engine, sqlalchemy.ext.asyncio.AsyncEngine))
]
print(json.dumps({"app": type(server.app.app).__name__, "engines": engines, "read": read_settings}))
"""


def test_importing_server_app_creates_no_engine_and_reads_no_settings(tmp_path: Path) -> None:
    output = run_python(
        IMPORT_SERVER_APP,
        tmp_path,
        DATABASE_URL="not a database url",
        GRAPHQL_MAX_DEPTH="not a number",
        DB_POOL_SIZE="not a number",
    )
    assert json.loads(output) == {"app": "Starlette", "engines": [], "read": []}


def test_importing_server_app_survives_invalid_settings(tmp_path: Path) -> None:
    """The settings are read when the application starts, not when it is imported."""
    output = run_python(
        "import server.app; print(type(server.app.app).__name__)",
        tmp_path,
        DATABASE_URL="not a database url",
        INTROSPECTION="maybe",
    )
    assert output == "Starlette\n"
