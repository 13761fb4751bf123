"""The IoC container: lifetimes, autowiring, cleanup, overrides, errors and concurrency."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from models import User
from repositories import UserRepository
from server.container import (
    CircularDependency,
    Container,
    ContainerError,
    Lifetime,
    NotRegistered,
    Scope,
    ScopeRequired,
)
from server.services import build_container
from server.settings import Settings

# -- services the tests register (module level, so type hints resolve) --------


@dataclass
class Log:
    """What the factories did, in order."""

    events: list[str] = field(default_factory=list)
    calls: int = 0


class Clock:
    pass


class FakeClock(Clock):
    pass


class Config:
    def __init__(self, name: str = "default") -> None:
        self.name = name


class Service:
    def __init__(self, clock: Clock, config: Config) -> None:
        self.clock = clock
        self.config = config


class Request:
    pass


class Cache:
    """A singleton that (wrongly) wants a scoped service."""

    def __init__(self, request: Request) -> None:
        self.request = request


class Handler:
    """A transient that asks for the scope it runs in."""

    def __init__(self, scope: Scope, request: Request) -> None:
        self.scope = scope
        self.request = request


class CycleA:
    def __init__(self, b: CycleB) -> None:
        self.b = b


class CycleB:
    def __init__(self, c: CycleC) -> None:
        self.c = c


class CycleC:
    def __init__(self, a: CycleA) -> None:
        self.a = a


class Resource:
    def __init__(self, name: str) -> None:
        self.name = name
        self.closed = False


class First(Resource):
    pass


class Second(Resource):
    pass


class Third(Resource):
    pass


class Pool(Resource):
    pass


class Connection(Resource):
    pass


async def provide_first(log: Log) -> AsyncIterator[First]:
    log.events.append("open first")
    first = First("first")
    yield first
    first.closed = True
    log.events.append("close first")


def provide_second(log: Log, first: First) -> Iterator[Second]:
    assert not first.closed
    log.events.append("open second")
    second = Second("second")
    yield second
    assert not first.closed  # the dependency outlives what depends on it
    second.closed = True
    log.events.append("close second")


async def provide_third(log: Log, second: Second) -> AsyncIterator[Third]:
    log.events.append("open third")
    third = Third("third")
    yield third
    assert not second.closed
    third.closed = True
    log.events.append("close third")


async def provide_pool(log: Log) -> AsyncIterator[Pool]:
    log.events.append("open pool")
    yield Pool("pool")
    log.events.append("close pool")


def provide_connection(log: Log, pool: Pool) -> Iterator[Connection]:
    log.events.append("open connection")
    yield Connection("connection")
    log.events.append("close connection")


def provide_session_factory() -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker()


class NeedsSessionFactory:
    def __init__(self, factory: async_sessionmaker[AsyncSession]) -> None:
        self.factory = factory


def make_session_factory_from_itself(
    factory: async_sessionmaker[AsyncSession],
) -> async_sessionmaker[AsyncSession]:
    return factory


async def slow_request(log: Log) -> Request:
    log.calls += 1
    await asyncio.sleep(0.01)
    return Request()


async def slow_request_generator(log: Log) -> AsyncIterator[Request]:
    log.calls += 1
    await asyncio.sleep(0.01)
    yield Request()
    log.events.append("close request")


def flaky_clock(log: Log) -> Clock:
    log.calls += 1
    if log.calls == 1:
        raise RuntimeError("the clock is not ready")
    return Clock()


async def flaky_async_clock(log: Log) -> Clock:
    log.calls += 1
    await asyncio.sleep(0)
    if log.calls == 1:
        raise RuntimeError("the clock is not ready")
    return Clock()


async def flaky_clock_generator(log: Log) -> AsyncIterator[Clock]:
    log.calls += 1
    if log.calls == 1:
        raise RuntimeError("the clock is not ready")
    yield Clock()
    log.events.append("close clock")


async def slow_flaky_request(log: Log) -> Request:
    log.calls += 1
    await asyncio.sleep(0.01)
    if log.calls == 1:
        raise RuntimeError("the request is not ready")
    return Request()


def untyped_factory(value):
    return value


# -- fixtures --------------------------------------------------------------------


@pytest.fixture
def log() -> Log:
    return Log()


@pytest.fixture
async def container(log: Log) -> AsyncIterator[Container]:
    container = Container()
    container.instance(Log, log)
    yield container
    await container.aclose()


# -- lifetimes ---------------------------------------------------------------------


async def test_a_singleton_is_made_once_per_container(container: Container) -> None:
    container.singleton(Clock)
    clock = await container.get(Clock)
    assert await container.get(Clock) is clock
    async with container.scope() as first, container.scope() as second:
        assert await first.get(Clock) is clock
        assert await second.get(Clock) is clock
    other = Container()
    other.singleton(Clock)
    assert await other.get(Clock) is not clock


async def test_a_scoped_service_is_made_once_per_scope(container: Container) -> None:
    container.scoped(Request)
    async with container.scope() as first, container.scope() as second:
        request = await first.get(Request)
        assert await first.get(Request) is request
        assert await second.get(Request) is not request
        assert await second.get(Request) is await second.get(Request)
    async with container.scope() as third:
        assert await third.get(Request) is not request


async def test_a_transient_is_new_every_time(container: Container) -> None:
    container.transient(Clock)
    assert await container.get(Clock) is not await container.get(Clock)
    async with container.scope() as scope:
        assert await scope.get(Clock) is not await scope.get(Clock)


async def test_an_instance_is_returned_as_given(container: Container) -> None:
    settings = Settings(database_url="sqlite+aiosqlite:///:memory:")
    container.instance(Settings, settings)
    assert await container.get(Settings) is settings
    async with container.scope() as scope:
        assert await scope.get(Settings) is settings


async def test_register_without_a_factory_needs_a_class(container: Container) -> None:
    with pytest.raises(ContainerError) as excinfo:
        container.scoped("a string key")
    assert str(excinfo.value) == "'a string key' needs a factory"


# -- autowiring ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("registered_name", "expected_name"),
    [
        pytest.param(None, "default", id="unregistered-default-is-kept"),
        pytest.param("custom", "custom", id="registered-default-is-filled"),
    ],
)
async def test_autowiring_fills_parameters_by_type_hint(
    container: Container, registered_name: str | None, expected_name: str
) -> None:
    container.singleton(Clock)
    container.scoped(Config)
    container.transient(Service)
    if registered_name is not None:
        container.instance(str, registered_name)
    async with container.scope() as scope:
        service = await scope.get(Service)
        assert service.clock is await container.get(Clock)
        assert service.config is await scope.get(Config)
        assert service.config.name == expected_name


async def test_a_parameter_without_type_hint_or_default_is_an_error(
    container: Container,
) -> None:
    container.transient(Clock, untyped_factory)
    with pytest.raises(ContainerError) as excinfo:
        await container.get(Clock)
    assert str(excinfo.value) == "untyped_factory: parameter 'value' has no type hint"


async def test_a_factory_may_ask_for_its_scope(container: Container) -> None:
    container.scoped(Request)
    container.transient(Handler)
    async with container.scope() as scope:
        handler = await scope.get(Handler)
        assert handler.scope is scope
        assert handler.request is await scope.get(Request)


@pytest.mark.parametrize(
    "first_key",
    [
        pytest.param(async_sessionmaker, id="origin-first"),
        pytest.param(async_sessionmaker[AsyncSession], id="generic-first"),
    ],
)
async def test_a_generic_key_resolves_the_registration_of_its_origin(
    container: Container, first_key: Any
) -> None:
    container.singleton(async_sessionmaker, provide_session_factory)
    container.transient(NeedsSessionFactory)
    factory = await container.get(first_key)
    assert isinstance(factory, async_sessionmaker)
    assert await container.get(async_sessionmaker[AsyncSession]) is factory
    assert await container.get(async_sessionmaker) is factory
    assert (await container.get(NeedsSessionFactory)).factory is factory
    assert container.is_registered(async_sessionmaker[AsyncSession])
    assert container.is_registered(async_sessionmaker)


# -- cleanup ---------------------------------------------------------------------------


async def test_generator_factories_are_cleaned_up_in_reverse_order_when_the_scope_closes(
    container: Container, log: Log
) -> None:
    container.scoped(First, provide_first)
    container.scoped(Second, provide_second)
    container.transient(Third, provide_third)
    async with container.scope() as scope:
        third = await scope.get(Third)
        second = await scope.get(Second)
        first = await scope.get(First)
        assert log.events == ["open first", "open second", "open third"]
    assert log.events == [
        "open first",
        "open second",
        "open third",
        "close third",
        "close second",
        "close first",
    ]
    assert (first.closed, second.closed, third.closed) == (True, True, True)


async def test_singletons_are_cleaned_up_in_reverse_order_when_the_container_closes(
    container: Container, log: Log
) -> None:
    container.singleton(Pool, provide_pool)
    container.singleton(Connection, provide_connection)
    async with container.scope() as scope:
        await scope.get(Connection)
    assert log.events == ["open pool", "open connection"]  # a scope does not close singletons
    await container.aclose()
    assert log.events == ["open pool", "open connection", "close connection", "close pool"]


async def test_a_transient_resolved_outside_a_scope_is_cleaned_up_with_the_container(
    container: Container, log: Log
) -> None:
    container.transient(Pool, provide_pool)
    await container.get(Pool)
    await container.get(Pool)
    assert log.events == ["open pool", "open pool"]
    await container.aclose()
    assert log.events == ["open pool", "open pool", "close pool", "close pool"]


async def test_cleanup_runs_when_the_scope_body_raises(container: Container, log: Log) -> None:
    container.scoped(First, provide_first)
    with pytest.raises(LookupError):
        async with container.scope() as scope:
            await scope.get(First)
            raise LookupError("the request failed")
    assert log.events == ["open first", "close first"]


async def test_the_session_of_a_scope_is_rolled_back_and_closed_when_the_scope_closes(
    database_url: str, committed_engine: AsyncEngine
) -> None:
    container = build_container(Settings(database_url=database_url))
    try:
        async with container.scope() as scope:
            session = await scope.get(AsyncSession)
            assert await scope.get(AsyncSession) is session
            session.add(User(name="Uncommitted", email="uncommitted@example.com"))
            await session.flush()
            assert session.in_transaction()
        assert not session.in_transaction()
        engine = await container.get(AsyncEngine)
        assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]

        async with container.scope() as scope:
            users = await scope.get(UserRepository)
            assert users.session is not session
            assert await users.find_by_email("uncommitted@example.com") is None
            await users.create(name="Committed", email="committed@example.com")
            await users.session.commit()

        async with container.scope() as scope:
            users = await scope.get(UserRepository)
            assert await users.find_by_email("uncommitted@example.com") is None
            committed = await users.find_by_email("committed@example.com")
            assert committed is not None
            assert committed.name == "Committed"
    finally:
        await container.aclose()

    async with committed_engine.connect() as connection:
        count = await connection.scalar(select(func.count()).select_from(User))
        assert count == 1


async def test_closing_the_container_disposes_the_engine(database_url: str) -> None:
    container = build_container(Settings(database_url=database_url))
    async with container.scope() as scope:
        session = await scope.get(AsyncSession)
        await session.connection()
    engine = await container.get(AsyncEngine)
    assert engine.pool.checkedin() == 1  # type: ignore[attr-defined]
    await container.aclose()
    assert engine.pool.checkedin() == 0  # type: ignore[attr-defined]


# -- overrides ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "resolve_first",
    [
        pytest.param(False, id="before-first-use"),
        pytest.param(True, id="after-first-use"),
    ],
)
async def test_an_override_with_a_value_is_used_and_then_restored(
    container: Container, resolve_first: bool
) -> None:
    container.singleton(Clock)
    original = await container.get(Clock) if resolve_first else None
    fake = FakeClock()
    with container.override(Clock, fake):
        assert await container.get(Clock) is fake
        async with container.scope() as scope:
            assert await scope.get(Clock) is fake
    clock = await container.get(Clock)
    assert type(clock) is Clock
    if original is not None:
        assert clock is original


@pytest.mark.parametrize(
    "resolve_first",
    [
        pytest.param(False, id="before-first-use"),
        pytest.param(True, id="after-first-use"),
    ],
)
async def test_an_override_with_a_factory_is_used_and_then_restored(
    container: Container, resolve_first: bool
) -> None:
    container.singleton(Clock)
    original = await container.get(Clock) if resolve_first else None
    with container.override(Clock, factory=FakeClock):
        fake = await container.get(Clock)
        assert type(fake) is FakeClock
        assert await container.get(Clock) is fake  # keeps the singleton lifetime
    clock = await container.get(Clock)
    assert type(clock) is Clock
    if original is not None:
        assert clock is original


async def test_an_override_of_a_scoped_service_keeps_its_lifetime(container: Container) -> None:
    container.scoped(Config)
    with container.override(Config, factory=lambda: Config("overridden")):
        async with container.scope() as first, container.scope() as second:
            config = await first.get(Config)
            assert config.name == "overridden"
            assert await first.get(Config) is config
            assert await second.get(Config) is not config
        with pytest.raises(ScopeRequired):
            await container.get(Config)
    async with container.scope() as scope:
        assert (await scope.get(Config)).name == "default"


async def test_an_override_may_set_the_lifetime(container: Container) -> None:
    container.singleton(Clock)
    with container.override(Clock, factory=FakeClock, lifetime=Lifetime.TRANSIENT):
        assert await container.get(Clock) is not await container.get(Clock)


async def test_nested_overrides_restore_the_previous_override(container: Container) -> None:
    container.singleton(Clock)
    outer, inner = FakeClock(), FakeClock()
    with container.override(Clock, outer):
        with container.override(Clock, inner):
            assert await container.get(Clock) is inner
        assert await container.get(Clock) is outer
    assert type(await container.get(Clock)) is Clock


async def test_an_override_of_an_unregistered_key_is_removed_afterwards(
    container: Container,
) -> None:
    fake = FakeClock()
    with container.override(Clock, fake):
        assert await container.get(Clock) is fake
    with pytest.raises(NotRegistered):
        await container.get(Clock)


@pytest.mark.parametrize(
    "arguments",
    [
        pytest.param({}, id="neither"),
        pytest.param({"value": Clock(), "factory": Clock}, id="both"),
    ],
)
def test_an_override_needs_exactly_one_of_value_or_factory(
    container: Container, arguments: dict[str, Any]
) -> None:
    with pytest.raises(ContainerError) as excinfo, container.override(Clock, **arguments):
        pass
    assert str(excinfo.value) == "override needs exactly one of value or factory"


# -- errors ------------------------------------------------------------------------------


async def test_not_registered_names_the_key(container: Container) -> None:
    with pytest.raises(NotRegistered) as excinfo:
        await container.get(Clock)
    assert str(excinfo.value) == "nothing is registered for Clock (resolving Clock)"


async def test_not_registered_names_the_chain(container: Container) -> None:
    container.transient(Service)
    container.scoped(Config)
    async with container.scope() as scope:
        with pytest.raises(NotRegistered) as excinfo:
            await scope.get(Service)
    assert str(excinfo.value) == "nothing is registered for Clock (resolving Service -> Clock)"


async def test_a_circular_dependency_names_the_cycle(container: Container) -> None:
    container.scoped(CycleA)
    container.scoped(CycleB)
    container.scoped(CycleC)
    async with container.scope() as scope:
        with pytest.raises(CircularDependency) as excinfo:
            await scope.get(CycleB)
    assert str(excinfo.value) == "circular dependency: CycleB -> CycleC -> CycleA -> CycleB"


async def test_a_cycle_through_a_generic_key_and_its_origin_is_circular(
    container: Container,
) -> None:
    container.singleton(async_sessionmaker, make_session_factory_from_itself)
    async with asyncio.timeout(5):  # a cycle must fail, not wait for itself
        with pytest.raises(CircularDependency) as excinfo:
            await container.get(async_sessionmaker)
    assert str(excinfo.value) == "circular dependency: async_sessionmaker -> async_sessionmaker"


async def test_a_scoped_service_outside_a_scope_is_refused(container: Container) -> None:
    container.scoped(Request)
    with pytest.raises(ScopeRequired) as excinfo:
        await container.get(Request)
    assert str(excinfo.value) == "Request is scoped: resolve it in a scope, not from the container"


async def test_a_singleton_may_not_depend_on_a_scoped_service(container: Container) -> None:
    container.scoped(Request)
    container.singleton(Cache)
    async with container.scope() as scope:
        with pytest.raises(ScopeRequired) as excinfo:
            await scope.get(Cache)
        await scope.get(Request)  # the scope itself is fine
    assert str(excinfo.value) == "Request is scoped: resolve it in a scope, not from Cache"


async def test_a_closed_scope_refuses_to_resolve(container: Container) -> None:
    container.scoped(Request)
    container.singleton(Clock)
    async with container.scope() as scope:
        await scope.get(Request)
    for key in (Request, Clock):
        with pytest.raises(ScopeRequired) as excinfo:
            await scope.get(key)
        assert str(excinfo.value) == "this scope is closed"


@pytest.mark.parametrize(
    "factory",
    [
        pytest.param(flaky_clock, id="function"),
        pytest.param(flaky_async_clock, id="coroutine"),
        pytest.param(flaky_clock_generator, id="async-generator"),
    ],
)
@pytest.mark.parametrize(
    "lifetime",
    [pytest.param(Lifetime.SINGLETON, id="singleton"), pytest.param(Lifetime.SCOPED, id="scoped")],
)
async def test_a_failing_factory_caches_nothing_and_the_next_resolution_retries(
    container: Container, log: Log, factory: Callable[..., Any], lifetime: Lifetime
) -> None:
    container.register(Clock, factory, lifetime=lifetime)
    async with container.scope() as scope:
        with pytest.raises(RuntimeError, match="^the clock is not ready$"):
            await scope.get(Clock)
        clock = await scope.get(Clock)
        assert type(clock) is Clock
        assert await scope.get(Clock) is clock
    assert log.calls == 2


# -- concurrency -------------------------------------------------------------------------


async def test_concurrent_scopes_never_share_a_scoped_instance(
    container: Container, log: Log
) -> None:
    container.scoped(Request, slow_request)

    async def one_request() -> tuple[Request, Request]:
        async with container.scope() as scope:
            first = await scope.get(Request)
            await asyncio.sleep(0)
            return first, await scope.get(Request)

    results = await asyncio.gather(*(one_request() for _ in range(100)))
    assert all(first is again for first, again in results)
    assert len({id(first) for first, _ in results}) == 100
    assert log.calls == 100


@pytest.mark.parametrize(
    "factory",
    [
        pytest.param(slow_request, id="coroutine"),
        pytest.param(slow_request_generator, id="async-generator"),
    ],
)
async def test_concurrent_resolutions_in_one_scope_make_one_instance(
    container: Container, log: Log, factory: Callable[..., Any]
) -> None:
    container.scoped(Request, factory)
    async with container.scope() as scope:
        requests = await asyncio.gather(*(scope.get(Request) for _ in range(50)))
        assert len(requests) == 50
        assert all(request is requests[0] for request in requests)
        assert log.calls == 1
    if factory is slow_request_generator:
        assert log.events == ["close request"]


async def test_concurrent_resolutions_of_a_singleton_make_one_instance(
    container: Container, log: Log
) -> None:
    container.singleton(Request, slow_request)

    async def in_a_scope() -> Request:
        async with container.scope() as scope:
            return await scope.get(Request)

    requests = await asyncio.gather(
        *(container.get(Request) for _ in range(25)), *(in_a_scope() for _ in range(25))
    )
    assert all(request is requests[0] for request in requests)
    assert log.calls == 1


async def test_concurrent_waiters_share_a_failure_and_the_next_resolution_retries(
    container: Container, log: Log
) -> None:
    container.scoped(Request, slow_flaky_request)
    async with container.scope() as scope:
        results = await asyncio.gather(
            *(scope.get(Request) for _ in range(10)), return_exceptions=True
        )
        assert [str(result) for result in results] == ["the request is not ready"] * 10
        assert log.calls == 1
        request = await scope.get(Request)
        assert await scope.get(Request) is request
    assert log.calls == 2
