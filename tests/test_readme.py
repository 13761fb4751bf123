"""The README's examples work as printed."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import NonNullTypeNode, OperationDefinitionNode, parse
from sqlalchemy.ext.asyncio import AsyncEngine

from server.app import create_app
from server.seed import DEFAULT_PASSWORD, SeedPlan, admin_email, seed
from server.settings import Settings
from tests.api import GraphQL

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_block(heading: str) -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split(f"## {heading}", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, f"no python block under {heading!r}"
    return match.group(1)


def test_standalone_fast_query_example_runs_and_prints_what_it_says(tmp_path: Path) -> None:
    script = tmp_path / "example.py"
    script.write_text(_python_block("fast_query on its own"), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "['GraphQL', 'SQL']"
    assert "WHERE notes.stars >= 4 AND notes.deleted_at IS NULL ORDER BY notes.stars DESC" in (
        " ".join(lines)
    )
    assert lines[-2] == "2 3"
    assert lines[-1] == "['SQL', 'REST'] 2 1"


def _section(heading: str) -> str:
    text = README.read_text(encoding="utf-8")
    assert f"\n## {heading}\n" in text, f"no section {heading!r}"
    return text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]


def _graphql_blocks(heading: str) -> list[str]:
    return re.findall(r"```graphql\n(.*?)```", _section(heading), re.DOTALL)


def _declared_variables(document: str) -> dict[str, bool]:
    """The operation's variables: name -> required (non-null without a default)."""
    [operation] = [d for d in parse(document).definitions if isinstance(d, OperationDefinitionNode)]
    return {
        definition.variable.name.value: isinstance(definition.type, NonNullTypeNode)
        and definition.default_value is None
        for definition in operation.variable_definitions or ()
    }


def _values_of(data: Any, key: str) -> list[Any]:
    """Every value stored under ``key`` anywhere in ``data``."""
    if isinstance(data, dict):
        found = [data[key]] if key in data else []
        return found + [v for value in data.values() for v in _values_of(value, key)]
    if isinstance(data, list):
        return [v for item in data for v in _values_of(item, key)]
    return []


PLAN = SeedPlan(users=10, posts_per_user=3, comments_per_post=2)


@pytest.fixture
async def seeded_api(
    database_url: str, committed_engine: AsyncEngine
) -> AsyncIterator[httpx.AsyncClient]:
    """The app over the test database filled with a small demo dataset (emptied afterwards)."""
    await seed(committed_engine, PLAN)
    application = create_app(Settings(database_url=database_url))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


async def test_the_graphiql_session_examples_run_without_errors(
    seeded_api: httpx.AsyncClient,
) -> None:
    blocks = _graphql_blocks("A GraphiQL session")
    assert len(blocks) >= 8
    graphql = GraphQL(seeded_api)
    # What a reader would copy from the first results into the Variables pane.
    ids = await graphql.data(
        '{ users(first: 1) { nodes { id } } roles(where: {name: {eq: "editor"}}) { nodes { id } } }'
    )
    user = ids["users"]["nodes"][0]["id"]
    values: dict[str, Any] = {
        "id": user,
        "userId": user,
        "authorId": user,
        "roleId": ids["roles"]["nodes"][0]["id"],
        # As `ftf seed` prints them.
        "email": admin_email(PLAN),
        "password": DEFAULT_PASSWORD,
    }

    for document in blocks:
        declared = _declared_variables(document)
        missing = [name for name, required in declared.items() if required and name not in values]
        assert not missing, f"no value for {missing} in:\n{document}"
        variables = {name: values[name] for name in declared if name in values}
        data = await graphql.data(document, variables)
        assert data, document
        if "login" in data:
            # Pasted into the Headers pane: every request after this one is the admin's.
            token = data["login"]["accessToken"]
            seeded_api.headers["Authorization"] = f"Bearer {token}"
        if "createPost" in data:
            values["postId"] = data["createPost"]["id"]
        if "after" in declared:
            # The next page, as the text says.
            [cursor] = _values_of(data, "endCursor")
            assert cursor is not None
            await graphql.data(document, variables | {"after": cursor})

    assert "Authorization" in seeded_api.headers
    assert "postId" in values
