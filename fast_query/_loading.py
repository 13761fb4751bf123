"""Related rows read with their parents: eager loads and counts, under the row scopes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

from sqlalchemy import func, select
from sqlalchemy.orm.interfaces import LoaderOption
from sqlalchemy.sql.expression import ScalarSelect

from fast_query.predicates import Trashed, relationship_of, where_all
from fast_query.scope import Scopes, bind_values


def load_path(
    model: type[Any],
    path: str,
    strategy: Callable[..., Any],
    scopes: Scopes,
    params: Mapping[str, Any],
) -> LoaderOption:
    """``strategy`` (``selectinload``, ``joinedload``) along a dotted path of relationships.

    Each level loads the rows that exist: a to-many relation hides trashed
    rows, a to-one shows its row even when trashed, and both keep to the
    target's row scope.
    """
    load: Any = None
    for name in path.split("."):
        prop = relationship_of(model, name)
        attribute: Any = getattr(model, name)
        target = prop.mapper.class_
        trashed = Trashed.WITHOUT if prop.uselist else Trashed.WITH
        criteria = scopes.criteria(target, trashed)
        if criteria is not None:
            # A selectinload runs a statement of its own, without the parameters of this one.
            attribute = attribute.and_(bind_values(criteria, params))
        load = strategy(attribute) if load is None else getattr(load, strategy.__name__)(attribute)
        model = target
    return cast(LoaderOption, load)


def count_subquery(model: type[Any], relation: str, scopes: Scopes) -> ScalarSelect[int]:
    """How many rows of ``model``'s ``relation`` exist for each row: a correlated subquery."""
    prop = relationship_of(model, relation)
    target = prop.mapper.class_
    counted = select(func.count())
    if prop.secondary is not None:
        assert prop.secondaryjoin is not None
        counted = counted.select_from(prop.secondary.join(target, prop.secondaryjoin))
    else:
        counted = counted.select_from(target)
    counted = where_all(counted, prop.primaryjoin, scopes.criteria(target))
    return counted.correlate(model).scalar_subquery()
