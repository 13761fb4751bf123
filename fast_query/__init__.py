"""fast_query: an async repository and query-builder layer on SQLAlchemy 2.

It knows nothing of web frameworks or GraphQL.
"""

from fast_query._balanced import conjunction, disjunction
from fast_query._integrity import integrity_errors
from fast_query._refusals import is_timeout, is_too_complex
from fast_query._text import text_contains, text_ends_with, text_starts_with
from fast_query.base import NAMING_CONVENTION, Base
from fast_query.dialects import dialect_name, insert_for
from fast_query.engine import SQLITE_BEGIN_IMMEDIATE, autocommit_connection, create_engine
from fast_query.exceptions import (
    FastQueryError,
    ForeignKeyViolation,
    IntegrityViolation,
    InvalidQuery,
    NoSessionBound,
    NotNullViolation,
    RecordNotFound,
    UniqueViolation,
)
from fast_query.mixins import SoftDeletesMixin, TimestampMixin
from fast_query.pagination import Page
from fast_query.predicates import (
    Trashed,
    all_of,
    escape_like,
    like,
    relationship_of,
    soft_delete_criteria,
    values_in,
    values_not_in,
    where_all,
)
from fast_query.query import OrderKey, QueryBuilder
from fast_query.raw import RawSelect, SelectTemplate, compile_select
from fast_query.repository import BaseRepository
from fast_query.rules import (
    AllOf,
    AnyOf,
    Anyone,
    Equals,
    Flag,
    IsNull,
    IsTrue,
    Nobody,
    Reaches,
    Rule,
)
from fast_query.scope import NO_SCOPES, ColumnRule, Computed, IdentityMemo, RowScope, Scopes
from fast_query.session import SerializedAsyncSession, create_session_factory
from fast_query.transaction import connection_transaction, transaction, write_statement
from fast_query.types import UTCDateTime, utcnow

__all__ = [
    "AllOf",
    "AnyOf",
    "Anyone",
    "Equals",
    "Flag",
    "IsNull",
    "IsTrue",
    "Nobody",
    "Reaches",
    "Rule",
    "NAMING_CONVENTION",
    "NO_SCOPES",
    "SQLITE_BEGIN_IMMEDIATE",
    "Base",
    "BaseRepository",
    "FastQueryError",
    "ForeignKeyViolation",
    "IntegrityViolation",
    "InvalidQuery",
    "NoSessionBound",
    "NotNullViolation",
    "OrderKey",
    "Page",
    "QueryBuilder",
    "RawSelect",
    "RecordNotFound",
    "ColumnRule",
    "Computed",
    "IdentityMemo",
    "RowScope",
    "Scopes",
    "SelectTemplate",
    "SerializedAsyncSession",
    "SoftDeletesMixin",
    "TimestampMixin",
    "Trashed",
    "UTCDateTime",
    "UniqueViolation",
    "all_of",
    "compile_select",
    "conjunction",
    "connection_transaction",
    "create_engine",
    "dialect_name",
    "insert_for",
    "autocommit_connection",
    "create_session_factory",
    "disjunction",
    "escape_like",
    "integrity_errors",
    "is_timeout",
    "is_too_complex",
    "like",
    "relationship_of",
    "soft_delete_criteria",
    "text_contains",
    "text_ends_with",
    "text_starts_with",
    "transaction",
    "write_statement",
    "utcnow",
    "values_in",
    "values_not_in",
    "where_all",
]
