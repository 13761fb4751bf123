"""The ``Query`` and ``Mutation`` roots, their fields collected from the type modules.

A type module's lookups, lists and mutations (``fields.lookup``, ``crud.create``,
...) are marked as root fields when they are made; the roots publish every
marked field a type module defines, under its name there. The order is that of
``schema.types.MODULES`` and, within a module, of the definitions: the published
schema never depends on which module Python happened to import first, and a
new model's fields, or a mutation added next to them, need no line of their own
in the roots.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any, Literal, TypeVar

import strawberry
from strawberry.types.field import StrawberryField

from schema.resource import RegistrationError
from schema.types import MODULES

Root = Literal["Query", "Mutation"]
F = TypeVar("F")

#: Marked fields by identity (the field is kept, so its id stays its own).
_MARKED: dict[int, tuple[Root, Any]] = {}


def query(field: F) -> F:
    """``field`` as a field of ``Query`` wherever a type module defines it."""
    _MARKED[id(field)] = ("Query", field)
    return field


def mutation(field: F) -> F:
    """``field`` as a field of ``Mutation`` wherever a type module defines it."""
    _MARKED[id(field)] = ("Mutation", field)
    return field


def type_modules() -> list[ModuleType]:
    return [importlib.import_module(f"schema.types.{name}") for name in MODULES]


def fields_of(root: Root, modules: list[ModuleType] | None = None) -> dict[str, Any]:
    """The marked fields of ``root`` the modules define, by Python name, in published order.

    A field a module imports from another is published once, under the first
    module listed; two fields of one name stop the start-up, naming both
    modules, as does a module-level field that is not marked (written by hand,
    it would silently be left out).
    """
    found: dict[str, Any] = {}
    defined_in: dict[str, str] = {}
    for module in modules if modules is not None else type_modules():
        for name, value in vars(module).items():
            marked = _MARKED.get(id(value))
            if marked is None and isinstance(value, StrawberryField):
                raise RegistrationError(
                    f"{module.__name__}.{name} is a field of no root type: make it with "
                    "schema.roots.query(...) or schema.roots.mutation(...)"
                )
            if marked is None or marked[0] != root or any(value is f for f in found.values()):
                continue
            if name in found:
                raise RegistrationError(
                    f"{root}.{name} is defined in both {defined_in[name]} and {module.__name__}"
                )
            found[name], defined_in[name] = value, module.__name__
    return found


def root_type(root: Root, description: str, first: dict[str, Any] | None = None) -> Any:
    """The root type ``root``: the fields ``first`` (in order), then the type modules' own."""
    namespace = dict(first or {})
    for name, field in fields_of(root).items():
        if any(field is f for f in namespace.values()):
            continue
        if name in namespace:
            raise RegistrationError(f"{root}.{name} is defined twice")
        namespace[name] = field
    return strawberry.type(type(root, (), namespace), description=description)
