"""One module per node type (its GraphQL type, filter, order, inputs, queries and mutations),
and ``auth`` (accounts and tokens).

``MODULES`` names them in the order the roots publish their fields (``schema.roots``);
``ftf make:model`` adds a new one at the end.
"""

MODULES = ("user", "post", "comment", "role", "auth")
