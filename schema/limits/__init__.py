"""Query limits checked before execution: depth, aliases, tokens, variables and cost.

Over a limit, a request gets ``QUERY_TOO_COMPLEX`` with ``limit`` and
``actual``. Introspection (``__schema``, ``__type``) counts toward no limit
but tokens, so GraphiQL and code generators always get the schema.
"""

from schema.limits.aliases import max_aliases_rule
from schema.limits.cost import query_cost
from schema.limits.depth import max_depth_rule
from schema.limits.duplicates import max_repeats_rule
from schema.limits.errors import QUERY_TOO_COMPLEX, too_complex
from schema.limits.variables import MAX_VARIABLE_VALUES, variable_values

__all__ = [
    "MAX_VARIABLE_VALUES",
    "QUERY_TOO_COMPLEX",
    "max_aliases_rule",
    "max_depth_rule",
    "max_repeats_rule",
    "query_cost",
    "too_complex",
    "variable_values",
]
