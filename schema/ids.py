"""Global IDs: base64 of ``TypeName:pk``, as ``strawberry.relay`` makes them."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from schema.errors import UserInputError

# Keys are PostgreSQL ``integer`` (serial) columns.
MIN_KEY = -(2**31)
MAX_KEY = 2**31 - 1
_CANONICAL_INT = re.compile(r"-?(0|[1-9][0-9]*)")


def to_global_id(type_name: str, key: int) -> str:
    return base64.b64encode(f"{type_name}:{key}".encode()).decode("ascii")


@dataclass(frozen=True, slots=True)
class GlobalId:
    type_name: str
    key: int


def parse_global_id(value: str, argument: str) -> GlobalId:
    """Decode a global ID; ``UserInputError`` keyed by ``argument`` when it is malformed.

    A malformed ID is not base64 of ``TypeName:key``, or its key is not an
    integer that fits the database's key column.
    """
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True).decode("utf-8")
    except (UnicodeError, binascii.Error, ValueError):
        raise UserInputError({argument: "malformed ID"}) from None
    if base64.b64encode(raw.encode("utf-8")).decode("ascii") != value:
        raise UserInputError({argument: "malformed ID"})  # not the canonical encoding
    type_name, separator, key = raw.partition(":")
    if not separator or not type_name or not _CANONICAL_INT.fullmatch(key):
        raise UserInputError({argument: "malformed ID"})
    number = int(key)
    if not MIN_KEY <= number <= MAX_KEY:
        raise UserInputError({argument: "malformed ID"})
    return GlobalId(type_name, number)


def parse_key(value: str, type_name: str, argument: str) -> int:
    """The key of a global ID that must be of ``type_name`` (else ``UserInputError``)."""
    global_id = parse_global_id(value, argument)
    if global_id.type_name != type_name:
        raise UserInputError({argument: f"expected the ID of a {type_name}"})
    return global_id.key
