"""A small IoC container: type-keyed services with singleton, scoped and transient lifetimes.

The container lives as long as the application (settings, engine, session
factory). Each request opens a ``Scope`` (``async with container.scope()``):
scoped services (the request's ``AsyncSession``, repositories, dataloaders)
are made once in it and cleaned up, in reverse order, when it closes.

Factories are plain callables, coroutine functions, or (sync or async)
generator functions whose code after ``yield`` is the cleanup. Their
parameters are filled by type hint from the container; a parameter with a
default that nothing is registered for keeps its default.
"""

from __future__ import annotations

import asyncio
import enum
import inspect
import typing
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

T = TypeVar("T")

_MISSING: Any = object()


class Lifetime(enum.Enum):
    SINGLETON = "singleton"
    SCOPED = "scoped"
    TRANSIENT = "transient"


class ContainerError(Exception):
    """Root of the container's errors."""


class NotRegistered(ContainerError):
    def __init__(self, key: object, chain: tuple[object, ...] = ()) -> None:
        path = " -> ".join(_name(k) for k in (*chain, key))
        super().__init__(f"nothing is registered for {_name(key)} (resolving {path})")


class CircularDependency(ContainerError):
    def __init__(self, chain: tuple[object, ...]) -> None:
        super().__init__("circular dependency: " + " -> ".join(_name(k) for k in chain))


class ScopeRequired(ContainerError):
    """A scoped service was asked for outside a scope, or by a singleton."""


# Hashed by identity: made instances are cached per registration, so an override
# never serves (or leaves behind) another registration's instance, and a generic
# key (async_sessionmaker[AsyncSession]) shares the instance of its origin's.
@dataclass(slots=True, eq=False)
class Registration:
    key: object
    factory: Callable[..., Any]
    lifetime: Lifetime
    instance: Any = _MISSING
    _parameters: list[tuple[str, object, bool]] | None = field(default=None, repr=False)
    _kind: str | None = field(default=None, repr=False)

    def parameters(self) -> list[tuple[str, object, bool]]:
        """(name, type hint, has default) for each parameter the factory takes."""
        if self._parameters is None:
            self._parameters = _parameters_of(self.factory)
        return self._parameters

    def kind(self) -> str:
        """How the factory makes its value: ``asyncgen``, ``generator`` or ``call`` (kept)."""
        if self._kind is None:
            factory = self.factory
            if inspect.isasyncgenfunction(factory):
                self._kind = "asyncgen"
            elif inspect.isgeneratorfunction(factory):
                self._kind = "generator"
            else:
                self._kind = "call"
        return self._kind


def _parameters_of(factory: Callable[..., Any]) -> list[tuple[str, object, bool]]:
    target: Any = factory.__init__ if inspect.isclass(factory) else factory
    signature = inspect.signature(factory)
    hints = typing.get_type_hints(target)
    parameters = []
    for name, parameter in signature.parameters.items():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        has_default = parameter.default is not parameter.empty
        if name not in hints:
            if has_default:
                continue
            raise ContainerError(f"{_name(factory)}: parameter {name!r} has no type hint")
        parameters.append((name, hints[name], has_default))
    return parameters


def _name(key: object) -> str:
    return getattr(key, "__qualname__", None) or repr(key)


class Container:
    """The application-wide registry and the home of singletons."""

    def __init__(self) -> None:
        self._registrations: dict[object, Registration] = {}
        self._overrides: dict[object, Registration] = {}
        self._singletons: dict[object, Any] = {}
        self._pending: dict[object, asyncio.Future[Any]] = {}
        self._exit_stack = AsyncExitStack()

    # -- registration ---------------------------------------------------------

    def register(
        self,
        key: type[T] | object,
        factory: Callable[..., Any] | None = None,
        *,
        lifetime: Lifetime,
    ) -> None:
        if factory is None:
            if not inspect.isclass(key):
                raise ContainerError(f"{_name(key)} needs a factory")
            factory = key
        self._registrations[key] = Registration(key, factory, lifetime)

    def singleton(self, key: type[T] | object, factory: Callable[..., Any] | None = None) -> None:
        self.register(key, factory, lifetime=Lifetime.SINGLETON)

    def scoped(self, key: type[T] | object, factory: Callable[..., Any] | None = None) -> None:
        self.register(key, factory, lifetime=Lifetime.SCOPED)

    def transient(self, key: type[T] | object, factory: Callable[..., Any] | None = None) -> None:
        self.register(key, factory, lifetime=Lifetime.TRANSIENT)

    def instance(self, key: type[T] | object, value: Any) -> None:
        """Register an existing object as a singleton (the container will not close it)."""
        self._registrations[key] = Registration(key, _never, Lifetime.SINGLETON, instance=value)

    def is_registered(self, key: object) -> bool:
        keys = (key, typing.get_origin(key))
        return any(k in self._overrides or k in self._registrations for k in keys)

    @contextmanager
    def override(
        self,
        key: type[T] | object,
        value: Any = _MISSING,
        *,
        factory: Callable[..., Any] | None = None,
        lifetime: Lifetime | None = None,
    ) -> Iterator[None]:
        """Replace a registration for the duration of the ``with`` block (for tests).

        Pass an object as ``value``, or a ``factory`` (with the lifetime of the
        registration it replaces unless ``lifetime`` says otherwise).
        """
        if (value is _MISSING) == (factory is None):
            raise ContainerError("override needs exactly one of value or factory")
        previous = self._overrides.get(key)
        if factory is not None:
            base = self._registrations.get(key)
            chosen = lifetime or (base.lifetime if base else Lifetime.SCOPED)
            self._overrides[key] = Registration(key, factory, chosen)
        else:
            self._overrides[key] = Registration(key, _never, Lifetime.SINGLETON, instance=value)
        try:
            yield
        finally:
            if previous is None:
                self._overrides.pop(key, None)
            else:
                self._overrides[key] = previous

    def registration(self, key: object, chain: tuple[object, ...] = ()) -> Registration:
        registration = self._overrides.get(key) or self._registrations.get(key)
        if registration is None and (origin := typing.get_origin(key)) is not None:
            # async_sessionmaker[AsyncSession] resolves to async_sessionmaker
            registration = self._overrides.get(origin) or self._registrations.get(origin)
        if registration is None:
            raise NotRegistered(key, chain)
        return registration

    # -- resolution -----------------------------------------------------------

    def scope(self) -> Scope:
        return Scope(self)

    async def get(self, key: type[T]) -> T:
        """Resolve a singleton or transient outside any scope."""
        return cast(T, await _resolve(self, None, key, ()))

    async def aclose(self) -> None:
        """Clean up the singletons, last made first."""
        await self._exit_stack.aclose()
        self._singletons.clear()


class Scope:
    """One unit of work (an HTTP request): scoped services live and die with it."""

    def __init__(self, container: Container) -> None:
        self.container = container
        self._instances: dict[object, Any] = {}
        self._pending: dict[object, asyncio.Future[Any]] = {}
        self._exit_stack = AsyncExitStack()
        self._closed = False

    async def get(self, key: type[T]) -> T:
        if self._closed:
            raise ScopeRequired("this scope is closed")
        return cast(T, await _resolve(self.container, self, key, ()))

    def provide(self, key: type[T] | object, value: Any) -> None:
        """Make ``value`` the scope's ``key`` (what the request itself brings: its viewer)."""
        registration = self.container.registration(key)
        if registration in self._instances or registration in self._pending:
            raise ContainerError(f"{_name(key)} is already resolved in this scope")
        self._instances[registration] = value

    async def __aenter__(self) -> Scope:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Clean up everything the scope made, last made first."""
        self._closed = True
        try:
            await self._exit_stack.aclose()
        finally:
            self._instances.clear()


async def _resolve(
    container: Container, scope: Scope | None, key: object, chain: tuple[object, ...]
) -> Any:
    if key in chain:
        raise CircularDependency((*chain, key))
    registration = container.registration(key, chain)
    if registration.instance is not _MISSING:
        return registration.instance
    if any(container.registration(k) is registration for k in chain):
        raise CircularDependency((*chain, key))  # a generic key and its origin
    chain = (*chain, key)
    lifetime = registration.lifetime
    if lifetime is Lifetime.TRANSIENT:
        stack = scope._exit_stack if scope is not None else container._exit_stack
        return await _create(container, scope, registration, chain, stack)
    if lifetime is Lifetime.SINGLETON:
        # A singleton's dependencies resolve without the scope: it must not
        # capture a scoped service that dies with the first request.
        return await _once(
            container._singletons,
            container._pending,
            lambda: _create(container, None, registration, chain, container._exit_stack),
            registration,
        )
    if scope is None:
        raise ScopeRequired(
            f"{_name(key)} is scoped: resolve it in a scope, not from "
            + (_name(chain[-2]) if len(chain) > 1 else "the container")
        )
    return await _once(
        scope._instances,
        scope._pending,
        lambda: _create(container, scope, registration, chain, scope._exit_stack),
        registration,
    )


async def _once(
    instances: dict[object, Any],
    pending: dict[object, asyncio.Future[Any]],
    create: Callable[[], Any],
    key: object,
) -> Any:
    """Create ``key`` once even when several coroutines ask for it at the same time."""
    if key in instances:
        return instances[key]
    if key in pending:
        return await asyncio.shield(pending[key])
    future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    pending[key] = future
    try:
        value = await create()
    except BaseException as exc:
        future.set_exception(exc)
        future.exception()  # marks it retrieved when nobody else was waiting
        raise
    finally:
        del pending[key]
    instances[key] = value
    future.set_result(value)
    return value


async def _create(
    container: Container,
    scope: Scope | None,
    registration: Registration,
    chain: tuple[object, ...],
    stack: AsyncExitStack,
) -> Any:
    kwargs: dict[str, Any] = {}
    for name, hint, has_default in registration.parameters():
        if has_default and not container.is_registered(hint):
            continue
        if hint is Scope and scope is not None:
            kwargs[name] = scope
            continue
        kwargs[name] = await _resolve(container, scope, hint, chain)
    factory = registration.factory
    kind = registration.kind()
    if kind == "asyncgen":
        return await stack.enter_async_context(asynccontextmanager(factory)(**kwargs))
    if kind == "generator":
        return stack.enter_context(contextmanager(factory)(**kwargs))
    value = factory(**kwargs)
    if inspect.isawaitable(value):
        value = await value
    return value


def _never() -> Any:  # pragma: no cover - instances never call their factory
    raise AssertionError("an instance registration has no factory")
