"""The ``ftf`` console script (and ``python -m server``), run from outside the repository."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Ftf

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"
COMMANDS = ("serve", "migrate", "seed", "export-schema")


@pytest.mark.parametrize("module", [pytest.param(False, id="ftf"), pytest.param(True, id="module")])
def test_help_lists_the_commands(ftf: Ftf, module: bool) -> None:
    result = ftf("--help", module=module)
    assert result.returncode == 0, result.stderr
    listed = {line.strip("│ ").split(" ")[0] for line in result.stdout.splitlines()}
    assert set(COMMANDS) <= listed


def test_migrate_then_seed_on_a_sqlite_file(ftf: Ftf, tmp_path: Path) -> None:
    database = tmp_path / "app.db"
    url = f"sqlite+aiosqlite:///{database}"

    migrated = ftf("migrate", database_url=url)
    assert migrated.returncode == 0, migrated.stderr
    assert database.exists()

    seeded = ftf("seed", "--users", "5", database_url=url)
    assert seeded.returncode == 0, seeded.stderr
    assert seeded.stdout.splitlines()[-1].startswith("seeded 5 users, ")


def test_the_default_database_is_app_db_in_the_working_directory(ftf: Ftf, tmp_path: Path) -> None:
    migrated = ftf("migrate", module=True)
    assert migrated.returncode == 0, migrated.stderr
    assert (tmp_path / "app.db").exists()


@pytest.mark.parametrize("module", [pytest.param(False, id="ftf"), pytest.param(True, id="module")])
def test_export_schema_prints_the_committed_sdl(ftf: Ftf, module: bool) -> None:
    result = ftf("export-schema", module=module)
    assert result.returncode == 0, result.stderr
    assert result.stdout == SCHEMA_FILE.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("arguments", "database_url"),
    [
        pytest.param(
            ("--json",), "postgresql+asyncpg://nobody@127.0.0.1:1/nowhere", id="json-unreachable"
        ),
        pytest.param(("--json",), "not a database url", id="json-malformed"),
        pytest.param((), "sqlite+aiosqlite:////nonexistent/directory/app.db", id="sdl-unreachable"),
    ],
)
def test_export_schema_needs_no_database(
    ftf: Ftf, live_schema: dict[str, str], arguments: tuple[str, ...], database_url: str
) -> None:
    result = ftf("export-schema", *arguments, database_url=database_url)
    assert result.returncode == 0, result.stderr
    if arguments:
        introspection = json.loads(result.stdout)
        assert list(introspection) == ["__schema"]
        assert introspection == json.loads(live_schema["json"])
    else:
        assert result.stdout == live_schema["sdl"]


@pytest.mark.parametrize(
    ("arguments", "relative", "kind"),
    [
        pytest.param(("-o",), False, "sdl", id="sdl-absolute"),
        pytest.param(("--json", "--output"), True, "json", id="json-relative"),
    ],
)
def test_export_schema_writes_the_file(
    ftf: Ftf,
    tmp_path: Path,
    live_schema: dict[str, str],
    arguments: tuple[str, ...],
    relative: bool,
    kind: str,
) -> None:
    target = tmp_path / f"schema.{kind}"

    result = ftf("export-schema", *arguments, target.name if relative else str(target))

    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    written = target.read_text(encoding="utf-8")
    if kind == "json":
        assert list(json.loads(written)) == ["__schema"]
        assert json.loads(written) == json.loads(live_schema["json"])
    else:
        assert written == live_schema["sdl"]
