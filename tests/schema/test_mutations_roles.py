"""createRole, assignRole and revokeRole through HTTP (contract sections 2, 3, 7)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.api import Dataset, GraphQL, field_error, gid, iso, snapshot

CREATE = (
    "mutation($input: CreateRoleInput!) "
    "{ createRole(input: $input) { id name createdAt updatedAt users { totalCount } } }"
)
MEMBER = "id name roles { id name }"
ASSIGN = f"mutation($u: ID!, $r: ID!) {{ assignRole(userId: $u, roleId: $r) {{ {MEMBER} }} }}"
REVOKE = f"mutation($u: ID!, $r: ID!) {{ revokeRole(userId: $u, roleId: $r) {{ {MEMBER} }} }}"


def role(blog: Dataset, name: str) -> dict[str, str]:
    return {"id": gid("Role", blog.roles[name]), "name": name}


def memberships(tables: dict[str, list[dict[str, Any]]]) -> list[tuple[int, int]]:
    return [(row["user_id"], row["role_id"]) for row in tables["user_roles"]]


# -- createRole -------------------------------------------------------------------------------


async def test_create_role_trims_the_name(
    gql: GraphQL, blog: Dataset, committed_engine: AsyncEngine
) -> None:
    data = await gql.data(CREATE, {"input": {"name": "  moderator "}})

    row = next(r for r in (await snapshot(committed_engine))["roles"] if r["name"] == "moderator")
    assert data == {
        "createRole": {
            "id": gid("Role", row["id"]),
            "name": "moderator",
            "createdAt": iso(row["created_at"]),
            "updatedAt": iso(row["created_at"]),
            "users": {"totalCount": 0},
        }
    }


@pytest.mark.parametrize(
    "name", [pytest.param("x" * 50, id="50-characters"), pytest.param("🛡" * 50, id="50-emoji")]
)
async def test_create_role_accepts_names_of_50_code_points(
    gql: GraphQL, committed_engine: AsyncEngine, name: str
) -> None:
    data = await gql.data(CREATE, {"input": {"name": name}})

    assert data["createRole"]["name"] == name


@pytest.mark.parametrize(
    ("name", "fields"),
    [
        pytest.param("", {"input.name": "must not be blank"}, id="empty"),
        pytest.param("  ", {"input.name": "must not be blank"}, id="blank"),
        pytest.param("x" * 51, {"input.name": "must be 1 to 50 characters"}, id="51-characters"),
        pytest.param("🛡" * 51, {"input.name": "must be 1 to 50 characters"}, id="51-emoji"),
        pytest.param("admin", {"input.name": "already taken"}, id="taken"),
        pytest.param(" editor\t", {"input.name": "already taken"}, id="taken-after-trimming"),
    ],
)
async def test_create_role_rejects_invalid_names_and_changes_nothing(
    gql: GraphQL, blog: Dataset, committed_engine: AsyncEngine, name: str, fields: dict[str, str]
) -> None:
    before = await snapshot(committed_engine)

    body = await gql(CREATE, {"input": {"name": name}})

    assert field_error(body, "createRole")["extensions"] == {
        "code": "BAD_USER_INPUT",
        "fields": fields,
    }
    assert await snapshot(committed_engine) == before


# -- assignRole and revokeRole ----------------------------------------------------------------


async def test_assign_role_returns_the_user_with_its_roles_and_is_idempotent(
    gql: GraphQL, blog: Dataset, committed_engine: AsyncEngine
) -> None:
    variables = {"u": gid("User", blog.users["dee"]), "r": gid("Role", blog.roles["editor"])}
    expected = {"id": variables["u"], "name": "Dee Quiet", "roles": [role(blog, "editor")]}

    first = await gql.data(ASSIGN, variables)
    second = await gql.data(ASSIGN, variables)

    assert first == {"assignRole": expected}
    assert second == {"assignRole": expected}
    assert (blog.users["dee"], blog.roles["editor"]) in memberships(
        await snapshot(committed_engine)
    )
    assert (
        memberships(await snapshot(committed_engine)).count(
            (blog.users["dee"], blog.roles["editor"])
        )
        == 1
    )


async def test_assign_role_adds_to_the_roles_a_user_has(gql: GraphQL, blog: Dataset) -> None:
    data = await gql.data(
        ASSIGN, {"u": gid("User", blog.users["ada"]), "r": gid("Role", blog.roles["reader"])}
    )

    assert data["assignRole"]["roles"] == [
        role(blog, "admin"),
        role(blog, "editor"),
        role(blog, "reader"),
    ]


async def test_revoke_role_returns_the_user_without_it_and_is_idempotent(
    gql: GraphQL, blog: Dataset, committed_engine: AsyncEngine
) -> None:
    variables = {"u": gid("User", blog.users["ada"]), "r": gid("Role", blog.roles["admin"])}
    expected = {"id": variables["u"], "name": "Ada Lovelace", "roles": [role(blog, "editor")]}

    first = await gql.data(REVOKE, variables)
    second = await gql.data(REVOKE, variables)

    assert first == {"revokeRole": expected}
    assert second == {"revokeRole": expected}
    assert (blog.users["ada"], blog.roles["admin"]) not in memberships(
        await snapshot(committed_engine)
    )


async def test_revoking_a_role_the_user_never_had_changes_nothing(
    gql: GraphQL, blog: Dataset, committed_engine: AsyncEngine
) -> None:
    before = await snapshot(committed_engine)

    data = await gql.data(
        REVOKE, {"u": gid("User", blog.users["dee"]), "r": gid("Role", blog.roles["admin"])}
    )

    assert data == {
        "revokeRole": {"id": gid("User", blog.users["dee"]), "name": "Dee Quiet", "roles": []}
    }
    assert await snapshot(committed_engine) == before


def reference(blog: Dataset, kind: str, target: str) -> str:
    """A global ID of ``kind`` for a dataset key, or one of the bad-ID cases."""
    special = {
        "missing": gid(kind, 999_999),
        "malformed": "User:1",  # not base64
        "role": gid("Role", blog.roles["admin"]),
        "user": gid("User", blog.users["ada"]),
    }
    if target in special:
        return special[target]
    return gid(kind, (blog.users if kind == "User" else blog.roles)[target])


def _bad_targets() -> list[Any]:
    """(user target, role target, fields) for assignRole and revokeRole."""
    cases = []
    for field in ("assignRole", "revokeRole"):
        cases += [
            pytest.param(field, "missing", "admin", {"userId": "not found"}, id=f"{field}-no-user"),
            pytest.param(
                field, "cyd", "admin", {"userId": "not found"}, id=f"{field}-soft-deleted-user"
            ),
            pytest.param(
                field, "malformed", "admin", {"userId": "malformed ID"}, id=f"{field}-bad-user-id"
            ),
            pytest.param(
                field,
                "role",
                "admin",
                {"userId": "expected the ID of a User"},
                id=f"{field}-user-id-of-a-role",
            ),
            pytest.param(field, "ada", "missing", {"roleId": "not found"}, id=f"{field}-no-role"),
            pytest.param(
                field, "ada", "malformed", {"roleId": "malformed ID"}, id=f"{field}-bad-role-id"
            ),
            pytest.param(
                field,
                "ada",
                "user",
                {"roleId": "expected the ID of a Role"},
                id=f"{field}-role-id-of-a-user",
            ),
            pytest.param(
                field,
                "cyd",
                "missing",
                {"userId": "not found", "roleId": "not found"},
                id=f"{field}-both",
            ),
        ]
    return cases


@pytest.mark.parametrize(("field", "user", "role_", "fields"), _bad_targets())
async def test_membership_targets_must_be_live_rows_of_the_right_type(
    gql: GraphQL,
    blog: Dataset,
    committed_engine: AsyncEngine,
    field: str,
    user: str,
    role_: str,
    fields: dict[str, str],
) -> None:
    variables = {"u": reference(blog, "User", user), "r": reference(blog, "Role", role_)}
    before = await snapshot(committed_engine)

    body = await gql(ASSIGN if field == "assignRole" else REVOKE, variables)

    assert field_error(body, field)["extensions"] == {"code": "BAD_USER_INPUT", "fields": fields}
    assert await snapshot(committed_engine) == before


async def test_concurrent_identical_assign_role_calls_all_succeed_with_one_membership(
    gql: GraphQL, blog: Dataset, committed_engine: AsyncEngine
) -> None:
    variables = {"u": gid("User", blog.users["dee"]), "r": gid("Role", blog.roles["admin"])}

    bodies = await asyncio.gather(*(gql(ASSIGN, variables) for _ in range(20)))

    expected = {
        "data": {
            "assignRole": {
                "id": variables["u"],
                "name": "Dee Quiet",
                "roles": [role(blog, "admin")],
            }
        }
    }
    assert bodies == [expected] * 20
    assert (
        memberships(await snapshot(committed_engine)).count(
            (blog.users["dee"], blog.roles["admin"])
        )
        == 1
    )
