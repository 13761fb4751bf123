"""Registration in one place: a node type's ``register`` gives the container its repository, and
a type or relation the schema cannot serve stops the start-up with a message that names it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import strawberry
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from fast_query import BaseRepository
from schema import build_schema, fields, node_repositories, resource
from schema.filters import IDFilter, StringFilter
from schema.node import Node, node_id
from schema.ordering import OrderDirection
from schema.resource import RegistrationError, Resource, register
from server.services import build_container
from server.settings import Settings


class Scratch(DeclarativeBase):
    """Models of these tests alone: the application's metadata stays as it is."""


class GadgetModel(Scratch):
    __tablename__ = "gadgets"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    parts: Mapped[list[PartModel]] = relationship(lazy="raise")


class PartModel(Scratch):
    __tablename__ = "parts"

    id: Mapped[int] = mapped_column(primary_key=True)
    gadget_id: Mapped[int] = mapped_column(ForeignKey("gadgets.id"))


class GadgetRepository(BaseRepository[GadgetModel]):  # type: ignore[type-var]
    model = GadgetModel


class PartRepository(BaseRepository[PartModel]):  # type: ignore[type-var]
    model = PartModel


GADGET = Resource("Gadget", GadgetModel, GadgetRepository)


@strawberry.type
class Part:
    id: int


@strawberry.input
class PartFilter:
    id: IDFilter | None = strawberry.UNSET


@strawberry.input
class PartRelationFilter:
    some: PartFilter | None = strawberry.UNSET
    none: PartFilter | None = strawberry.UNSET


@strawberry.input
class GadgetFilter:
    name: StringFilter | None = strawberry.UNSET
    parts: PartRelationFilter | None = strawberry.UNSET


@strawberry.input
class GadgetOrder:
    direction: OrderDirection = OrderDirection.ASC


@strawberry.type
class Gadget(Node):
    id: strawberry.ID = node_id("Gadget")
    name: str


@strawberry.type
class GadgetWithParts(Node):
    id: strawberry.ID = node_id("GadgetWithParts")
    parts = fields.members(GadgetModel.parts, "The gadget's parts.", node=Part)


@pytest.fixture
def registrations() -> Iterator[None]:
    """What a test registers is forgotten after it."""
    by_name, by_model = dict(resource._BY_NAME), dict(resource._BY_MODEL)
    yield
    resource._BY_NAME.clear()
    resource._BY_NAME.update(by_name)
    resource._BY_MODEL.clear()
    resource._BY_MODEL.update(by_model)


def query_of(**roots: Any) -> type:
    """A ``Query`` root with ``roots`` as its fields (the application's ``Mutation`` beside it)."""
    return strawberry.type(type("Query", (), {"__annotations__": {}, **roots}))


def nothing() -> Gadget | None:
    return None


def parts_gadget() -> GadgetWithParts | None:
    return None


async def test_the_container_provides_every_registered_types_repository() -> None:
    build_schema()
    registered = {r.type_name: r.repository.__name__ for r in resource.resources()}
    container = build_container(Settings(database_url="sqlite+aiosqlite://"))
    try:
        async with container.scope() as scope:
            provided = [await scope.get(repository) for repository in node_repositories()]
    finally:
        await container.aclose()

    assert registered == {
        "User": "UserRepository",
        "Post": "PostRepository",
        "Comment": "CommentRepository",
        "Role": "RoleRepository",
    }
    assert [type(found) for found in provided] == [r.repository for r in resource.resources()]


def test_a_node_type_without_a_registration_stops_the_start_up(registrations: None) -> None:
    with pytest.raises(RegistrationError) as caught:
        build_schema(query=query_of(gadget=strawberry.field(resolver=nothing)))

    assert str(caught.value) == (
        "the schema cannot start:\n  type Gadget has no repository: register it in its module "
        '(register("Gadget", models.Gadget, GadgetRepository))'
    )


def test_a_relation_to_a_model_without_a_type_stops_the_start_up(registrations: None) -> None:
    register("GadgetWithParts", GadgetModel, GadgetRepository)

    with pytest.raises(RegistrationError) as caught:
        build_schema(query=query_of(gadget=strawberry.field(resolver=parts_gadget)))

    assert str(caught.value) == (
        "the schema cannot start:\n  GadgetWithParts.parts leads to model PartModel, which has "
        "no registered node type: register one (schema.resource.register) or drop the field"
    )


def test_a_relation_filter_to_a_model_without_a_type_stops_the_start_up(
    registrations: None,
) -> None:
    register("Gadget", GadgetModel, GadgetRepository)
    gadgets = fields.listing(
        GADGET, Gadget, "Gadgets.", filter_type=GadgetFilter, order_type=GadgetOrder
    )

    with pytest.raises(RegistrationError) as caught:
        build_schema(query=query_of(gadgets=gadgets))

    assert str(caught.value) == (
        "the schema cannot start:\n  GadgetFilter.parts filters on GadgetModel.parts, "
        "whose model PartModel has no registered node type"
    )

    register("Part", PartModel, PartRepository)
    build_schema(query=query_of(gadgets=gadgets))  # registered, it starts


def test_register_refuses_a_repository_of_another_model(registrations: None) -> None:
    with pytest.raises(RegistrationError, match="^Gadget: PartRepository is the repository of "):
        register("Gadget", GadgetModel, PartRepository)
    register("Gadget", GadgetModel, GadgetRepository)
    with pytest.raises(RegistrationError, match="Gadget .model GadgetModel. is registered"):
        register("Widget", GadgetModel, GadgetRepository)


@strawberry.input
class MistypedGadgetFilter:
    nmae: StringFilter | None = strawberry.UNSET
    parts: PartFilter | None = strawberry.UNSET


def test_a_filter_that_does_not_match_its_model_stops_the_start_up(registrations: None) -> None:
    register("Gadget", GadgetModel, GadgetRepository)
    register("Part", PartModel, PartRepository)
    gadgets = fields.listing(
        GADGET, Gadget, "Gadgets.", filter_type=MistypedGadgetFilter, order_type=GadgetOrder
    )

    with pytest.raises(RegistrationError) as caught:
        build_schema(query=query_of(gadgets=gadgets))

    assert str(caught.value).splitlines()[1:] == [
        "  MistypedGadgetFilter.nmae: model GadgetModel has no column or relation 'nmae'",
        "  MistypedGadgetFilter.parts: GadgetModel.parts is a list: its filter takes some/none "
        "(a relation filter, like PostRelationFilter)",
    ]
