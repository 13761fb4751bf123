"""A generic repository: CRUD, smart delete, restore and pagination for one model."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar, cast

from sqlalchemy import (
    Column,
    ColumnElement,
    Table,
    delete,
    exists,
    insert,
    literal,
    select,
    true,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from fast_query._integrity import integrity_errors
from fast_query._lists import values_in
from fast_query.base import Base
from fast_query.dialects import dialect_name, insert_for
from fast_query.exceptions import InvalidQuery, RecordNotFound
from fast_query.mixins import SoftDeletesMixin
from fast_query.pagination import Page
from fast_query.predicates import Trashed
from fast_query.query import QueryBuilder
from fast_query.scope import ColumnRule, IdentityMemo, RowScope, Scopes, bind_values
from fast_query.session import exclusive

ModelT = TypeVar("ModelT", bound=Base)


class BaseRepository(Generic[ModelT]):
    """Data access for one model over an explicit ``AsyncSession``.

    Writes are flushed, so constraint violations surface at the call as
    ``IntegrityViolation``; they are committed only when the repository was
    made with ``commit=True``. The server keeps ``commit=False`` and commits
    once per mutation.

    Subclasses set ``model``, and ``scope`` when a request sees only some
    rows (a tenant's, the viewer's); its bind parameters take their values
    from ``params``::

        class PostRepository(BaseRepository[Post]):
            model = Post
            scope = RowScope(lambda posts: posts.user_id == bindparam("viewer_id"))

        posts = PostRepository(session, params={"viewer_id": 7})

    Every generic read, and every generic write given a key, goes through
    ``query()``, so a row outside the scope is as missing as a row that does
    not exist (a write given an object trusts that it was read through the
    scope; a method of a subclass that writes with its own statements checks
    its rows itself). ``scopes`` are those of every model the queries reach
    (``where_has``, ``with_``); by default this repository's own, always
    included. ``query()`` cannot be overridden: reads that do not call it
    (another model's ``where_has``, a server's batched loads) apply the
    scope, so narrowing ``query()`` instead would hold on some paths only.
    """

    model: ClassVar[type[Any]]
    scope: ClassVar[RowScope | None] = None
    #: Which soft-deleted rows a read that asks for them (``with_trashed``) may see.
    trashed_scope: ClassVar[RowScope | None] = None
    #: Columns some requests see as ``NULL``, with the rule of who sees them.
    masks: ClassVar[Mapping[str, ColumnRule]] = {}
    #: Who may change (``update``) and remove (``delete``, ``restore``) a row it can see;
    #: ``None``: anyone who can see it. ``find_checked`` reads a row and its answer at once.
    can_update: ClassVar[ColumnRule | None] = None
    can_delete: ClassVar[ColumnRule | None] = None
    _own_scopes_memo: ClassVar[IdentityMemo[Scopes] | None] = None

    def __init__(
        self,
        session: AsyncSession,
        *,
        commit: bool = False,
        scopes: Scopes | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        self.session = session
        self.commit_writes = commit
        own = type(self).own_scopes()
        self.scopes = own if scopes is None else scopes.including(own)
        self.params: Mapping[str, Any] = {} if params is None else params

    @classmethod
    def own_scopes(cls) -> Scopes:
        """The scopes this repository declares, made once while its declarations stand
        (a test may give it another scope)."""
        memo = cls.__dict__.get("_own_scopes_memo")
        if memo is None:
            memo = IdentityMemo[Scopes]()
            cls._own_scopes_memo = memo
        declared = (cls.model, cls.scope, cls.trashed_scope, cls.masks)
        return memo.get(declared, lambda: Scopes.of([cls]))

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "query" in cls.__dict__:
            raise TypeError(
                f"{cls.__name__} overrides query(): declare the rows it may see as its "
                "row scope (scope = RowScope(...)), which every path that reads them applies"
            )

    def query(self) -> QueryBuilder[ModelT]:
        """A query builder on this repository's model and session, with its scopes and params."""
        return QueryBuilder(self.model, self.session, scopes=self.scopes, params=self.params)

    @property
    def soft_deletes(self) -> bool:
        return issubclass(self.model, SoftDeletesMixin)

    # -- reads ----------------------------------------------------------------

    async def find(
        self, id: Any, *, trashed: Trashed = Trashed.WITHOUT, for_update: bool = False
    ) -> ModelT | None:
        """The row with primary key ``id``, or ``None`` (soft-deleted rows per ``trashed``).

        ``for_update`` locks the row for the rest of the transaction, as a
        write that depends on what it reads needs (``QueryBuilder.lock_for_update``).
        """
        query = self.query().trashed(trashed).where(self._pk() == id)
        return await (query.lock_for_update() if for_update else query).first()

    async def find_checked(
        self, id: Any, rule: ColumnRule | None, *, trashed: Trashed = Trashed.WITHOUT
    ) -> tuple[ModelT, bool] | None:
        """The row with key ``id``, locked, and whether ``rule`` allows it: one statement.

        ``None`` when the request cannot see the row. The lock holds until the
        transaction ends, so what the rule read cannot change before the write.
        """
        query = self.query().trashed(trashed).where(self._pk() == id).lock_for_update().limit(1)
        statement = query.statement
        allowed = true() if rule is None else rule.where(self.model)
        result = await self.session.execute(
            statement.add_columns(allowed.label("fq_allowed")), dict(self.params)
        )
        found = result.first()
        if found is None:
            return None
        return found[0], bool(found[1])

    async def find_or_fail(
        self, id: Any, *, trashed: Trashed = Trashed.WITHOUT, for_update: bool = False
    ) -> ModelT:
        """The row with primary key ``id``; ``RecordNotFound`` when there is none."""
        row = await self.find(id, trashed=trashed, for_update=for_update)
        if row is None:
            raise RecordNotFound(self.model.__name__, id)
        return row

    async def find_many(
        self, ids: Sequence[Any], *, trashed: Trashed = Trashed.WITHOUT
    ) -> list[ModelT]:
        """The rows whose keys are in ``ids``, in no particular order, in one statement."""
        if not ids:
            return []
        return await self.query().trashed(trashed).where_in(self._pk(), ids).get()

    async def all(self, *, trashed: Trashed = Trashed.WITHOUT) -> list[ModelT]:
        return await self.query().trashed(trashed).order_by(self._pk()).get()

    async def count(self, *, trashed: Trashed = Trashed.WITHOUT) -> int:
        return await self.query().trashed(trashed).count()

    async def exists(self, *, trashed: Trashed = Trashed.WITHOUT, **equals: Any) -> bool:
        query = self.query().trashed(trashed)
        return await (query.where(**equals) if equals else query).exists()

    async def paginate(
        self, page: int = 1, per_page: int = 15, *, trashed: Trashed = Trashed.WITHOUT
    ) -> Page[ModelT]:
        return await self.query().trashed(trashed).order_by(self._pk()).paginate(page, per_page)

    # -- writes ---------------------------------------------------------------

    async def create(self, **values: Any) -> ModelT:
        instance: ModelT = self.model(**values)
        async with exclusive(self.session):
            self.session.add(instance)
            await self._persist()
        return instance

    async def bulk_create(self, rows: Iterable[Mapping[str, Any]]) -> list[ModelT]:
        """Insert many rows in batched statements and return them as objects."""
        rows = list(rows)
        if not rows:
            return []
        with integrity_errors():
            result = await self.session.scalars(insert(self.model).returning(self.model), rows)
            created = list(result.all())
        await self._persist()
        return created

    async def update(self, target: ModelT | Any, **values: Any) -> ModelT:
        """Set ``values`` on a live row (given as object or key) and flush."""
        async with exclusive(self.session):
            instance = await self._resolve(target, Trashed.WITHOUT)
            for name, value in values.items():
                if not hasattr(self.model, name):
                    raise InvalidQuery(f"{self.model.__name__} has no attribute {name!r}")
                setattr(instance, name, value)
            await self._persist()
        return instance

    async def delete(self, target: ModelT | Any) -> ModelT:
        """Soft-delete when the model has ``SoftDeletesMixin``, else delete the row.

        Deleting an already soft-deleted row raises ``RecordNotFound``.
        """
        async with exclusive(self.session):
            instance = await self._resolve(target, Trashed.WITHOUT)
            if isinstance(instance, SoftDeletesMixin):
                instance.soft_delete()
            else:
                await self.session.delete(instance)
            await self._persist()
        return instance

    async def restore(self, target: ModelT | Any) -> ModelT:
        """Undo a soft delete; a row that is not soft-deleted raises ``RecordNotFound``."""
        if not self.soft_deletes:
            raise InvalidQuery(f"{self.model.__name__} does not soft-delete")
        async with exclusive(self.session):
            instance = await self._resolve(target, Trashed.ONLY)
            assert isinstance(instance, SoftDeletesMixin)
            instance.restore()
            await self._persist()
        return instance

    async def force_delete(self, target: ModelT | Any) -> None:
        """Delete the row for good, soft-deleted or not."""
        async with exclusive(self.session):
            instance = await self._resolve(target, Trashed.WITH)
            await self.session.delete(instance)
            await self._persist()

    # -- many-to-many links ---------------------------------------------------

    async def attach(self, relation: str, key: Any, other_keys: Iterable[Any]) -> None:
        """Link row ``key`` to the rows ``other_keys`` through many-to-many ``relation``.

        One ``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` (PostgreSQL and
        SQLite): a link that exists already, even one a concurrent call just
        made, is not an error. Only live rows the scopes let this repository
        see are linked, on either side; the others are left alone, as missing.
        """
        others = list(other_keys)
        if not others:
            return
        link = _Link.of(self.model, relation)
        rows = (
            select(literal(key, link.own.type), link.target_key)
            .where(values_in(link.target_key, others))
            .where(self._seen(link.target))
            .where(self._owner_seen(link, key))
        )
        statement = (
            insert_for(dialect_name(self.session))(link.table)
            .from_select([link.own, link.other], rows)
            .on_conflict_do_nothing(index_elements=[link.own.name, link.other.name])
        )
        with integrity_errors():
            await self.session.execute(statement)
        await self._persist()

    async def detach(self, relation: str, key: Any, other_keys: Iterable[Any]) -> None:
        """Unlink row ``key`` from the rows ``other_keys`` of many-to-many ``relation``.

        One ``DELETE``; unlinking what is not linked is not an error. As with
        ``attach``, links to rows the scopes hide (or soft-deleted) stay.
        """
        others = list(other_keys)
        if not others:
            return
        link = _Link.of(self.model, relation)
        target_seen = exists().where(link.target_key == link.other, self._seen(link.target))
        statement = delete(link.table).where(
            link.own == key,
            values_in(link.other, others),
            self._owner_seen(link, key),
            target_seen,
        )
        await self.session.execute(statement)
        await self._persist()

    def _seen(self, model: type[Any], entity: Any = None) -> ColumnElement[bool]:
        """The live rows of ``model`` (on ``entity``) the scopes let this repository see."""
        criteria = self.scopes.criteria(model, Trashed.WITHOUT, entity)
        return true() if criteria is None else bind_values(criteria, self.params)

    def _owner_seen(self, link: _Link, key: Any) -> ColumnElement[bool]:
        """Row ``key`` is seen: on an alias, so a relation of a model to itself works too."""
        owner = aliased(self.model)
        column = getattr(owner, sa_inspect(self.model).get_property_by_column(link.owner_key).key)
        return exists().where(column == key, self._seen(self.model, owner))

    # -- helpers --------------------------------------------------------------

    def _pk(self) -> Any:
        from sqlalchemy import inspect

        primary_key = inspect(self.model).primary_key
        if len(primary_key) != 1:
            raise InvalidQuery(f"{self.model.__name__} has a composite primary key")
        return primary_key[0]

    async def _resolve(self, target: ModelT | Any, trashed: Trashed) -> ModelT:
        if isinstance(target, self.model):
            # An object was read already (through a scope, when it came from a
            # scoped repository); only its soft-delete state is checked, in memory.
            if not _matches(target, trashed):
                raise RecordNotFound(self.model.__name__, _identity(target))
            return cast(ModelT, target)
        return await self.find_or_fail(target, trashed=trashed, for_update=True)

    async def _persist(self) -> None:
        with integrity_errors():
            await self.session.flush()
            if self.commit_writes:
                await self.session.commit()


def _matches(instance: object, trashed: Trashed) -> bool:
    if not isinstance(instance, SoftDeletesMixin) or trashed in (Trashed.WITH, Trashed.RELATED):
        return True
    return instance.is_deleted == (trashed is Trashed.ONLY)


def _identity(instance: object) -> Any:
    from sqlalchemy import inspect

    identity = inspect(instance).identity
    return identity[0] if identity and len(identity) == 1 else identity


@dataclass(frozen=True, slots=True)
class _Link:
    """A many-to-many relationship's association table and the columns it links by."""

    table: Table
    own: Column[Any]  # the association's column holding the owner's key
    other: Column[Any]  # the association's column holding the target's key
    owner_key: Column[Any]
    target_key: Column[Any]
    target: type[Any]

    @classmethod
    def of(cls, model: type[Any], relation: str) -> _Link:
        prop = sa_inspect(model).relationships.get(relation)
        if prop is None or prop.secondary is None:
            raise InvalidQuery(f"{model.__name__}.{relation} is not a many-to-many relationship")
        pairs, target_pairs = prop.synchronize_pairs, prop.secondary_synchronize_pairs or []
        if len(pairs) != 1 or len(target_pairs) != 1:
            raise InvalidQuery(f"{model.__name__}.{relation} links by a composite key")
        (owner_key, own), (target_key, other) = pairs[0], target_pairs[0]
        return cls(
            cast(Table, prop.secondary), own, other, owner_key, target_key, prop.mapper.class_
        )
