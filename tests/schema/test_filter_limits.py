"""Each guard of ``FilterLimits`` refuses past its setting, and says where."""

from __future__ import annotations

from typing import Any

import pytest
import strawberry

import models
from schema import build_schema
from schema.context import FilterLimits
from schema.errors import UserInputError
from schema.filters import IDFilter, StringFilter, filter_condition
from schema.ids import to_global_id
from schema.resource import scopes, type_names

build_schema()  # registers the node types and their models

from schema.types.post import PostFilter, PostRelationFilter  # noqa: E402
from schema.types.user import UserFilter  # noqa: E402

TIGHT = FilterLimits(depth=3, relations=2, terms=4, pattern_length=5)


def refusal(where: Any, limits: FilterLimits = TIGHT) -> dict[str, str] | None:
    try:
        filter_condition(
            models.User, where, type_names=type_names(), scopes=scopes(), limits=limits
        )
    except UserInputError as exc:
        return exc.fields
    return None


def nots(levels: int) -> UserFilter:
    where = UserFilter(name=StringFilter(eq="x"))
    for _ in range(levels):
        where = UserFilter(not_=where)
    return where


def test_depth() -> None:
    assert refusal(nots(3)) is None
    assert refusal(nots(4)) == {
        "where" + ".not" * 4: "filters may nest at most 3 levels",
    }


def test_relations() -> None:
    inner = UserFilter(name=StringFilter(eq="x"))
    two = PostFilter(author=inner)
    three = UserFilter(
        posts=PostRelationFilter(
            some=PostFilter(
                author=UserFilter(
                    posts=PostRelationFilter(some=PostFilter(title=StringFilter(eq="t")))
                )
            )
        )
    )
    assert refusal(UserFilter(posts=PostRelationFilter(some=two))) is None
    assert refusal(three, FilterLimits(depth=10, relations=2)) == {
        "where.posts.some.author.posts.some": "relation filters may nest at most 2 levels",
    }


@pytest.mark.parametrize(
    ("where", "refused"),
    [
        pytest.param(UserFilter(or_=[UserFilter()] * 4), False, id="or-at-the-limit"),
        pytest.param(UserFilter(or_=[UserFilter()] * 5), True, id="or-over-the-limit"),
        pytest.param(
            UserFilter(id=IDFilter(in_=[strawberry.ID(to_global_id("User", 1))] * 1000)),
            False,
            id="a-list-counts-once",
        ),
        pytest.param(
            UserFilter(name=StringFilter(ne="a", contains="b"), email=StringFilter(ne="c", eq="d")),
            False,
            id="operators-at-the-limit",
        ),
        pytest.param(
            UserFilter(
                name=StringFilter(ne="a", contains="b", eq="e"), email=StringFilter(ne="c", eq="d")
            ),
            True,
            id="operators-over-the-limit",
        ),
    ],
)
def test_terms(where: UserFilter, refused: bool) -> None:
    expected = {"where": "filters may hold at most 4 conditions"} if refused else None
    assert refusal(where) == expected


def test_pattern_length() -> None:
    assert refusal(UserFilter(name=StringFilter(contains="12345"))) is None
    assert refusal(UserFilter(name=StringFilter(contains="123456"))) == {
        "where.name.contains": "must be at most 5 characters"
    }
