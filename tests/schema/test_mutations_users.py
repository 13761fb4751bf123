"""createUser, updateUser, deleteUser and restoreUser through HTTP (contract sections 2, 3, 7)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.api import Dataset, GraphQL, at, field_error, gid, iso, snapshot

USER = "id name email createdAt updatedAt deletedAt"

CREATE = f"mutation($input: CreateUserInput!) {{ createUser(input: $input) {{ {USER} }} }}"
UPDATE = (
    "mutation($id: ID!, $input: UpdateUserInput!) "
    f"{{ updateUser(id: $id, input: $input) {{ {USER} }} }}"
)
DELETE = f"mutation($id: ID!) {{ deleteUser(id: $id) {{ {USER} }} }}"
RESTORE = f"mutation($id: ID!) {{ restoreUser(id: $id) {{ {USER} }} }}"


# -- createUser -------------------------------------------------------------------------------


async def test_create_user_stores_a_trimmed_name_and_a_trimmed_lower_cased_email(
    gql: GraphQL, committed_engine: AsyncEngine
) -> None:
    data = await gql.data(
        CREATE, {"input": {"name": "  Grace Hopper \t", "email": "  Grace.Hopper@Example.COM \n"}}
    )

    user = data["createUser"]
    [row] = (await snapshot(committed_engine))["users"]
    assert user == {
        "id": gid("User", row["id"]),
        "name": "Grace Hopper",
        "email": "grace.hopper@example.com",
        "createdAt": iso(row["created_at"]),
        "updatedAt": iso(row["created_at"]),
        "deletedAt": None,
    }
    assert (row["name"], row["email"], row["deleted_at"]) == (
        "Grace Hopper",
        "grace.hopper@example.com",
        None,
    )
    assert row["updated_at"] == row["created_at"]
    again = await gql.data(f"query($id: ID!) {{ user(id: $id) {{ {USER} }} }}", {"id": user["id"]})
    assert again == {"user": user}


@pytest.mark.parametrize(
    ("name", "stored"),
    [
        pytest.param("x", "x", id="one-character"),
        pytest.param("x" * 100, "x" * 100, id="100-characters"),
        pytest.param("  " + "x" * 100 + "  ", "x" * 100, id="100-after-trimming"),
        pytest.param("😀" * 100, "😀" * 100, id="100-emoji"),
        pytest.param("Zoë Ångström", "Zoë Ångström", id="accents"),
    ],
)
async def test_create_user_accepts_names_of_1_to_100_code_points(
    gql: GraphQL, committed_engine: AsyncEngine, name: str, stored: str
) -> None:
    data = await gql.data(CREATE, {"input": {"name": name, "email": "n@example.com"}})

    assert data["createUser"]["name"] == stored
    assert [row["name"] for row in (await snapshot(committed_engine))["users"]] == [stored]


@pytest.mark.parametrize(
    "email",
    [
        pytest.param("a@b.co", id="short"),
        pytest.param("first.last+tag@mail.example.org", id="plus-and-subdomain"),
        pytest.param("x" * 242 + "@example.com", id="254-characters"),
        pytest.param("  " + "x" * 242 + "@example.com  ", id="254-after-trimming"),
    ],
)
async def test_create_user_accepts_valid_emails(
    gql: GraphQL, committed_engine: AsyncEngine, email: str
) -> None:
    data = await gql.data(CREATE, {"input": {"name": "Ok", "email": email}})

    assert data["createUser"]["email"] == email.strip()


INVALID_CREATES = [
    pytest.param({"name": ""}, {"input.name": "must not be blank"}, id="empty-name"),
    pytest.param({"name": " \t\n "}, {"input.name": "must not be blank"}, id="blank-name"),
    pytest.param(
        {"name": "x" * 101}, {"input.name": "must be 1 to 100 characters"}, id="101-characters"
    ),
    pytest.param(
        {"name": "😀" * 101}, {"input.name": "must be 1 to 100 characters"}, id="101-emoji"
    ),
    pytest.param(
        {"email": "no-at-sign.example.com"},
        {"input.email": "must be a valid email address"},
        id="email-without-at",
    ),
    pytest.param(
        {"email": "someone@localhost"},
        {"input.email": "must be a valid email address"},
        id="email-without-dot-in-domain",
    ),
    pytest.param(
        {"email": "some one@example.com"},
        {"input.email": "must be a valid email address"},
        id="email-with-space",
    ),
    pytest.param(
        {"email": "@example.com"},
        {"input.email": "must be a valid email address"},
        id="email-without-local-part",
    ),
    pytest.param(
        {"email": "a@b@example.com"},
        {"input.email": "must be a valid email address"},
        id="email-with-two-ats",
    ),
    pytest.param({"email": "  "}, {"input.email": "must be a valid email address"}, id="blank"),
    pytest.param(
        {"email": "x" * 243 + "@example.com"},
        {"input.email": "must be at most 254 characters"},
        id="email-of-255-characters",
    ),
    pytest.param(
        {"name": "", "email": "nope"},
        {"input.name": "must not be blank", "input.email": "must be a valid email address"},
        id="every-problem-at-once",
    ),
    pytest.param(
        {"email": "ADA@example.com"}, {"input.email": "already taken"}, id="email-taken-other-case"
    ),
    pytest.param(
        {"email": " ada@example.com "},
        {"input.email": "already taken"},
        id="email-taken-with-whitespace",
    ),
    pytest.param(
        {"email": "cyd@example.com"},
        {"input.email": "already taken"},
        id="email-of-a-soft-deleted-user",
    ),
    pytest.param(
        {"name": "x" * 101, "email": "Bob@Example.com"},
        {"input.name": "must be 1 to 100 characters", "input.email": "already taken"},
        id="invalid-name-and-taken-email",
    ),
]


@pytest.mark.parametrize(("changes", "fields"), INVALID_CREATES)
async def test_create_user_rejects_invalid_input_and_changes_nothing(
    gql: GraphQL,
    blog: Dataset,
    committed_engine: AsyncEngine,
    changes: dict[str, str],
    fields: dict[str, str],
) -> None:
    before = await snapshot(committed_engine)

    body = await gql(
        CREATE, {"input": {"name": "New Person", "email": "new@example.com"} | changes}
    )

    error = field_error(body, "createUser")
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "fields": fields}
    assert await snapshot(committed_engine) == before


# -- updateUser -------------------------------------------------------------------------------


async def test_update_user_changes_the_given_fields_and_updated_at_but_not_created_at(
    gql: GraphQL, blog: Dataset, committed_engine: AsyncEngine
) -> None:
    ada = gid("User", blog.users["ada"])

    data = await gql.data(UPDATE, {"id": ada, "input": {"name": "  Ada King  "}})

    user = data["updateUser"]
    updated_at = datetime.fromisoformat(user["updatedAt"])
    assert user == {
        "id": ada,
        "name": "Ada King",
        "email": "ada@example.com",
        "createdAt": iso(at(1)),
        "updatedAt": user["updatedAt"],
        "deletedAt": None,
    }
    assert updated_at > at(1)
    rows = {row["id"]: row for row in (await snapshot(committed_engine))["users"]}
    row = rows[blog.users["ada"]]
    assert (row["name"], row["email"], row["created_at"], row["updated_at"]) == (
        "Ada King",
        "ada@example.com",
        at(1),
        updated_at,
    )


async def test_update_user_email_is_trimmed_lower_cased_and_may_keep_its_own_address(
    gql: GraphQL, blog: Dataset
) -> None:
    ada = gid("User", blog.users["ada"])

    own = await gql.data(UPDATE, {"id": ada, "input": {"email": " ADA@Example.com "}})
    new = await gql.data(UPDATE, {"id": ada, "input": {"email": " Ada.King@Example.com "}})

    assert own["updateUser"]["email"] == "ada@example.com"
    assert new["updateUser"]["email"] == "ada.king@example.com"
    assert new["updateUser"]["name"] == "Ada Lovelace"


INVALID_UPDATES = [
    pytest.param({"name": None}, {"input.name": "must not be null"}, id="null-name"),
    pytest.param({"email": None}, {"input.email": "must not be null"}, id="null-email"),
    pytest.param({"name": "  "}, {"input.name": "must not be blank"}, id="blank-name"),
    pytest.param(
        {"name": "😀" * 101}, {"input.name": "must be 1 to 100 characters"}, id="101-emoji"
    ),
    pytest.param(
        {"email": "nobody@nowhere"}, {"input.email": "must be a valid email address"}, id="email"
    ),
    pytest.param(
        {"email": " BOB@example.com"}, {"input.email": "already taken"}, id="email-of-another-user"
    ),
    pytest.param(
        {"email": "cyd@example.com"},
        {"input.email": "already taken"},
        id="email-of-a-soft-deleted-user",
    ),
    pytest.param(
        {"name": None, "email": "bob@example.com"},
        {"input.name": "must not be null", "input.email": "already taken"},
        id="every-problem-at-once",
    ),
]


@pytest.mark.parametrize(("changes", "fields"), INVALID_UPDATES)
async def test_update_user_rejects_invalid_input_and_changes_nothing(
    gql: GraphQL,
    blog: Dataset,
    committed_engine: AsyncEngine,
    changes: dict[str, Any],
    fields: dict[str, str],
) -> None:
    before = await snapshot(committed_engine)

    body = await gql(UPDATE, {"id": gid("User", blog.users["ada"]), "input": changes})

    error = field_error(body, "updateUser")
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "fields": fields}
    assert await snapshot(committed_engine) == before


# -- deleteUser and restoreUser ---------------------------------------------------------------


async def test_delete_user_soft_deletes_and_returns_the_user_with_deleted_at_set(
    gql: GraphQL, blog: Dataset, committed_engine: AsyncEngine
) -> None:
    bob = gid("User", blog.users["bob"])
    before = await snapshot(committed_engine)

    data = await gql.data(DELETE, {"id": bob})

    user = data["deleteUser"]
    assert user["deletedAt"] is not None
    assert user == {
        "id": bob,
        "name": "Bob Builder",
        "email": "bob@example.com",
        "createdAt": iso(at(2)),
        "updatedAt": user["deletedAt"],
        "deletedAt": user["deletedAt"],
    }
    after = await snapshot(committed_engine)
    row = next(row for row in after["users"] if row["id"] == blog.users["bob"])
    assert iso(row["deleted_at"]) == user["deletedAt"]
    assert row["updated_at"] == row["deleted_at"]
    # Only that row changed: Bob's posts, comments and roles stay.
    assert {name: rows for name, rows in after.items() if name != "users"} == {
        name: rows for name, rows in before.items() if name != "users"
    }
    lookups = await gql(
        "query($id: ID!) { hidden: user(id: $id) { id } "
        "trashed: user(id: $id, trashed: ONLY) { id deletedAt } users { totalCount } }",
        {"id": bob},
    )
    assert lookups["data"] == {
        "hidden": None,
        "trashed": {"id": bob, "deletedAt": user["deletedAt"]},
        "users": {"totalCount": 2},
    }
    assert lookups["errors"][0]["extensions"] == {"code": "NOT_FOUND", "model": "User", "id": bob}


async def test_restore_user_clears_deleted_at_and_sets_updated_at(
    gql: GraphQL, blog: Dataset, committed_engine: AsyncEngine
) -> None:
    cyd = gid("User", blog.users["cyd"])

    data = await gql.data(RESTORE, {"id": cyd})

    user = data["restoreUser"]
    assert user == {
        "id": cyd,
        "name": "Cyd Gone",
        "email": "cyd@example.com",
        "createdAt": iso(at(3)),
        "updatedAt": user["updatedAt"],
        "deletedAt": None,
    }
    assert datetime.fromisoformat(user["updatedAt"]) > at(100)
    row = next(
        row for row in (await snapshot(committed_engine))["users"] if row["id"] == blog.users["cyd"]
    )
    assert row["deleted_at"] is None
    assert (await gql.data("{ users { totalCount } }"))["users"]["totalCount"] == 4


async def test_delete_then_restore_round_trips(gql: GraphQL, blog: Dataset) -> None:
    dee = gid("User", blog.users["dee"])

    body = await gql.data(
        "mutation($id: ID!) { "
        "deleteUser(id: $id) { deletedAt } restoreUser(id: $id) { deletedAt } }",
        {"id": dee},
    )

    assert body["deleteUser"]["deletedAt"] is not None
    assert body["restoreUser"] == {"deletedAt": None}


# -- lookup rules of update, delete and restore -----------------------------------------------


def _lookup_cases() -> list[Any]:
    """(mutation, the id's dataset key or a literal ID, expected extensions)."""
    cases = []
    for name, document in (("updateUser", UPDATE), ("deleteUser", DELETE)):
        cases += [
            pytest.param(document, name, "cyd", "NOT_FOUND", id=f"{name}-soft-deleted"),
            pytest.param(document, name, "missing", "NOT_FOUND", id=f"{name}-unknown"),
            pytest.param(document, name, "post", "NOT_FOUND", id=f"{name}-id-of-a-post"),
            pytest.param(document, name, "malformed", "BAD_USER_INPUT", id=f"{name}-malformed"),
        ]
    cases += [
        pytest.param(RESTORE, "restoreUser", "ada", "NOT_FOUND", id="restoreUser-live"),
        pytest.param(RESTORE, "restoreUser", "missing", "NOT_FOUND", id="restoreUser-unknown"),
        pytest.param(RESTORE, "restoreUser", "post", "NOT_FOUND", id="restoreUser-id-of-a-post"),
        pytest.param(
            RESTORE, "restoreUser", "malformed", "BAD_USER_INPUT", id="restoreUser-malformed"
        ),
    ]
    return cases


@pytest.mark.parametrize(("document", "field", "target", "code"), _lookup_cases())
async def test_update_delete_and_restore_follow_the_lookup_rules(
    gql: GraphQL,
    blog: Dataset,
    committed_engine: AsyncEngine,
    document: str,
    field: str,
    target: str,
    code: str,
) -> None:
    id = {
        "missing": gid("User", 999_999),
        "post": gid("Post", blog.posts["a1"]),
        "malformed": "not-a-global-id",
    }.get(target) or gid("User", blog.users[target])
    variables: dict[str, Any] = {"id": id}
    if field == "updateUser":
        variables["input"] = {"name": "Changed"}
    before = await snapshot(committed_engine)

    body = await gql(document, variables)

    error = field_error(body, field)
    if code == "NOT_FOUND":
        assert error["extensions"] == {"code": "NOT_FOUND", "model": "User", "id": id}
    else:
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "fields": {"id": "malformed ID"}}
    assert await snapshot(committed_engine) == before


async def test_deleting_a_user_twice_is_not_found_the_second_time(
    gql: GraphQL, blog: Dataset
) -> None:
    bob = gid("User", blog.users["bob"])
    await gql.data(DELETE, {"id": bob})

    body = await gql(DELETE, {"id": bob})

    error = field_error(body, "deleteUser")
    assert error["extensions"] == {"code": "NOT_FOUND", "model": "User", "id": bob}


async def test_restoring_a_user_twice_is_not_found_the_second_time(
    gql: GraphQL, blog: Dataset
) -> None:
    cyd = gid("User", blog.users["cyd"])
    await gql.data(RESTORE, {"id": cyd})

    body = await gql(RESTORE, {"id": cyd})

    error = field_error(body, "restoreUser")
    assert error["extensions"] == {"code": "NOT_FOUND", "model": "User", "id": cyd}
