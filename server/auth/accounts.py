"""Users made outside the API (``ftf create-user``), with the input rules of ``createUser``.

The name and the email go through ``createUser``'s own input spec
(``schema.types.user.USER_INPUT``): trimmed, the email lower-cased, the same
limits and messages. The password follows the contract's rules and is
stored only as its Argon2id hash. Every check runs before anything is
written, and the user and its roles are written in one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import SimpleNamespace

from sqlalchemy.ext.asyncio import AsyncEngine

from fast_query import UniqueViolation, create_session_factory
from models import Role
from repositories import RoleRepository, UserRepository
from server.auth.passwords import Passwords, default_passwords, password_problem

#: How the problems name what was given: the command's options.
PASSWORD = "password"


class AccountError(Exception):
    """The user cannot be made; ``problems`` says what is wrong, by option (``--email``)."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        self.problems = dict(problems)
        super().__init__("; ".join(f"{name}: {problem}" for name, problem in problems.items()))


@dataclass(frozen=True, slots=True)
class CreatedUser:
    id: int
    name: str
    email: str
    roles: tuple[str, ...]


async def create_user(
    engine: AsyncEngine,
    *,
    name: str,
    email: str,
    password: str,
    roles: Sequence[str] = (),
    passwords: Passwords | None = None,
) -> CreatedUser:
    """Create a live user with ``password`` and ``roles`` (role names), or nothing at all.

    Raises:
        AccountError: an input breaks its rule, the password breaks the
            password rules, the email is taken (by any user, soft-deleted
            ones too) or a role does not exist; every problem found is listed.
    """
    from schema.types.user import USER_INPUT  # the schema is big: load it only when needed

    cleaned = await USER_INPUT.clean(SimpleNamespace(name=name, email=email), prefix="")
    problems = {f"--{field}": problem for field, problem in cleaned.problems.items()}
    wanted = list(dict.fromkeys(role.strip() for role in roles))
    if "" in wanted:
        problems["--role"] = "must not be blank"
    problem = password_problem(password)
    if problem is not None:
        problems[PASSWORD] = problem
    if problems:
        raise AccountError(problems)

    password_hash = await (passwords or default_passwords()).hash(password)
    values = cleaned.values
    async with create_session_factory(engine)() as session:
        users = UserRepository(session)
        found = await RoleRepository(session).query().where_in(Role.name, wanted).get()
        named = {role.name: role for role in found}
        missing = [role for role in wanted if role not in named]
        if missing:
            listed = ", ".join(repr(role) for role in missing)
            problems["--role"] = f"no role{'s' if len(missing) > 1 else ''} named {listed}"
        if await users.find_by_email(values["email"]) is not None:
            problems["--email"] = "already taken"
        if problems:
            raise AccountError(problems)
        try:
            user = await users.create(
                name=values["name"], email=values["email"], password_hash=password_hash
            )
        except UniqueViolation:  # taken between the check and the insert
            raise AccountError({"--email": "already taken"}) from None
        await users.attach("roles", user.id, [named[role].id for role in wanted])
        await session.commit()
    return CreatedUser(user.id, user.name, user.email, tuple(wanted))
