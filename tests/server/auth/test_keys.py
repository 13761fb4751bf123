"""The signing key: AUTH_JWT_SECRET, or one key per database shared by every process."""

from __future__ import annotations

import asyncio

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from fast_query import create_engine
from models import auth_keys
from server.auth.keys import load_access_tokens, signing_secret, stored_secret
from server.settings import Settings
from tests.server.auth.support import NOW


async def test_every_process_of_one_database_signs_with_the_same_generated_key(
    committed_engine: AsyncEngine, database_url: str
) -> None:
    """Five engines on one database, as five processes starting at once would have."""
    async with committed_engine.begin() as connection:
        await connection.execute(delete(auth_keys))
    others = [create_engine(database_url) for _ in range(4)]
    settings = Settings(database_url=database_url)
    try:
        loaded = await asyncio.gather(
            *(load_access_tokens(settings, engine) for engine in [committed_engine, *others])
        )
        for issuer in loaded:
            token = issuer.issue(7, session_id=1, now=NOW).token
            for verifier in loaded:
                assert verifier.verify(token, now=NOW).user_id == 7
        async with committed_engine.connect() as connection:
            rows = (await connection.execute(select(auth_keys))).mappings().all()
        assert len(rows) == 1
        assert len(rows[0]["secret"].encode()) >= 64
        # a process started later reads the same key
        later = await load_access_tokens(settings, others[0])
        assert later.verify(loaded[0].issue(7, now=NOW).token, now=NOW).user_id == 7
    finally:
        for engine in others:
            await engine.dispose()


async def test_a_key_is_made_once_per_database(session: AsyncSession) -> None:
    first = await stored_secret(session, now=NOW)
    second = await stored_secret(session, now=NOW)

    assert first == second
    assert len(first) >= 64


async def test_a_configured_secret_is_used_and_nothing_is_stored(
    committed_engine: AsyncEngine, database_url: str
) -> None:
    async with committed_engine.begin() as connection:
        await connection.execute(delete(auth_keys))
    secret = "s" * 40
    settings = Settings(
        database_url=database_url,
        auth_jwt_secret=secret,
        auth_jwt_issuer="https://auth.example",
        auth_jwt_audience="https://api.example",
        auth_access_token_ttl=60,
    )

    tokens = await load_access_tokens(settings, committed_engine)

    assert await signing_secret(settings, committed_engine) == secret.encode()
    assert (tokens.issuer, tokens.audience, tokens.ttl) == (
        "https://auth.example",
        "https://api.example",
        60,
    )
    async with committed_engine.connect() as connection:
        assert (await connection.execute(select(auth_keys))).all() == []
