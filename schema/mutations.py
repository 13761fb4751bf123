"""The ``Mutation`` root: each type module's mutations (``schema.roots``); each field runs
in a transaction of its own, in document order."""

from __future__ import annotations

from schema import roots

Mutation = roots.root_type("Mutation", "Everything that can be changed.")
