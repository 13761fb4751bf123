"""Persisted documents over HTTP (``server.persisted``): APQ and trusted documents.

Each test runs apps of its own over the shared test database (SQLite and
PostgreSQL), so every process-local cache starts empty; each uses documents
no other test sends (a fresh operation name), so the rows the others left
change nothing. ``tests/clients`` drives the same server with Apollo Client
and GraphQL Code Generator's output.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from models import persisted_documents
from server.persisted import (
    MAX_REGISTERED_LENGTH,
    ManifestError,
    import_documents,
    read_manifest,
    sha256_hex,
)
from server.settings import Settings, SettingsError
from tests.api import StatementCounter
from tests.conftest import Ftf
from tests.server.conftest import running

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"
NOT_FOUND = {
    "errors": [
        {"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}
    ]
}
NOT_SUPPORTED = {
    "errors": [
        {
            "message": "PersistedQueryNotSupported",
            "extensions": {"code": "PERSISTED_QUERY_NOT_SUPPORTED"},
        }
    ]
}
NO_STORE = "private, no-cache, must-revalidate"

App = tuple[Starlette, httpx.AsyncClient]
Start = Callable[..., AbstractAsyncContextManager[App]]


@pytest.fixture
def start(database_url: str) -> Start:
    """``async with start(graphql_trusted_documents="only") as (app, http):`` on the test DB."""

    @asynccontextmanager
    async def run(**settings: Any) -> AsyncIterator[App]:
        async with running(Settings(database_url=database_url, **settings)) as started:
            yield started

    return run


def typename_query() -> tuple[str, str]:
    """A document no other test sends, and its hash."""
    query = f"query Q{uuid.uuid4().hex} {{ __typename }}"
    return query, sha256_hex(query)


def apq(sha256: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256}}


async def stored(engine: AsyncEngine, key: str) -> tuple[str, bool] | None:
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                select(persisted_documents.c.document, persisted_documents.c.trusted).where(
                    persisted_documents.c.id == key
                )
            )
        ).first()
    return None if row is None else (row[0], row[1])


async def app_engine(app: Starlette) -> AsyncEngine:
    engine: AsyncEngine = await app.state.container.get(AsyncEngine)
    return engine


def refused(response: httpx.Response, body: dict[str, Any], status: int = 200) -> None:
    assert response.status_code == status, response.text
    assert response.json() == body
    assert response.headers["cache-control"] == NO_STORE


def bad_request(response: httpx.Response) -> str:
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "BAD_REQUEST"}
    return str(error["message"])


# -- automatic persisted queries --------------------------------------------------------------


async def test_an_unknown_hash_is_not_found_as_apollo_clients_expect(start: Start) -> None:
    _, sha256 = typename_query()
    async with start() as (_, http):
        as_json = await http.post("/graphql", json={"extensions": apq(sha256)})
        as_graphql = await http.post(
            "/graphql", json={"extensions": apq(sha256)}, headers={"Accept": GRAPHQL_RESPONSE}
        )
        by_get = await http.get("/graphql", params={"extensions": json.dumps(apq(sha256))})

    refused(as_json, NOT_FOUND)
    assert as_json.headers["content-type"] == JSON
    refused(as_graphql, NOT_FOUND, 400)  # a request error, as the contract has them
    assert as_graphql.headers["content-type"] == GRAPHQL_RESPONSE
    refused(by_get, NOT_FOUND)


async def test_a_document_sent_with_its_hash_is_stored_and_then_runs_by_hash(start: Start) -> None:
    query, sha256 = typename_query()
    async with start() as (app, http):
        engine = await app_engine(app)
        first = await http.post("/graphql", json={"extensions": apq(sha256)})
        registered = await http.post("/graphql", json={"query": query, "extensions": apq(sha256)})
        assert await stored(engine, sha256) == (query, False)
        with StatementCounter(engine) as sql:
            again = await http.post("/graphql", json={"extensions": apq(sha256)})
            again_with_query = await http.post(
                "/graphql", json={"query": query, "extensions": apq(sha256)}
            )
        assert sql.count == 0  # this process remembers it: no lookup, no second insert
        assert query in app.state.graphql._prepared  # parsed once, by text, whichever way it came

    refused(first, NOT_FOUND)
    assert registered.json() == {"data": {"__typename": "Query"}}
    assert "cache-control" not in registered.headers
    assert again.json() == {"data": {"__typename": "Query"}}
    assert again_with_query.json() == {"data": {"__typename": "Query"}}

    async with start() as (app, http):  # another process: it reads the database
        with StatementCounter(await app_engine(app)) as sql:
            elsewhere = await http.post("/graphql", json={"extensions": apq(sha256)})
        assert sql.count == 1
    assert elsewhere.json() == {"data": {"__typename": "Query"}}


async def test_a_long_document_runs_but_is_not_stored(start: Start) -> None:
    """Registering is for the documents clients send, not a megabyte of comments."""
    short, _ = typename_query()
    query = short + "\n#" + "x" * MAX_REGISTERED_LENGTH
    sha256 = sha256_hex(query)
    async with start() as (app, http):
        answered = await http.post("/graphql", json={"query": query, "extensions": apq(sha256)})
        assert await stored(await app_engine(app), sha256) is None
    assert answered.json() == {"data": {"__typename": "Query"}}


async def test_the_hash_must_be_the_documents(start: Start) -> None:
    query, _ = typename_query()
    other = sha256_hex(query + " ")
    async with start() as (app, http):
        response = await http.post("/graphql", json={"query": query, "extensions": apq(other)})
        sha1 = hashlib.sha1(query.encode()).hexdigest()
        not_sha256 = await http.post("/graphql", json={"query": query, "extensions": apq(sha1)})
        engine = await app_engine(app)
        assert await stored(engine, other) is None
        assert await stored(engine, sha256_hex(query)) is None

    assert bad_request(response) == "provided sha does not match query"
    assert bad_request(not_sha256) == "provided sha does not match query"


async def test_a_document_that_does_not_validate_is_not_stored(start: Start) -> None:
    query = f"query Q{uuid.uuid4().hex} {{ nope }}"
    async with start() as (app, http):
        response = await http.post(
            "/graphql", json={"query": query, "extensions": apq(sha256_hex(query))}
        )
        assert await stored(await app_engine(app), sha256_hex(query)) is None

    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


@pytest.mark.parametrize(
    ("extensions", "message"),
    [
        ({"persistedQuery": "abc"}, "`extensions.persistedQuery` must be an object."),
        ({"persistedQuery": {"version": 2, "sha256Hash": "a"}}, "Unsupported persisted query"),
        ({"persistedQuery": {"version": True, "sha256Hash": "a"}}, "Unsupported persisted query"),
        ({"persistedQuery": {"version": 1}}, "`extensions.persistedQuery.sha256Hash` must be"),
        ({"persistedQuery": {"version": 1, "sha256Hash": 7}}, "`extensions.persistedQuery.sha2"),
    ],
)
async def test_a_malformed_extension_is_a_bad_request(
    start: Start, extensions: dict[str, Any], message: str
) -> None:
    async with start() as (_, http):
        response = await http.post("/graphql", json={"extensions": extensions})

    assert bad_request(response).startswith(message)


async def test_get_with_only_the_hash_runs_a_query(start: Start) -> None:
    query = f"query Q{uuid.uuid4().hex}($n: Int) {{ __typename roles(first: $n) {{ totalCount }} }}"
    sha256 = sha256_hex(query)
    name = query.split()[1].split("(")[0]
    async with start() as (_, http):
        await http.post("/graphql", json={"query": query, "extensions": apq(sha256)})
        response = await http.get(
            "/graphql",
            params={
                "operationName": name,
                "variables": json.dumps({"n": 1}),
                "extensions": json.dumps(apq(sha256)),
            },
        )

    assert response.status_code == 200, response.text
    assert response.json()["data"]["__typename"] == "Query"


async def test_a_mutation_by_hash_over_get_is_405(start: Start) -> None:
    # Fails harmlessly when it runs (a malformed ID): registering it changes nothing.
    query = f'mutation M{uuid.uuid4().hex} {{ deleteComment(id: "nope") {{ id }} }}'
    sha256 = sha256_hex(query)
    async with start() as (_, http):
        posted = await http.post("/graphql", json={"query": query, "extensions": apq(sha256)})
        response = await http.get("/graphql", params={"extensions": json.dumps(apq(sha256))})
        by_id = await http.get("/graphql", params={"documentId": f"sha256:{sha256}"})

    assert posted.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    for refused_get in (response, by_id):
        assert refused_get.status_code == 405
        assert refused_get.headers["allow"] == "POST"


async def test_turned_off_apq_answers_not_supported(start: Start) -> None:
    query, sha256 = typename_query()
    async with start(graphql_persisted_queries=False) as (app, http):
        hash_only = await http.post("/graphql", json={"extensions": apq(sha256)})
        with_query = await http.post("/graphql", json={"query": query, "extensions": apq(sha256)})
        plain = await http.post("/graphql", json={"query": query})
        assert await stored(await app_engine(app), sha256) is None

    refused(hash_only, NOT_SUPPORTED)
    refused(with_query, NOT_SUPPORTED)  # Apollo's link then sends the query alone
    assert plain.json() == {"data": {"__typename": "Query"}}


async def test_a_plain_request_costs_no_statement(start: Start) -> None:
    query, _ = typename_query()
    async with start() as (app, http):
        with StatementCounter(await app_engine(app)) as sql:
            response = await http.post("/graphql", json={"query": query})
            by_get = await http.get("/graphql", params={"query": query})
            extensions = await http.post(
                "/graphql", json={"query": query, "extensions": {"tracing": True}}
            )
        assert sql.count == 0

    for answer in (response, by_get, extensions):
        assert answer.json() == {"data": {"__typename": "Query"}}


async def test_concurrent_registrations_store_one_row(start: Start) -> None:
    query, sha256 = typename_query()
    body = {"query": query, "extensions": apq(sha256)}
    async with start() as (app, one), start() as (_, two):
        answers = await asyncio.gather(*(http.post("/graphql", json=body) for http in (one, two)))
        assert await stored(await app_engine(app), sha256) == (query, False)

    assert [answer.json() for answer in answers] == [{"data": {"__typename": "Query"}}] * 2


# -- documentId and trusted documents ---------------------------------------------------------


async def test_document_id_names_a_stored_document(
    start: Start, database_url: str, engine: AsyncEngine
) -> None:
    query, sha256 = typename_query()
    await import_documents(engine, read_manifest(json.dumps({f"sha256:{sha256}": query})))
    async with start() as (_, http):
        posted = await http.post("/graphql", json={"documentId": f"sha256:{sha256}"})
        by_get = await http.get("/graphql", params={"documentId": f"sha256:{sha256}"})
        unknown = await http.post("/graphql", json={"documentId": f"sha256:{'0' * 64}"})
        too_long = await http.post("/graphql", json={"documentId": "x" * 1000})
        both = await http.post("/graphql", json={"documentId": sha256, "query": query})
        twice = await http.post("/graphql", json={"documentId": sha256, "extensions": apq(sha256)})
        not_a_string = await http.post("/graphql", json={"documentId": 12})

    assert posted.json() == {"data": {"__typename": "Query"}}
    assert by_get.json() == {"data": {"__typename": "Query"}}
    refused(unknown, NOT_FOUND)
    refused(too_long, NOT_FOUND)
    assert bad_request(both) == "Send either `query` or `documentId`, not both."
    assert bad_request(twice).startswith("Name the document once")
    assert bad_request(not_a_string).startswith("`documentId` must be a string")


async def test_only_trusted_documents_run_when_only_they_may(
    start: Start, engine: AsyncEngine
) -> None:
    trusted, trusted_sha256 = typename_query()
    custom = f"query Q{uuid.uuid4().hex} {{ __typename }}"
    custom_id = f"custom-{uuid.uuid4().hex}"  # a manifest made with a hash function of its own
    manifest = {f"sha256:{trusted_sha256}": trusted, custom_id: custom}
    await import_documents(engine, read_manifest(json.dumps(manifest)))
    registered, registered_sha256 = typename_query()
    async with start() as (_, http):  # a client registers one while anything may run
        await http.post(
            "/graphql", json={"query": registered, "extensions": apq(registered_sha256)}
        )
    arbitrary, arbitrary_sha256 = typename_query()
    ran = {"data": {"__typename": "Query"}}

    async with start(graphql_trusted_documents="only") as (app, http):
        runs = [
            # The client preset's documented fetcher: its `sha256:` id as the APQ hash.
            await http.post("/graphql", json={"extensions": apq(f"sha256:{trusted_sha256}")}),
            await http.post("/graphql", json={"extensions": apq(trusted_sha256)}),
            await http.post("/graphql", json={"documentId": f"sha256:{trusted_sha256}"}),
            await http.post("/graphql", json={"documentId": custom_id}),
            await http.post("/graphql", json={"query": trusted}),  # its full text
            await http.get("/graphql", params={"query": trusted}),
        ]
        unknown_hash = await http.post("/graphql", json={"extensions": apq(arbitrary_sha256)})
        untrusted_hash = await http.post("/graphql", json={"extensions": apq(registered_sha256)})
        untrusted_text = await http.post("/graphql", json={"query": registered})
        arbitrary_text = await http.post(
            "/graphql", json={"query": arbitrary}, headers={"Accept": GRAPHQL_RESPONSE}
        )
        registration = await http.post(
            "/graphql", json={"query": arbitrary, "extensions": apq(arbitrary_sha256)}
        )
        introspection = await http.post(
            "/graphql", json={"query": "{ __schema { types { name } } }"}
        )
        assert await stored(await app_engine(app), arbitrary_sha256) is None

    for response in runs:
        assert response.json() == ran, response.text
    refused(unknown_hash, NOT_FOUND)
    refused(untrusted_hash, NOT_FOUND)  # stored, but a client's, not trusted
    for response in (untrusted_text, registration, introspection):
        refused(response, not_trusted())
    refused(arbitrary_text, not_trusted(), 400)


def not_trusted() -> dict[str, Any]:
    message = (
        "This server runs only its trusted documents, and this is not one of them "
        "(send a document of the client's persisted-documents manifest, by its id)."
    )
    return {"errors": [{"message": message, "extensions": {"code": "QUERY_NOT_IN_SAFELIST"}}]}


async def test_a_trusted_document_read_once_costs_no_statement_after(
    start: Start, engine: AsyncEngine
) -> None:
    query, sha256 = typename_query()
    await import_documents(engine, read_manifest(json.dumps({f"sha256:{sha256}": query})))
    async with start(graphql_trusted_documents="only") as (app, http):
        with StatementCounter(await app_engine(app)) as sql:
            await http.post("/graphql", json={"query": query})
            assert sql.count == 1
            await http.post("/graphql", json={"query": query})
            await http.post("/graphql", json={"extensions": apq(sha256)})
            assert sql.count == 1


# -- importing a manifest ---------------------------------------------------------------------


async def test_importing_is_idempotent_and_trusts_registered_documents(
    start: Start, engine: AsyncEngine
) -> None:
    registered, registered_sha256 = typename_query()
    async with start() as (_, http):
        await http.post(
            "/graphql", json={"query": registered, "extensions": apq(registered_sha256)}
        )
    fresh, fresh_sha256 = typename_query()
    manifest = read_manifest(
        json.dumps({f"sha256:{registered_sha256}": registered, fresh_sha256: fresh})
    )

    first = await import_documents(engine, manifest)
    again = await import_documents(engine, manifest)

    assert (first.new, first.known) == (2, 0)
    assert (again.new, again.known) == (0, 2)
    assert await stored(engine, registered_sha256) == (registered, True)
    assert await stored(engine, fresh_sha256) == (fresh, True)


async def test_an_id_stored_with_another_document_refuses_the_whole_import(
    engine: AsyncEngine,
) -> None:
    custom_id = f"custom-{uuid.uuid4().hex}"
    first, _ = typename_query()
    await import_documents(engine, {custom_id: first})
    other, other_sha256 = typename_query()

    with pytest.raises(ManifestError, match="already stored with another document"):
        await import_documents(engine, {other_sha256: other, custom_id: other})

    assert await stored(engine, custom_id) == (first, True)
    assert await stored(engine, other_sha256) is None


@pytest.mark.parametrize(
    ("manifest", "problem"),
    [
        ("[]", "not a manifest"),
        ("{", "not JSON"),
        ('{"sha256:abc": "query { a }"}', "64 lower-case hex digits"),
        (json.dumps({f"sha256:{'0' * 64}": "query { a }"}), "not the SHA-256 of its document"),
        ('{"a b": "query { a }"}', "no spaces"),
        ('{"x": 1}', "must be a non-empty string"),
        ('{"x": "  "}', "must be a non-empty string"),
    ],
)
def test_a_manifest_that_is_not_one_is_refused(manifest: str, problem: str) -> None:
    with pytest.raises(ManifestError, match=problem):
        read_manifest(manifest)


def test_the_command_imports_a_manifest_and_says_how_many_were_new(
    ftf: Ftf, database_url: str, tmp_path: Any
) -> None:
    query, sha256 = typename_query()
    manifest = tmp_path / "persisted-documents.json"
    manifest.write_text(json.dumps({f"sha256:{sha256}": query}), encoding="utf-8")
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({f"sha256:{'0' * 64}": query}), encoding="utf-8")

    first = ftf("documents", "import", str(manifest), database_url=database_url)
    again = ftf("documents", "import", str(manifest), database_url=database_url)
    refused_import = ftf("documents", "import", str(broken), database_url=database_url)

    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == (
        "1 new trusted documents, 0 already trusted (persisted-documents.json)"
    )
    assert again.stdout.strip() == (
        "0 new trusted documents, 1 already trusted (persisted-documents.json)"
    )
    assert refused_import.returncode == 1
    assert "not the SHA-256 of its document" in refused_import.stderr


async def test_registrations_past_the_maximum_drop_the_oldest_and_spare_trusted_ones(
    start: Start, engine: AsyncEngine
) -> None:
    trusted, trusted_sha256 = typename_query()
    await import_documents(engine, {trusted_sha256: trusted})
    documents = [typename_query() for _ in range(5)]
    async with start(graphql_persisted_queries_max=3) as (_, http):
        for query, sha256 in documents:
            answered = await http.post("/graphql", json={"query": query, "extensions": apq(sha256)})
            assert answered.json() == {"data": {"__typename": "Query"}}

    async with engine.connect() as connection:
        registered = set(
            await connection.scalars(
                select(persisted_documents.c.id).where(persisted_documents.c.trusted.is_(False))
            )
        )
    assert registered == {sha256 for _query, sha256 in documents[2:]}
    assert await stored(engine, trusted_sha256) == (trusted, True)
    async with start() as (_, http):  # another process: the oldest is gone, to be sent again
        oldest = await http.post("/graphql", json={"extensions": apq(documents[0][1])})
    refused(oldest, NOT_FOUND)


def test_the_maximum_must_keep_one() -> None:
    with pytest.raises(SettingsError, match="GRAPHQL_PERSISTED_QUERIES_MAX must be at least 1"):
        Settings(graphql_persisted_queries_max=0)
