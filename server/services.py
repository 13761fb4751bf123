"""What the container provides: the application's services and their lifetimes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from fast_query import BaseRepository, autocommit_connection, create_engine, create_session_factory
from schema import node_repositories
from schema.accounts import Accounts
from schema.fastpath import ReadConnection
from schema.loaders import Loaders
from schema.resource import scopes
from schema.rows import RowParams
from schema.viewer import ANONYMOUS, Viewer
from server.auth.passwords import default_passwords
from server.auth.service import AuthService
from server.auth.sessions import Sessions
from server.auth.viewer import Authenticator, provide_authenticator
from server.container import Container
from server.observability import count_statements
from server.settings import Settings


async def provide_engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
        statement_timeout=settings.db_statement_timeout,
        connect_timeout=settings.db_connect_timeout,
        pre_ping_idle=settings.db_pre_ping_idle,
        # A failed statement's exception (logged with its traceback) leaves its values
        # out: they may be a password hash, a refresh token's hash or someone's email.
        hide_parameters=True,
    )
    count_statements(engine)
    try:
        yield engine
    finally:
        await engine.dispose()


def provide_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_session_factory(engine)


async def provide_session(
    factory: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """The request's session; closing it rolls back whatever was not committed."""
    session = factory()
    try:
        yield session
    finally:
        await session.close()


async def provide_read_connection(engine: AsyncEngine) -> AsyncIterator[ReadConnection]:
    """The fast path's connection: from the pool, no session around it.

    In autocommit on PostgreSQL: no BEGIN/ROLLBACK round trips for reads (see
    ``graphql_http._read_only``). On SQLite the fast path opens a
    transaction itself when a plan reads more than once.
    """
    async with autocommit_connection(engine) as connection:
        yield ReadConnection(connection)


def provide_repository(
    repository: type[BaseRepository[Any]],
) -> Callable[[AsyncSession, RowParams], BaseRepository[Any]]:
    """A factory of ``repository`` on the request's session, under the request's row scopes."""

    def provide(session: AsyncSession, params: RowParams) -> BaseRepository[Any]:
        return repository(session, scopes=scopes(), params=params.values)

    return provide


def provide_anonymous() -> Viewer:
    return ANONYMOUS


def provide_accounts(settings: Settings, authenticator: Authenticator) -> AuthService:
    """The auth mutations' service, signing with the authenticator's keys."""
    sessions = Sessions.from_settings(settings, authenticator.tokens)
    return AuthService(default_passwords(), sessions)


def build_container(settings: Settings) -> Container:
    container = Container()
    container.instance(Settings, settings)
    container.singleton(AsyncEngine, provide_engine)
    container.singleton(async_sessionmaker, provide_session_factory)
    container.scoped(AsyncSession, provide_session)
    container.scoped(ReadConnection, provide_read_connection)
    container.singleton(Authenticator, provide_authenticator)
    container.singleton(Accounts, provide_accounts)
    # The request's viewer (``GraphQLHTTP`` provides it from ``Authorization``; a scope
    # made elsewhere is anonymous), and from it the row rules' values.
    container.scoped(Viewer, provide_anonymous)
    container.scoped(RowParams, RowParams.of)
    # Every node type's repository, as its module registered it (schema.resource.register).
    for repository in node_repositories():
        container.scoped(repository, provide_repository(repository))
    container.scoped(Loaders)
    return container
