"""A corpus of known GraphQL attacks, each answered promptly with the contract's code.

Every attack carries, in a comment, the time it is answered in on a laptop;
the tests do not assert on time. So that a regression cannot hang CI either,
``guarded()`` bounds each request twice, generously: ``asyncio.wait_for`` for
a request stuck awaiting something, and a ``SIGALRM`` timer for the real
danger of these attacks, CPU-bound work in the event loop's thread, which
``wait_for`` cannot interrupt (the timer raises ``TimeoutError`` wherever
that work is; the server reports it, and the test fails on the answer).
"""

from __future__ import annotations

import asyncio
import signal
from typing import Any

import httpx
import pytest
from graphql import get_introspection_query
from sqlalchemy.ext.asyncio import AsyncEngine

from schema.limits import MAX_VARIABLE_VALUES
from tests.api import Dataset, GraphQL, gid, snapshot

#: Generous bounds that only keep a hanging request from blocking CI. The timer
#: must be the later one: it fires only when the event loop could not run the
#: timeout of ``wait_for``, that is when the loop is stuck in CPU-bound work.
WAIT_FOR = 30.0
WATCHDOG = 60.0

MAX_DEPTH = 10
MAX_ALIASES = 30
MAX_TOKENS = 5_000
MAX_COST = 50_000
MAX_REPEATS = 50  # server.app.MAX_REPEATED_FIELDS


async def attack(gql: GraphQL, query: str, variables: dict[str, Any] | None = None) -> Any:
    """Send one attack; the decoded body of its answer (HTTP 200 checked)."""
    response = await guarded(gql.post(query, variables))
    assert response.status_code == 200, response.text
    return response.json()


async def guarded(request: Any) -> httpx.Response:
    """Await ``request``, giving up on it after a generous time (see the module's doc)."""

    def expire(_signal: int, _frame: object) -> None:
        raise TimeoutError(f"no answer after {WATCHDOG} s: the event loop was kept busy")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, WATCHDOG)
    try:
        response: httpx.Response = await asyncio.wait_for(request, WAIT_FOR)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    return response


def too_complex(limit: int, actual: int | None = None) -> dict[str, Any]:
    extensions: dict[str, Any] = {"code": "QUERY_TOO_COMPLEX", "limit": limit}
    if actual is not None:
        extensions["actual"] = actual
    return extensions


def request_errors(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The extensions of a request error's errors: no ``data`` at all."""
    assert list(body) == ["errors"], body
    return [error["extensions"] for error in body["errors"]]


def aliases(count: int, field: str = "__typename") -> str:
    return " ".join(f"a{n}: {field}" for n in range(count))


# -- alias overloading ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "actual"),
    [
        pytest.param(f"{{ {aliases(31)} }}", 31, id="at-the-root"),
        pytest.param(f"{{ {aliases(31, 'users { totalCount }')} }}", 31, id="of-a-connection"),
        pytest.param(
            f"{{ ...F ...F }} fragment F on Query {{ {aliases(16)} }}", 32, id="in-a-fragment"
        ),
        pytest.param(
            "{ ...A ...A } fragment A on Query { ...B ...B }"
            f" fragment B on Query {{ {aliases(8)} }}",
            32,
            id="in-nested-fragments",
        ),
        pytest.param(
            f"{{ ... on Query {{ {aliases(20)} }} ... {{ {aliases(20)} }} }}",
            40,
            id="in-inline-fragments",
        ),
        pytest.param(
            f"{{ users {{ nodes {{ {aliases(31, 'name')} }} }} }}", 31, id="on-a-nested-field"
        ),
        pytest.param(f"{{ {aliases(1_500)} }}", 1_500, id="fifteen-hundred"),
    ],
)
async def test_alias_overloading_is_query_too_complex(
    gql: GraphQL, query: str, actual: int
) -> None:
    # answered within 0.1 s
    body = await attack(gql, query)

    assert request_errors(body) == [too_complex(MAX_ALIASES, actual)]


async def test_thirty_aliases_are_fine(gql: GraphQL) -> None:
    body = await attack(gql, f"{{ {aliases(30)} }}")

    assert body == {"data": {f"a{n}": "Query" for n in range(30)}}


# -- field duplication ------------------------------------------------------------------

USERS_NAMES = "users { nodes { name } }"


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("{ " + " ".join([USERS_NAMES] * 300) + " }", id="directly"),
        pytest.param(
            "{ " + " ".join([f"... on Query {{ {USERS_NAMES} }}"] * 300) + " }",
            id="in-inline-fragments",
        ),
        pytest.param(
            "{ "
            + " ".join(f"...F{n}" for n in range(300))
            + " } "
            + " ".join(f"fragment F{n} on Query {{ {USERS_NAMES} }}" for n in range(300)),
            id="through-named-fragments",
        ),
        pytest.param(
            "{ users { nodes { " + " ".join(["posts { nodes { title } }"] * 300) + " } } }",
            id="nested",
        ),
    ],
)
async def test_a_field_with_a_selection_repeated_hundreds_of_times_is_query_too_complex(
    gql: GraphQL, query: str
) -> None:
    # answered within 0.2 s: refused before the quadratic check that fields merge
    body = await attack(gql, query)

    assert request_errors(body) == [too_complex(MAX_REPEATS, 300)]


async def test_a_field_with_a_selection_repeated_up_to_the_limit_runs(
    gql: GraphQL, blog: Dataset
) -> None:
    body = await attack(gql, "{ " + " ".join([USERS_NAMES] * MAX_REPEATS) + " }")

    names = ["Ada Lovelace", "Bob Builder", "Dee Quiet"]
    assert body == {"data": {"users": {"nodes": [{"name": name} for name in names]}}}


async def test_a_leaf_repeated_hundreds_of_times_is_merged(gql: GraphQL, blog: Dataset) -> None:
    # answered within 0.2 s
    body = await attack(gql, "{ users { nodes { " + " ".join(["name"] * 500) + " } } }")

    names = ["Ada Lovelace", "Bob Builder", "Dee Quiet"]
    assert body == {"data": {"users": {"nodes": [{"name": name} for name in names]}}}


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("{ users { nodes { " + " ".join(["name"] * 4_900) + " } } }", id="name"),
        pytest.param("{ " + " ".join(["__typename"] * 4_990) + " }", id="typename"),
    ],
)
async def test_a_leaf_repeated_thousands_of_times_is_query_too_complex(
    gql: GraphQL, query: str
) -> None:
    # answered within 1 s: graphql-core gives up comparing the fields pairwise once
    # its work budget is spent (a thousand copies do it); the document is valid, so
    # it is too complex, not invalid.
    body = await attack(gql, query)

    assert request_errors(body) == [{"code": "QUERY_TOO_COMPLEX"}]


# -- deep nesting ---------------------------------------------------------------------------


async def test_a_query_deeper_than_ten_is_query_too_complex(gql: GraphQL) -> None:
    # answered within 0.1 s
    query = (
        "{ users { nodes { posts { nodes { author { posts { nodes {"
        " author { posts { nodes { author { id } } } } } } } } } } } }"
    )

    body = await attack(gql, query)

    assert request_errors(body) == [too_complex(MAX_DEPTH, 12)]


async def test_a_query_ten_deep_runs(gql: GraphQL, blog: Dataset) -> None:
    query = (
        "{ users(first: 1) { nodes { posts(first: 1) { nodes { author {"
        " posts(first: 1) { nodes { author { posts { totalCount } } } } } } } } } }"
    )

    body = await attack(gql, query)

    inner = {"author": {"posts": {"totalCount": 2}}}  # Ada's live posts
    outer = {"posts": {"nodes": [{"author": {"posts": {"nodes": [inner]}}}]}}
    assert body == {"data": {"users": {"nodes": [outer]}}}


async def test_depth_hidden_in_nested_fragments_is_counted(gql: GraphQL) -> None:
    # answered within 0.1 s: 20 fragments, each three levels deeper than the last
    fragments = ["fragment F0 on User { id }"] + [
        f"fragment F{n} on User {{ posts {{ nodes {{ author {{ ...F{n - 1} }} }} }} }}"
        for n in range(1, 20)
    ]
    query = "{ users { nodes { ...F19 } } } " + " ".join(fragments)

    body = await attack(gql, query)

    assert request_errors(body) == [too_complex(MAX_DEPTH, 3 + 3 * 19)]


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("{ " + "users { nodes { " * 150 + "id" + " } }" * 150 + " }", id="fields"),
        pytest.param("{ nodes(ids: " + "[" * 3_000 + "]" * 3_000 + ") { id } }", id="list-value"),
        pytest.param(
            "{ users(where: " + "{not: " * 1_000 + "{}" + "}" * 1_000 + ") { totalCount } }",
            id="object-value",
        ),
    ],
)
async def test_nesting_beyond_what_the_parser_takes_is_query_too_complex(
    gql: GraphQL, query: str
) -> None:
    # answered within 0.1 s: the parser stops at 200 levels, before any recursion limit
    body = await attack(gql, query)

    assert request_errors(body) == [too_complex(MAX_DEPTH)]


# -- fragment bombs -----------------------------------------------------------------------


def fragment_bomb(levels: int, on: str, base: str, spread_at: str) -> str:
    """Fragments that each spread the one below twice: 2**(levels-1) copies of ``base``."""
    fragments = [f"fragment F0 on {on} {{ {base} }}"] + [
        f"fragment F{n} on {on} {{ ...F{n - 1} ...F{n - 1} }}" for n in range(1, levels)
    ]
    return spread_at.replace("...", f"...F{levels - 1}") + " " + " ".join(fragments)


BOMB_LEVELS = 30  # 2**29 copies: measured in linear time, or never answered


@pytest.mark.parametrize(
    ("base", "actual", "limit"),
    [
        pytest.param("a: name", 2 ** (BOMB_LEVELS - 1), MAX_ALIASES, id="of-aliases"),
        pytest.param(
            "posts { nodes { id } }", 2 ** (BOMB_LEVELS - 1), MAX_REPEATS, id="of-selections"
        ),
    ],
)
async def test_a_fragment_bomb_is_measured_in_linear_time_and_refused(
    gql: GraphQL, base: str, actual: int, limit: int
) -> None:
    # answered within 0.1 s
    query = fragment_bomb(BOMB_LEVELS, "User", base, "{ users { nodes { ... } } }")

    body = await attack(gql, query)

    assert request_errors(body) == [too_complex(limit, actual)]


@pytest.mark.parametrize(
    ("on", "base", "spread_at"),
    [
        pytest.param("User", "name", "{ users { nodes { ... } } }", id="of-a-leaf"),
        pytest.param("UserConnection", "totalCount", "{ users { ... } }", id="in-a-connection"),
        pytest.param("UserEdge", "cursor", "{ users { edges { ... } } }", id="in-an-edge"),
    ],
)
async def test_a_fragment_bomb_of_a_leaf_runs_as_one_copy_of_it(
    gql: GraphQL, blog: Dataset, on: str, base: str, spread_at: str
) -> None:
    # answered within 0.1 s. Execution spreads a fragment once per selection set, so
    # these 2**29 copies of one leaf are one field: no limit is over (no alias, no
    # repeated selection, depth 3, a cost of 20), and validation, cost, the fast path
    # plan and execution all measure fragments in linear time (the fast path planner
    # and the cost of a connection's fragments used to take 2**29 steps: hours).
    one_copy = await attack(gql, spread_at.replace("...", base))

    body = await attack(gql, fragment_bomb(BOMB_LEVELS, on, base, spread_at))

    assert list(one_copy) == ["data"]
    assert body == one_copy


# -- circular fragments -------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("{ users { nodes { ...A } } } fragment A on User { name ...A }", id="self"),
        pytest.param(
            "{ users { nodes { ...A } } } fragment A on User { ...B } fragment B on User { ...A }",
            id="two",
        ),
        pytest.param(
            "{ users { nodes { ...F0 } } } "
            + " ".join(f"fragment F{n} on User {{ name ...F{(n + 1) % 50} }}" for n in range(50)),
            id="fifty",
        ),
        pytest.param(
            "{ users { nodes { "
            + " ".join(["...A"] * 10)
            + " } } } fragment A on User { posts { nodes { author { ...A } } } }",
            id="through-fields",
        ),
    ],
)
async def test_circular_fragments_are_graphql_validation_failed(gql: GraphQL, query: str) -> None:
    # answered within 0.1 s: the limits skip a fragment they are already inside
    body = await attack(gql, query)

    extensions = request_errors(body)
    assert extensions
    assert all(e == {"code": "GRAPHQL_VALIDATION_FAILED"} for e in extensions)
    assert any("within itself" in error["message"] for error in body["errors"])


# -- directive overloading --------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        pytest.param(
            "{ users { nodes { name " + "@include(if: true) " * 500 + "} } }", id="include"
        ),
        pytest.param(
            "{ users { nodes { name " + "@include(if: true) @skip(if: false) " * 300 + "} } }",
            id="include-and-skip",
        ),
        pytest.param(
            "query($no: Boolean = false) { users { nodes { name "
            + "@skip(if: $no) " * 600
            + "} } }",
            id="skip-with-a-variable",
        ),
    ],
)
async def test_directive_overloading_is_graphql_validation_failed(gql: GraphQL, query: str) -> None:
    # answered within 0.5 s: @include and @skip may appear once per field; the
    # errors stop at graphql-core's limit of 100 (and one saying so)
    body = await attack(gql, query)

    extensions = request_errors(body)
    assert len(extensions) == 101
    assert all(e == {"code": "GRAPHQL_VALIDATION_FAILED"} for e in extensions)
    messages = [error["message"] for error in body["errors"]]
    once = "The directive '@{}' can only be used once at this location."
    assert set(messages[:100]) <= {once.format("include"), once.format("skip")}
    assert messages[100].startswith("Too many validation errors")


async def test_directives_past_the_token_limit_are_query_too_complex(gql: GraphQL) -> None:
    # answered within 0.1 s
    body = await attack(gql, "{ __typename " + "@skip(if: false) " * 1_000 + "}")

    assert request_errors(body) == [too_complex(MAX_TOKENS)]


# -- huge lists of IDs --------------------------------------------------------------------

NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"


async def test_a_literal_list_of_thousands_of_ids_is_over_the_token_limit(gql: GraphQL) -> None:
    # answered within 0.1 s: parsing stops at the 5,001st token
    ids = ", ".join(f'"{gid("User", n)}"' for n in range(6_000))

    body = await attack(gql, f"{{ nodes(ids: [{ids}]) {{ id }} }}")

    assert request_errors(body) == [too_complex(MAX_TOKENS)]


async def test_tens_of_thousands_of_ids_in_a_variable_are_query_too_complex(
    gql: GraphQL,
) -> None:
    # answered within 0.1 s: the variables are counted before they are coerced. Let
    # through, 40,000 keys would reach one statement: PostgreSQL takes at most 32,767
    # bound parameters and SQLite 32,766 by default.
    ids = [gid("User", n) for n in range(40_000)]

    body = await attack(gql, NODES, {"ids": ids})

    assert request_errors(body) == [too_complex(MAX_VARIABLE_VALUES, 40_001)]


async def test_as_many_ids_as_the_variables_may_hold_are_answered(
    gql: GraphQL, blog: Dataset
) -> None:
    # answered within 2 s, through the resolvers: one statement per type
    count = MAX_VARIABLE_VALUES - 1  # and the list itself
    ids = [gid("User" if n % 2 else "Post", n // 2) for n in range(count)]

    body = await attack(gql, NODES, {"ids": ids})

    found = {n: node for n, node in enumerate(body["data"]["nodes"]) if node is not None}
    live_users = {blog.users[key] for key in ("ada", "bob", "dee")}
    live_posts = {blog.posts[key] for key in ("a1", "a2", "b1", "b2", "c1")}
    expected = {
        n: {"id": ids[n]} for n in range(count) if (n // 2) in (live_users if n % 2 else live_posts)
    }
    assert list(body) == ["data"]
    assert len(body["data"]["nodes"]) == count
    assert found == expected


async def test_ids_whose_nodes_cost_too_much_are_query_too_complex(gql: GraphQL) -> None:
    # answered within 0.1 s: each of 5,000 users could bring 20 posts
    ids = [gid("User", n) for n in range(5_000)]
    query = "query($ids: [ID!]!) { nodes(ids: $ids) { ... on User { posts { nodes { id } } } } }"

    body = await attack(gql, query, {"ids": ids})

    assert request_errors(body) == [too_complex(MAX_COST, 5_000 * (1 + 20))]


# -- oversized and unbounded inputs -----------------------------------------------------------

CREATE_POST = """
mutation($author: ID!, $title: String!, $body: String!) {
  createPost(input: {authorId: $author, title: $title, body: $body}) { id }
}
"""


@pytest.mark.parametrize(
    ("title", "text", "fields"),
    [
        pytest.param(
            "x" * 1_000_000, "Body", {"input.title": "must be 1 to 200 characters"}, id="title"
        ),
        pytest.param(
            "Title", "x" * 1_000_000, {"input.body": "must be at most 50000 characters"}, id="body"
        ),
    ],
)
async def test_a_megabyte_string_in_an_input_is_bad_user_input(
    gql: GraphQL,
    blog: Dataset,
    committed_engine: AsyncEngine,
    title: str,
    text: str,
    fields: dict[str, str],
) -> None:
    # answered within 0.1 s
    before = await snapshot(committed_engine)
    variables = {"author": gid("User", blog.users["ada"]), "title": title, "body": text}

    body = await attack(gql, CREATE_POST, variables)

    assert body["data"] == {"createPost": None}
    assert [error["extensions"] for error in body["errors"]] == [
        {"code": "BAD_USER_INPUT", "fields": fields}
    ]
    assert await snapshot(committed_engine) == before


async def test_a_string_over_the_body_limit_is_413(gql: GraphQL, blog: Dataset) -> None:
    # answered within 0.1 s: refused before the body is parsed
    variables = {"author": gid("User", blog.users["ada"]), "title": "T", "body": "x" * (1 << 20)}

    response = await guarded(gql.post(CREATE_POST, variables))

    assert response.status_code == 413
    assert [error["extensions"] for error in response.json()["errors"]] == [{"code": "BAD_REQUEST"}]


@pytest.mark.parametrize(
    ("where", "values"),
    [
        pytest.param({"or": [{}] * 300_000}, 300_002, id="an-or-of-300000-filters"),
        pytest.param({"name": {"in": ["a"] * 200_000}}, 200_003, id="an-in-of-200000-strings"),
    ],
)
async def test_variables_too_large_to_coerce_are_query_too_complex(
    gql: GraphQL, where: dict[str, Any], values: int
) -> None:
    # answered within 0.1 s; coerced and converted, each list would hold the event
    # loop for many seconds before the filter could refuse it.
    body = await attack(
        gql, "query($where: UserFilter) { users(where: $where) { totalCount } }", {"where": where}
    )

    assert request_errors(body) == [too_complex(MAX_VARIABLE_VALUES, values)]


async def test_a_thousand_orderings_fit_in_the_variables(gql: GraphQL, blog: Dataset) -> None:
    order = [{"field": "NAME", "direction": "DESC"}] * 1_000  # 3,001 values

    body = await attack(
        gql, "query($o: [UserOrder!]) { users(orderBy: $o) { nodes { name } } }", {"o": order}
    )

    names = ["Dee Quiet", "Bob Builder", "Ada Lovelace"]
    assert body == {"data": {"users": {"nodes": [{"name": name} for name in names]}}}


@pytest.mark.parametrize(
    ("query", "argument", "path"),
    [
        pytest.param("{ users(first: 2147483647) { totalCount } }", "first", ["users"], id="first"),
        pytest.param("{ users(last: 1000000) { totalCount } }", "last", ["users"], id="last"),
        pytest.param(
            "{ users { nodes { posts(first: 5000) { totalCount } } } }",
            "first",
            ["users", "nodes", 0, "posts"],
            id="nested",
        ),
    ],
)
async def test_a_huge_page_size_is_bad_user_input(
    gql: GraphQL, blog: Dataset, query: str, argument: str, path: list[Any]
) -> None:
    # answered within 0.1 s: the cost counts the page as the maximum, the resolver refuses it
    body = await attack(gql, query)

    assert body["data"] is None
    assert [(error["path"], error["extensions"]) for error in body["errors"]] == [
        (path, {"code": "BAD_USER_INPUT", "fields": {argument: "must be at most 100"}})
    ]


async def test_a_page_size_beyond_int_in_a_variable_is_bad_user_input(gql: GraphQL) -> None:
    body = await attack(gql, "query($n: Int) { users(first: $n) { totalCount } }", {"n": 10**12})

    assert request_errors(body) == [{"code": "BAD_USER_INPUT"}]


async def test_a_page_size_beyond_int_in_the_document_is_graphql_validation_failed(
    gql: GraphQL,
) -> None:
    body = await attack(gql, "{ users(first: 2147483648) { totalCount } }")

    assert request_errors(body) == [{"code": "GRAPHQL_VALIDATION_FAILED"}]


# -- cost bombs ---------------------------------------------------------------------------

COST_BOMB = (
    "{ users(first: 100) { nodes { posts(first: 100) { nodes {"
    " comments(first: 100) { nodes { body } } } } } } }"
)


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        pytest.param(COST_BOMB, None, id="literal"),
        pytest.param(
            "query($n: Int) { users(first: $n) { nodes { posts(first: $n) { nodes {"
            " comments(first: $n) { nodes { body } } } } } } }",
            {"n": 100},
            id="variables",
        ),
        pytest.param(
            "{ users(first: 100) { ...U } } fragment U on UserConnection { nodes { ...P } }"
            " fragment P on User { posts(first: 100) { edges { node { ...C } } } }"
            " fragment C on Post { comments(first: 100) { nodes { body } } }",
            None,
            id="fragments",
        ),
    ],
)
async def test_nested_connections_of_a_hundred_are_query_too_complex(
    gql: GraphQL, query: str, variables: Any
) -> None:
    # answered within 0.1 s: 100 × (1 + 100 × (1 + 100)) objects could come back
    body = await attack(gql, query, variables)

    assert request_errors(body) == [too_complex(MAX_COST, 1_010_100)]


# -- introspection -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"descriptions": True}, id="graphiql"),
        pytest.param(
            {
                "descriptions": True,
                "specified_by_url": True,
                "directive_is_repeatable": True,
                "schema_description": True,
                "input_value_deprecation": True,
            },
            id="every-option",
        ),
    ],
)
async def test_the_full_introspection_query_passes_the_default_limits(
    gql: GraphQL, options: dict[str, bool]
) -> None:
    # answered within 0.3 s: introspection counts toward no limit but tokens
    body = await attack(gql, get_introspection_query(**options))

    assert list(body) == ["data"]
    schema = body["data"]["__schema"]
    assert schema["queryType"] == {"name": "Query", "kind": "OBJECT"}
    assert schema["mutationType"] == {"name": "Mutation", "kind": "OBJECT"}
    assert {"User", "Post", "Comment", "Role"} <= {type_["name"] for type_ in schema["types"]}
