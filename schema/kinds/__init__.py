"""The generic field kinds: each one a class that owns its read.

A kind knows the statement its field runs (built from the model's scoped
query, so a repository's row scope holds on every path), the resolver that
runs it through the request's loaders, and how the fast path plans and runs
the same statement. ``schema.fields`` makes Strawberry fields of them.

The package imports no kind eagerly: the fast path's engine imports
``schema.kinds.base``, and the kinds import the engine.
"""
