"""GraphQL Code Generator's persisted documents as the trusted documents of ``ftf serve``.

The client preset (``persistedDocuments: true``, ``codegen.mjs``) turns the
README's example operations (its GraphiQL session) into typed documents that
carry their ``sha256:`` id, against the committed ``schema.graphql``, and
writes ``persisted-documents.json``. ``ftf documents import`` trusts that
manifest, and a server with ``GRAPHQL_TRUSTED_DOCUMENTS=only`` runs those
operations, sent as the preset's docs show, and nothing else.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.seed import DEFAULT_PASSWORD, SeedPlan, admin_email
from tests.clients.conftest import (
    CLIENTS_DIR,
    COMMAND_TIMEOUT,
    Served,
    ftf,
    run_node,
    serve,
)
from tests.server.processes import server_env

ROOT = CLIENTS_DIR.parents[1]
SEED = SeedPlan(users=5, posts_per_user=2, comments_per_post=1)
NOT_TRUSTED = "QUERY_NOT_IN_SAFELIST"


def readme_operations() -> dict[str, str]:
    """The README's example operations (its GraphiQL session), by name."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## A GraphiQL session\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```graphql\n(.*?)```", section, re.DOTALL)
    return {operation_name(block): block for block in blocks}


def operation_name(document: str) -> str:
    found = re.match(r"(?:query|mutation) (\w+)", document)
    assert found is not None, document
    return found.group(1)


@pytest.fixture(scope="module")
def generated(node: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder the client preset wrote, ``persisted-documents.json`` included."""
    directory = tmp_path_factory.mktemp("codegen")
    operations = directory / "operations"
    operations.mkdir()
    for name, document in readme_operations().items():
        (operations / f"{name}.graphql").write_text(document, encoding="utf-8")
    out = directory / "gql"
    env = {
        "PATH": str(Path(node).parent),
        "FTF_SCHEMA": str(ROOT / "schema.graphql"),
        "FTF_DOCUMENTS": f"{operations}/*.graphql",
        "FTF_OUT": str(out),
    }
    command = [node, "node_modules/.bin/graphql-codegen", "--config", "codegen.mjs"]
    done = subprocess.run(
        command, cwd=CLIENTS_DIR, capture_output=True, text=True, timeout=COMMAND_TIMEOUT, env=env
    )
    assert done.returncode == 0, f"graphql-codegen failed:\n{done.stdout[-3000:]}{done.stderr}"
    return out


@pytest.fixture(scope="module")
def imports(generated: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A seeded SQLite file with the manifest imported twice: the two outputs, and its env."""
    directory = tmp_path_factory.mktemp("trusted")
    database = directory / "trusted.db"
    env = server_env(f"sqlite+aiosqlite:///{database}", GRAPHQL_TRUSTED_DOCUMENTS="only")
    ftf(directory, env, "migrate")
    ftf(directory, env, "seed", "--users", "5", "--posts-per-user", "2", "--comments-per-post", "1")
    manifest = str(generated / "persisted-documents.json")
    outputs = [ftf(directory, env, "documents", "import", manifest) for _ in range(2)]
    yield outputs, directory, env, database


@pytest.fixture(scope="module")
def server(imports: Any) -> Iterator[Served]:
    """``ftf serve`` with ``GRAPHQL_TRUSTED_DOCUMENTS=only`` over the imported manifest."""
    _, directory, env, database = imports
    yield from serve(directory, env, database)


def manifest(generated: Path) -> dict[str, str]:
    loaded: dict[str, str] = json.loads((generated / "persisted-documents.json").read_text())
    return loaded


def test_the_preset_writes_a_manifest_of_the_readme_operations(
    generated: Path, imports: Any
) -> None:
    documents = manifest(generated)
    assert {operation_name(text) for text in documents.values()} == set(readme_operations())
    for key, document in documents.items():
        assert key == f"sha256:{hashlib.sha256(document.encode()).hexdigest()}"
    outputs, *_ = imports
    count = len(documents)
    assert outputs[0].strip() == (
        f"{count} new trusted documents, 0 already trusted (persisted-documents.json)"
    )
    assert outputs[1].strip() == (
        f"0 new trusted documents, {count} already trusted (persisted-documents.json)"
    )


def test_the_manifests_operations_run_as_the_preset_sends_them(
    node: str, server: Served, generated: Path
) -> None:
    email = admin_email(SEED)
    operations = [
        {"name": "SomeIds", "variables": {}, "via": "extensions"},
        {"name": "RecentPosts", "variables": {}, "via": "extensions"},
        {"name": "UsersByName", "variables": {"after": None}, "via": "extensions"},
        {"name": "AuthorsAndTheirPosts", "variables": {}, "via": "extensions"},
        {"name": "WhoAmI", "variables": {}, "via": "documentId"},
        {
            "name": "SignIn",
            "variables": {"email": email, "password": DEFAULT_PASSWORD},
            "via": "documentId",
        },
    ]
    plan = {"url": server.url, "generated": str(generated), "operations": operations}
    answers = run_node(node, "codegen_fetch.mjs", json.dumps(plan))

    for operation, answer in zip(operations, answers, strict=True):
        assert answer["hash"].startswith("sha256:")
        assert answer["status"] == 200, (operation, answer)
        assert "errors" not in answer["body"], (operation, answer)
    some_ids, _, users, _, who, sign_in = (answer["body"]["data"] for answer in answers)
    assert some_ids["users"]["nodes"] and some_ids["roles"]["nodes"][0]["name"] == "editor"
    assert len(users["users"]["edges"]) == 3
    assert who == {"viewer": None}  # anonymous
    assert sign_in["login"]["viewer"]["email"] == email
    assert sign_in["login"]["accessToken"]


def refusal(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    [error] = response.json()["errors"]
    return str(error["extensions"]["code"])


def test_anything_else_is_refused(server: Served, generated: Path) -> None:
    as_written = readme_operations()["SomeIds"]  # the same operation, not the manifest's text
    [normalized] = [text for text in manifest(generated).values() if "SomeIds" in text]
    arbitrary = "{ users(first: 100) { nodes { email } } }"
    introspection = {"query": "{ __schema { types { name } } }"}
    arbitrary_hash = hashlib.sha256(arbitrary.encode()).hexdigest()
    persisted_query = {"persistedQuery": {"version": 1, "sha256Hash": arbitrary_hash}}
    with sqlite3.connect(server.database) as connection:
        before = connection.execute("SELECT count(*) FROM persisted_documents").fetchone()

    with httpx.Client(base_url=server.url, timeout=10) as http:
        trusted_text = http.post("/graphql", json={"query": normalized})
        answers = {
            "arbitrary": http.post("/graphql", json={"query": arbitrary}),
            "reformatted": http.post("/graphql", json={"query": as_written}),
            "registration": http.post(
                "/graphql", json={"query": arbitrary, "extensions": persisted_query}
            ),
            "introspection": http.get("/graphql", params=introspection),
            "unknown hash": http.post("/graphql", json={"extensions": persisted_query}),
            "unknown id": http.post("/graphql", json={"documentId": f"sha256:{arbitrary_hash}"}),
        }
    with sqlite3.connect(server.database) as connection:
        after = connection.execute("SELECT count(*) FROM persisted_documents").fetchone()

    assert "errors" not in trusted_text.json()  # its exact text is trusted too
    assert {name: refusal(answer) for name, answer in answers.items()} == {
        "arbitrary": NOT_TRUSTED,
        "reformatted": NOT_TRUSTED,
        "registration": NOT_TRUSTED,
        "introspection": NOT_TRUSTED,
        "unknown hash": "PERSISTED_QUERY_NOT_FOUND",
        "unknown id": "PERSISTED_QUERY_NOT_FOUND",
    }
    assert after == before  # nothing registered
