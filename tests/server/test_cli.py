"""The ``ftf`` console script (and ``python -m server``), run from outside the repository."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from models import User
from schema.ids import to_global_id
from server.auth.passwords import verify_password
from tests.conftest import Ftf
from tests.server.auth.test_accounts import add_roles, add_user, stored_user
from tests.server.test_seed import read_rows

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"
COMMANDS = ("serve", "migrate", "seed", "create-user", "export-schema")


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


# -- ftf create-user -----------------------------------------------------------------

PASSWORD = "correct horse battery staple"


async def test_create_user_makes_a_user_that_can_log_in(
    database_url: str, committed_engine: AsyncEngine, ftf: Ftf
) -> None:
    await add_roles(committed_engine, "admin", "editor", "reader")

    result = ftf(
        "create-user", "--name", " Ada Lovelace ", "--email", " Ada@Example.COM ",
        "--role", "admin", "--role", "editor", "--password-stdin",
        database_url=database_url, input=f"{PASSWORD}\n",
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    async with committed_engine.connect() as connection:
        [user_id] = (await connection.scalars(select(User.id))).all()
    assert result.stdout == (
        f"created user ada@example.com (id {user_id}, ID {to_global_id('User', user_id)}); "
        "roles: admin, editor\n"
    )
    assert result.stderr == ""
    user = await stored_user(committed_engine, user_id)
    assert (user["name"], user["email"], user["roles"]) == (
        "Ada Lovelace",
        "ada@example.com",
        ["admin", "editor"],
    )
    assert user["password_hash"].startswith("$argon2id$")
    assert await verify_password(PASSWORD, user["password_hash"])  # the line break is not in it
    assert PASSWORD not in repr(await read_rows(committed_engine))


BASE = {"--name": "Bo", "--email": "bo@example.com", "--role": "admin"}


@pytest.mark.parametrize(
    ("options", "stdin", "message"),
    [
        pytest.param(
            {"--email": " ADA@example.com"}, PASSWORD, "error: --email: already taken", id="taken"
        ),
        pytest.param(
            {"--email": "bo@"},
            PASSWORD,
            "error: --email: must be a valid email address",
            id="email",
        ),
        pytest.param({"--name": "   "}, PASSWORD, "error: --name: must not be blank", id="name"),
        pytest.param(
            {"--role": "wizard"}, PASSWORD, "error: --role: no role named 'wizard'", id="role"
        ),
        pytest.param(
            {}, "seven77\n", "error: password: must be 8 to 128 characters", id="password-7"
        ),
        pytest.param(
            {}, "x" * 129, "error: password: must be 8 to 128 characters", id="password-129"
        ),
        pytest.param({}, "         \n", "error: password: must not be blank", id="password-blank"),
        pytest.param({}, "", "error: password: must not be blank", id="no-password"),
        pytest.param(
            None,
            PASSWORD,
            "error: --password-stdin is required: the password is read from standard input",
            id="no-password-stdin",
        ),
    ],
)
async def test_create_user_fails_clearly_and_writes_nothing(
    database_url: str,
    committed_engine: AsyncEngine,
    ftf: Ftf,
    options: dict[str, str] | None,
    stdin: str,
    message: str,
) -> None:
    await add_roles(committed_engine, "admin")
    await add_user(committed_engine, "ada@example.com")
    before = await read_rows(committed_engine)
    arguments = [item for pair in (BASE | (options or {})).items() for item in pair]
    if options is not None:
        arguments.append("--password-stdin")

    result = ftf("create-user", *arguments, database_url=database_url, input=stdin)

    assert result.returncode == 1, result.stdout
    assert result.stderr.splitlines() == [message]
    assert result.stdout == ""
    assert await read_rows(committed_engine) == before
    if stdin.strip():
        assert stdin.strip() not in result.stderr
