"""Persisted GraphQL documents, the server's own table (``server.persisted``).

A document is kept under its id: the SHA-256 of its text in lower-case hex
(what Apollo's automatic persisted queries send, and GraphQL Code
Generator's ``sha256:`` ids without the prefix), or the key a manifest gave
it when that is not a SHA-256. ``trusted`` marks the documents imported with
``ftf documents import``; the rest were registered by clients (APQ). In the
database, not in one process's memory, so every process knows them.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Index, String, Table, Text, false

from fast_query import Base, UTCDateTime

#: The longest id kept: a hex SHA-512 (128) from a custom hash function fits, with room.
MAX_DOCUMENT_ID_LENGTH = 255

persisted_documents = Table(
    "persisted_documents",
    Base.metadata,
    Column("id", String(MAX_DOCUMENT_ID_LENGTH), primary_key=True),
    Column("document", Text, nullable=False),
    Column("trusted", Boolean, nullable=False, server_default=false()),
    Column("created_at", UTCDateTime(), nullable=False),
    # The registered ones, oldest first: how the cap on them finds what to drop.
    Index("ix_persisted_documents_trusted_created_at", "trusted", "created_at"),
    info={"keep_on_reset": True},  # server.seed: an allowlist is configuration, not demo data
)
