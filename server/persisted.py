"""Persisted documents: Apollo's automatic persisted queries (APQ) and trusted documents.

A request may name its document instead of sending it, in either of the ways
clients do: ``extensions.persistedQuery = {"version": 1, "sha256Hash": H}``
(Apollo Client's persisted-queries link, and the fetcher GraphQL Code
Generator's client preset documents) or ``documentId`` (the GraphQL-over-HTTP
draft's persisted-documents appendix). An id is the document's SHA-256 in hex,
bare (Apollo) or as ``sha256:<hex>`` (the preset, the appendix), or any other
key a manifest gave it.

APQ (``GRAPHQL_PERSISTED_QUERIES``, on by default): an unknown hash answers
``PERSISTED_QUERY_NOT_FOUND``, the client sends the document with its hash,
and the server checks the hash, stores the document (once it parses and
validates) and runs it. Trusted documents are the ones ``ftf documents
import`` stored from a manifest; with ``GRAPHQL_TRUSTED_DOCUMENTS=only`` they
are all the server runs, by id or by full text, and nothing gets registered.

Documents live in ``persisted_documents`` so every process knows them; each
process remembers what it found (``_KNOWN``), so a popular document costs no
statement, and a request that names no document costs none at all unless
only trusted documents may run.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Delete, Insert, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from fast_query import autocommit_connection, connection_transaction, insert_for, utcnow
from models.documents import MAX_DOCUMENT_ID_LENGTH, persisted_documents
from server.errors import (
    PERSISTED_QUERY_NOT_FOUND,
    PERSISTED_QUERY_NOT_SUPPORTED,
    QUERY_NOT_IN_SAFELIST,
    error,
)
from server.settings import Settings

#: Apollo's messages, matched by older Apollo clients that look at the message only.
NOT_FOUND_MESSAGE = "PersistedQueryNotFound"
NOT_SUPPORTED_MESSAGE = "PersistedQueryNotSupported"
NOT_TRUSTED_MESSAGE = (
    "This server runs only its trusted documents, and this is not one of them "
    "(send a document of the client's persisted-documents manifest, by its id)."
)
#: Apollo Server's words for a hash that is not the document's.
HASH_MISMATCH_MESSAGE = "provided sha does not match query"
#: A refusal that may change (a client registers the document, an operator imports it):
#: no cache (a CDN in front of GET requests, say) keeps it. Apollo Server sends the same.
NO_STORE = {"Cache-Control": "private, no-cache, must-revalidate"}

#: Documents remembered per process, and the longest remembered (longer ones are read each time).
_KNOWN = 1024
_KNOWN_LENGTH = 16 * 1024
#: The longest document a client may register (APQ): what clients send is far shorter,
#: and a client may not fill the table a megabyte of comments at a time. A longer one
#: still runs; it is not stored.
MAX_REGISTERED_LENGTH = _KNOWN_LENGTH
#: Rows per statement when importing a manifest (well under SQLite's bound parameters).
_CHUNK = 500

_SHA256_ID = re.compile(r"(?:sha256:)?([0-9a-f]{64})")
#: A manifest's own key: no whitespace or control characters (the appendix's "custom" ids).
_CUSTOM_ID = re.compile(r"[^\s\x00-\x1f\x7f]+")


class Malformed(ValueError):
    """A persisted-document request the server cannot take as sent: 400 ``BAD_REQUEST``."""


class Refused(Exception):
    """The request's document cannot run here; ``error`` is the one entry of ``errors[]``."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.error = error(message, code)


@dataclass(frozen=True, slots=True)
class PersistedRequest:
    """How a request names its document.

    ``key`` is the ``persisted_documents.id`` it means (``None``: an id too
    long for any stored document); ``apq`` is true for Apollo's extension,
    false for ``documentId``.
    """

    key: str | None
    apq: bool


def sha256_hex(document: str) -> str:
    return hashlib.sha256(document.encode("utf-8", "surrogatepass")).hexdigest()


def document_key(identifier: str) -> str | None:
    """The stored id an identifier means: a SHA-256 with or without ``sha256:``, or itself."""
    found = _SHA256_ID.fullmatch(identifier)
    if found is not None:
        return found.group(1)
    return identifier if len(identifier) <= MAX_DOCUMENT_ID_LENGTH else None


def requested(
    document_id: object, extensions: dict[str, Any] | None, *, has_query: bool
) -> PersistedRequest | None:
    """How the request names its document, or ``None`` when it only sends it (or not at all).

    Raises:
        Malformed: an id that is not a string, an unknown APQ version,
            ``documentId`` together with ``query`` or with the extension.
    """
    extension = None if extensions is None else extensions.get("persistedQuery")
    if document_id is None and extension is None:
        return None
    if document_id is not None:
        if extension is not None:
            raise Malformed("Name the document once: `documentId` or `extensions.persistedQuery`.")
        if has_query:
            raise Malformed("Send either `query` or `documentId`, not both.")
        if not isinstance(document_id, str) or not document_id:
            raise Malformed("`documentId` must be a string naming a persisted document.")
        return PersistedRequest(document_key(document_id), apq=False)
    if not isinstance(extension, dict):
        raise Malformed("`extensions.persistedQuery` must be an object.")
    version = extension.get("version")
    if version != 1 or isinstance(version, bool):
        raise Malformed("Unsupported persisted query version: send version 1.")
    sha256 = extension.get("sha256Hash")
    if not isinstance(sha256, str) or not sha256:
        raise Malformed("`extensions.persistedQuery.sha256Hash` must be a string.")
    return PersistedRequest(document_key(sha256), apq=True)


class PersistedDocuments:
    """One process's way to the stored documents: finds, registers and checks them."""

    def __init__(self, settings: Settings, engine: Callable[[], Awaitable[AsyncEngine]]) -> None:
        self.apq = settings.graphql_persisted_queries
        self.trusted_only = settings.graphql_trusted_documents == "only"
        self.max_registered = settings.graphql_persisted_queries_max
        self._engine = engine
        # id -> document, each found or stored (only trusted ones when only those may run).
        self._known: OrderedDict[str, str] = OrderedDict()

    def involved(self, persisted: PersistedRequest | None) -> bool:
        """Whether a request needs this at all: a plain one does only when trust is required."""
        return persisted is not None or self.trusted_only

    async def document(
        self,
        query: str | None,
        persisted: PersistedRequest | None,
        registrable: Callable[[str], bool],
    ) -> str:
        """The document to run: the stored one ``persisted`` names, or ``query`` once allowed.

        A document sent with its APQ hash is registered when ``registrable``
        (it parses and validates): what fails never gets stored.

        Raises:
            Refused: not found, APQ turned off, or not trusted where only trusted ones run.
            Malformed: the hash sent is not the document's.
        """
        if persisted is not None and persisted.apq and not (self.apq or self.trusted_only):
            raise Refused(NOT_SUPPORTED_MESSAGE, PERSISTED_QUERY_NOT_SUPPORTED)
        if query is None:
            assert persisted is not None
            found = None if persisted.key is None else await self._find(persisted.key)
            if found is None:
                raise Refused(NOT_FOUND_MESSAGE, PERSISTED_QUERY_NOT_FOUND)
            return found
        key = sha256_hex(query)
        if persisted is not None and persisted.key != key:
            raise Malformed(HASH_MISMATCH_MESSAGE)
        if self.trusted_only:
            if await self._find(key) is None:
                raise Refused(NOT_TRUSTED_MESSAGE, QUERY_NOT_IN_SAFELIST)
        elif (
            persisted is not None
            and len(query) <= MAX_REGISTERED_LENGTH
            and key not in self._known
            and registrable(query)
        ):
            await self._register(key, query)
        return query

    async def _find(self, key: str) -> str | None:
        known = self._known.get(key)
        if known is not None:
            self._known.move_to_end(key)
            return known
        statement = select(persisted_documents.c.document).where(persisted_documents.c.id == key)
        if self.trusted_only:
            statement = statement.where(persisted_documents.c.trusted.is_(True))
        engine = await self._engine()
        async with autocommit_connection(engine) as connection:
            found = (await connection.execute(statement)).scalar_one_or_none()
        if found is not None:
            self._remember(key, found)
        return found

    async def _register(self, key: str, document: str) -> None:
        """Store a client's document (nothing when another got there first), and drop the
        oldest registrations past ``GRAPHQL_PERSISTED_QUERIES_MAX``: any client may
        register, so the table must not grow without end. A dropped document's client
        gets ``PERSISTED_QUERY_NOT_FOUND`` and registers it again, as Apollo's do."""
        row = {"id": key, "document": document, "trusted": False, "created_at": utcnow()}
        engine = await self._engine()
        # On SQLite the transaction is queued with the writers.
        async with autocommit_connection(engine) as connection, connection_transaction(connection):
            inserted = await connection.execute(_insert_new(connection, [row]))
            if inserted.rowcount:
                await connection.execute(_drop_oldest_registered(self.max_registered))
        self._remember(key, document)

    def _remember(self, key: str, document: str) -> None:
        if len(document) > _KNOWN_LENGTH:
            return
        self._known[key] = document
        if len(self._known) > _KNOWN:
            self._known.popitem(last=False)


def _drop_oldest_registered(keep: int) -> Delete:
    """Every registered (untrusted) document older than the ``keep`` newest; trusted ones
    stay. Both halves walk the index on ``(trusted, created_at)``: no scan of the table."""
    documents = persisted_documents.c
    cutoff = (
        select(documents.created_at)
        .where(documents.trusted.is_(False))
        .order_by(documents.created_at.desc())
        .offset(keep - 1)
        .limit(1)
        .scalar_subquery()
    )
    return delete(persisted_documents).where(
        documents.trusted.is_(False), documents.created_at < cutoff
    )


def _insert_new(connection: AsyncConnection, rows: list[dict[str, Any]]) -> Insert:
    """``INSERT ... ON CONFLICT DO NOTHING``: idempotent, and safe against a concurrent insert."""
    insert = insert_for(connection.dialect.name)(persisted_documents)
    made: Insert = insert.values(rows).on_conflict_do_nothing()
    return made


# -- trusted documents: ``ftf documents import`` -------------------------------


class ManifestError(ValueError):
    """A manifest the import refuses as a whole: nothing of it is stored."""


@dataclass(frozen=True, slots=True)
class Imported:
    """What an import did: ``new`` documents trusted now, ``known`` ones trusted already."""

    new: int
    known: int


def read_manifest(text: str) -> dict[str, str]:
    """A persisted-documents manifest as ``{stored id: document}``.

    The manifest is what GraphQL Code Generator's client preset writes with
    ``persistedDocuments: true``: a JSON object of id to document text, the
    ids ``sha256:<hex>`` (bare hex from older versions, any string with a
    custom hash function). A SHA-256 id must be the document's.
    """
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ManifestError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ManifestError('not a manifest: expected a JSON object {"<id>": "<document>", ...}')
    documents: dict[str, str] = {}
    for identifier, document in data.items():
        if not isinstance(document, str) or not document.strip():
            raise ManifestError(f"{identifier}: the document must be a non-empty string")
        key = _manifest_key(identifier, document)
        if documents.get(key, document) != document:
            raise ManifestError(f"{identifier}: another entry has this id with another document")
        documents[key] = document
    return documents


def _manifest_key(identifier: str, document: str) -> str:
    sha256 = _SHA256_ID.fullmatch(identifier)
    if sha256 is not None:
        if sha256.group(1) != sha256_hex(document):
            raise ManifestError(f"{identifier}: not the SHA-256 of its document")
        return sha256.group(1)
    if identifier.startswith("sha256:"):
        raise ManifestError(f"{identifier}: a sha256: id needs 64 lower-case hex digits")
    if len(identifier) > MAX_DOCUMENT_ID_LENGTH or not _CUSTOM_ID.fullmatch(identifier):
        raise ManifestError(
            f"{identifier[:80]!r}: an id is at most {MAX_DOCUMENT_ID_LENGTH} characters, "
            "with no spaces or control characters"
        )
    return identifier


async def import_documents(engine: AsyncEngine, documents: dict[str, str]) -> Imported:
    """Store ``documents`` as trusted, in one transaction: idempotent, safe to run twice at once.

    A document a client registered (APQ) becomes trusted. An id already
    stored with another document (possible only for a manifest's own ids)
    refuses the whole import.

    Raises:
        ManifestError: an id stored with another document.
    """
    table = persisted_documents
    keys = list(documents)
    async with engine.begin() as connection:
        stored: dict[str, str] = {}
        for chunk in _chunks(keys):
            rows = await connection.execute(
                select(table.c.id, table.c.document).where(table.c.id.in_(chunk))
            )
            stored.update((key, document) for key, document in rows)
        differing = sorted(key for key, document in stored.items() if document != documents[key])
        if differing:
            raise ManifestError(
                f"{', '.join(differing[:5])}: already stored with another document; "
                "nothing imported"
            )
        now = utcnow()
        inserted: set[str] = set()
        fresh = [key for key in keys if key not in stored]
        for chunk in _chunks(fresh):
            rows_in = [
                {"id": key, "document": documents[key], "trusted": True, "created_at": now}
                for key in chunk
            ]
            statement = _insert_new(connection, rows_in).returning(table.c.id)
            inserted.update((await connection.execute(statement)).scalars())
        trusted_now: set[str] = set()
        for chunk in _chunks(keys):
            trust = (
                update(table)
                .where(table.c.id.in_(chunk), table.c.trusted.is_(False))
                .values(trusted=True)
                .returning(table.c.id)
            )
            trusted_now.update((await connection.execute(trust)).scalars())
    new = len(inserted | trusted_now)
    return Imported(new=new, known=len(keys) - new)


def _chunks(items: Iterable[str]) -> Iterator[list[str]]:
    chunk: list[str] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == _CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
