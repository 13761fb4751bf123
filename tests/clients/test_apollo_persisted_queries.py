"""Apollo Client's persisted-queries link (automatic persisted queries) against ``ftf serve``.

The link hashes each document with SHA-256 (Node's crypto) and first sends
only the hash; on ``PERSISTED_QUERY_NOT_FOUND`` it sends the document too,
which the server stores; from then on the hash alone runs it, for any client.
On ``PERSISTED_QUERY_NOT_SUPPORTED`` it stops hashing and sends documents.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest

from tests.clients.conftest import Served, ftf, run_node, serve
from tests.server.processes import server_env

NO_STORE = "private, no-cache, must-revalidate"
FIRST_POSTS = """
  query FirstPosts($first: Int!) {
    posts(first: $first, orderBy: [{ field: ID }]) { totalCount nodes { id title author { name } } }
  }
"""
NEWEST_POSTS = """
  query NewestPosts($first: Int!) {
    posts(first: $first, orderBy: [{ field: ID, direction: DESC }]) { nodes { id title } }
  }
"""
BAD_LOGIN = """
  mutation BadLogin($email: String!, $password: String!) {
    login(email: $email, password: $password) { accessToken }
  }
"""


@pytest.fixture(scope="module")
def server(node: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The server as it runs by default (APQ on), over a seeded SQLite file."""
    directory = tmp_path_factory.mktemp("apq")
    database = directory / "apq.db"
    env = server_env(f"sqlite+aiosqlite:///{database}")
    ftf(directory, env, "migrate")
    ftf(directory, env, "seed", "--users", "5", "--posts-per-user", "2", "--comments-per-post", "1")
    yield from serve(directory, env, database)


@pytest.fixture(scope="module")
def server_without_apq(node: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A server with ``GRAPHQL_PERSISTED_QUERIES=false``, over an empty SQLite file."""
    directory = tmp_path_factory.mktemp("no-apq")
    database = directory / "no-apq.db"
    env = server_env(f"sqlite+aiosqlite:///{database}", GRAPHQL_PERSISTED_QUERIES="false")
    yield from serve(directory, env, database)


def apollo(node: str, served: Served, *operations: dict[str, Any], **options: Any) -> Any:
    plan = {"url": served.url, "operations": list(operations), "get": False, **options}
    return run_node(node, "apollo_apq.mjs", json.dumps(plan))


def stored(served: Served) -> dict[str, tuple[str, bool]]:
    """The server's persisted documents: id -> (document, trusted)."""
    with sqlite3.connect(served.database) as connection:
        rows = connection.execute("SELECT id, document, trusted FROM persisted_documents")
        return {key: (document, bool(trusted)) for key, document, trusted in rows}


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_the_link_registers_a_document_then_sends_only_its_hash(node: str, server: Served) -> None:
    query = {"query": FIRST_POSTS, "variables": {"first": 3}}
    run = apollo(
        node, server, {**query, "client": 1}, {**query, "client": 1}, {**query, "client": 2}
    )

    first, registration, by_hash, other_client = run["requests"]
    # Apollo Client 4 asks for application/graphql-response+json: the refusal is a 400 it reads.
    assert first == {
        "method": "POST",
        "query": None,
        "persistedQuery": registration["persistedQuery"],
        "status": 400,
        "cacheControl": NO_STORE,
        "codes": ["PERSISTED_QUERY_NOT_FOUND"],
    }
    document = registration["query"]
    assert registration["method"] == "POST"
    assert registration["persistedQuery"] == {"version": 1, "sha256Hash": sha256(document)}
    assert (registration["status"], registration["codes"]) == (200, [])
    for hashed in (by_hash, other_client):
        assert hashed["query"] is None
        assert hashed["persistedQuery"] == registration["persistedQuery"]
        assert (hashed["method"], hashed["status"], hashed["codes"]) == ("POST", 200, [])
    assert stored(server)[sha256(document)] == (document, False)

    results = run["results"]
    assert [result["error"] for result in results] == [None] * 3
    assert results[0]["data"] == results[1]["data"] == results[2]["data"]
    assert len(results[0]["data"]["posts"]["nodes"]) == 3


def test_hashed_queries_over_get_and_mutations_over_post(node: str, server: Served) -> None:
    query = {"query": NEWEST_POSTS, "variables": {"first": 2}, "client": 1}
    login = {"email": "nobody@example.com", "password": "not-the-password"}
    mutation = {"query": BAD_LOGIN, "variables": login, "mutation": True, "client": 1}
    run = apollo(node, server, query, query, mutation, get=True, accept="application/json")

    asked = [
        (r["method"], r["query"] is not None, r["status"], r["codes"]) for r in run["requests"]
    ]
    assert asked == [
        ("GET", False, 200, ["PERSISTED_QUERY_NOT_FOUND"]),  # 200: the client asked for JSON
        ("POST", True, 200, []),  # the link registers over POST
        ("GET", False, 200, []),  # a URL a CDN may cache
        ("POST", False, 200, ["PERSISTED_QUERY_NOT_FOUND"]),  # never a mutation over GET
        ("POST", True, 200, ["UNAUTHENTICATED"]),
    ]
    assert run["requests"][0]["cacheControl"] == NO_STORE
    results = run["results"]
    assert results[0]["data"] == results[1]["data"]
    assert len(results[0]["data"]["posts"]["nodes"]) == 2
    assert results[2]["data"] == {"login": None}
    assert results[2]["error"]["name"] == "CombinedGraphQLErrors"
    mutation_hash = run["requests"][3]["persistedQuery"]["sha256Hash"]
    assert stored(server)[mutation_hash][0] == run["requests"][4]["query"]


def test_a_server_without_apq_gets_documents_from_then_on(
    node: str, server_without_apq: Served
) -> None:
    query = {"query": FIRST_POSTS, "variables": {"first": 3}, "client": 1}
    run = apollo(node, server_without_apq, query, query)

    asked = [(r["query"] is not None, r["persistedQuery"] is not None) for r in run["requests"]]
    assert asked == [(False, True), (True, False), (True, False)]
    assert run["requests"][0]["codes"] == ["PERSISTED_QUERY_NOT_SUPPORTED"]
    assert [result["error"] for result in run["results"]] == [None, None]
    assert run["results"][0]["data"] == {"posts": {"__typename": "PostConnection", **EMPTY}}
    assert stored(server_without_apq) == {}


EMPTY: dict[str, Any] = {"totalCount": 0, "nodes": []}
