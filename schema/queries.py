"""The ``Query`` root: the viewer, Relay's node lookups, then each type module's lookups and
lists (``schema.roots``)."""

from __future__ import annotations

from schema import roots
from schema.node import node_field, nodes_field
from schema.types.auth import viewer

Query = roots.root_type(
    "Query",
    "Everything that can be read.",
    {"viewer": viewer, "node": node_field, "nodes": nodes_field},
)
