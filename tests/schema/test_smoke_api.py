from __future__ import annotations

from tests.api import Dataset, GraphQL, StatementCounter, gid


async def test_users_with_nested_posts_and_roles(gql: GraphQL, blog: Dataset) -> None:
    data = await gql.data(
        "{ users { totalCount nodes { name "
        "posts { totalCount nodes { title } } roles { name } } } }"
    )
    assert data["users"]["totalCount"] == 3
    assert data["users"]["nodes"] == [
        {
            "name": "Ada Lovelace",
            "posts": {
                "totalCount": 2,
                "nodes": [{"title": "Analytical Engine"}, {"title": "Notes on Bernoulli"}],
            },
            "roles": [{"name": "admin"}, {"name": "editor"}],
        },
        {
            "name": "Bob Builder",
            "posts": {
                "totalCount": 2,
                "nodes": [{"title": "Building things"}, {"title": "Can we fix it"}],
            },
            "roles": [{"name": "reader"}],
        },
        {"name": "Dee Quiet", "posts": {"totalCount": 0, "nodes": []}, "roles": []},
    ]


async def test_statement_count_does_not_grow_with_page_size(
    gql: GraphQL, blog: Dataset, sql: StatementCounter
) -> None:
    counts = []
    for size in (1, 5, 50):
        with sql:
            before = sql.count
            await gql.data(f"{{ posts(first: {size}) {{ nodes {{ title author {{ name }} }} }} }}")
            counts.append(sql.count - before)
    assert counts == [1, 1, 1]  # the fast path joins the author


async def test_user_lookup_by_global_id(gql: GraphQL, blog: Dataset) -> None:
    data = await gql.data(
        "query($id: ID!) { user(id: $id) { id name } }", {"id": gid("User", blog.users["ada"])}
    )
    assert data == {"user": {"id": gid("User", blog.users["ada"]), "name": "Ada Lovelace"}}
