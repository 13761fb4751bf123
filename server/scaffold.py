"""``ftf make:model NAME``: a new node type in the project's style, ready to migrate and serve.

It writes the model, its repository, its type module (the type; the columns
it sorts and filters by and its input rules, from which ``schema.derive``
makes the inputs; lookup, listing, create, update and delete) and a test
module, and adds the exports and the type module to the lists that name them
(``models/__init__.py``, ``repositories/__init__.py``, ``schema/types/__init__.py``,
whose order the root fields are published in). It refuses to overwrite
anything: every file it would create must be new, every file it would change
must not name the model yet, and no type module may define its root fields.
Then ``ftf make:migration`` makes the table's migration.
"""

from __future__ import annotations

import ast
import keyword
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from string import Template

#: The project's root: the folder holding ``models/``, ``schema/`` and ``server/``.
PROJECT_ROOT = Path(__file__).resolve().parents[1]

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


class ScaffoldError(Exception):
    """``make:model`` cannot write the model as asked; nothing was written."""


@dataclass(frozen=True, slots=True)
class Names:
    """Every spelling of one model's name: ``Names.of("BlogTag")``."""

    type: str  # BlogTag: the class, the GraphQL type
    module: str  # blog_tag: the modules, the lookup field
    plural: str  # blog_tags: the table, the listing field
    words: str  # blog tag: descriptions
    plural_words: str  # blog tags

    @classmethod
    def of(cls, name: str, plural: str | None = None) -> Names:
        if not _NAME.fullmatch(name):
            raise ScaffoldError(f"{name!r} is not a name: letters, digits and _, a letter first")
        type_name = "".join(part[:1].upper() + part[1:] for part in name.split("_") if part)
        module = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", type_name).lower()
        plural = plural or _plural(module)
        if not _NAME.fullmatch(plural) or plural == module:
            raise ScaffoldError(f"{plural!r} is not a plural of {module!r} (--plural)")
        for word in (module, plural):
            if keyword.iskeyword(word) or word in ("node", "nodes", "viewer"):
                raise ScaffoldError(f"{word!r} is taken: pick another name")
        return cls(type_name, module, plural, module.replace("_", " "), plural.replace("_", " "))

    @property
    def constant(self) -> str:
        return self.module.upper()

    def template(self) -> dict[str, str]:
        """The placeholders of the templates."""
        camel = self.type[:1].lower() + self.type[1:]
        plural_camel = re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), self.plural)
        return {
            "Type": self.type,
            "module": self.module,
            "plural": self.plural,
            "CONSTANT": self.constant,
            "words": self.words,
            "plural_words": self.plural_words,
            "Plural_words": self.plural_words.capitalize(),
            "lookup": camel,
            "listing": plural_camel,
        }


def _plural(word: str) -> str:
    if re.search(r"(s|x|z|ch|sh)$", word):
        return word + "es"
    if re.search(r"[^aeiou]y$", word):
        return word[:-1] + "ies"
    return word + "s"


@dataclass(frozen=True, slots=True)
class Scaffold:
    """What ``make:model`` writes: new files, and lines added to existing ones."""

    created: dict[Path, str]
    changed: dict[Path, str]


def plan(names: Names, root: Path = PROJECT_ROOT) -> Scaffold:
    """The files ``make:model`` would write; ``ScaffoldError`` if any is taken."""
    values = names.template()
    created = {
        root / "models" / f"{names.module}.py": Template(MODEL).substitute(values),
        root / "repositories" / f"{names.module}.py": Template(REPOSITORY).substitute(values),
        root / "schema" / "types" / f"{names.module}.py": Template(TYPE).substitute(values),
        root / "tests" / "schema" / f"test_{names.module}.py": Template(TEST).substitute(values),
    }
    taken = [path for path in created if path.exists()]
    if taken:
        listed = ", ".join(str(path.relative_to(root)) for path in taken)
        raise ScaffoldError(f"{listed} already exist{'s' if len(taken) == 1 else ''}")
    repository = f"{names.type}Repository"
    changed = {
        root / "models" / "__init__.py": _export(
            _read(root / "models" / "__init__.py"), "models", names.module, names.type
        ),
        root / "repositories" / "__init__.py": _export(
            _read(root / "repositories" / "__init__.py"), "repositories", names.module, repository
        ),
        root / "schema" / "types" / "__init__.py": _add_module(
            _read(root / "schema" / "types" / "__init__.py"),
            names.module,
            [names.module, names.plural, *(f"{verb}_{names.module}" for verb in _VERBS)],
            root,
        ),
    }
    return Scaffold(created, changed)


def write(scaffold: Scaffold, *, format_code: bool = True) -> list[Path]:
    """Write the scaffold's files (formatted with ruff when it is installed); the paths."""
    paths = [*scaffold.created, *scaffold.changed]
    for path, text in [*scaffold.created.items(), *scaffold.changed.items()]:
        path.write_text(text, encoding="utf-8")
    if format_code:
        format_python(paths)
    return paths


def format_python(paths: list[Path]) -> None:
    """Lay out generated code as ``ruff format`` does the rest (names are of any length);
    left as written when ruff is not installed."""
    subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--quiet", *map(str, paths)],
        check=False,
        capture_output=True,
    )


def _read(path: Path) -> str:
    if not path.is_file():
        raise ScaffoldError(f"{path} is missing: is {path.parents[1]} this project's root?")
    return path.read_text(encoding="utf-8")


def _import_line(package: str, module: str, names: list[str]) -> str:
    """The import, its names in isort's order: constants, classes, then the rest."""

    def order(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[:1].isupper() else 2, name)

    return f"from {package}.{module} import {', '.join(sorted(names, key=order))}"


def _insert_import(text: str, package: str, module: str, names: list[str]) -> str:
    """``text`` with ``from package.module import names`` among its ``from package.*`` imports,
    in the order isort keeps them."""
    lines = text.split("\n")
    prefix = f"from {package}."
    found = [i for i, line in enumerate(lines) if line.startswith(prefix)]
    if not found:
        raise ScaffoldError(f"no `{prefix}...` import to put the new one beside")
    if any(line.startswith(f"{prefix}{module} import") for line in lines):
        raise ScaffoldError(f"{package}.{module} is imported already")
    at = next((i for i in found if lines[i][len(prefix) :].split(" ")[0] > module), None)
    if at is None:  # after the last one, and the lines it continues onto
        at = found[-1] + 1
        while lines[at - 1].rstrip().endswith(("(", ",")):
            at += 1
    lines.insert(at, _import_line(package, module, names))
    return "\n".join(lines)


def _export(text: str, package: str, module: str, name: str) -> str:
    """A package's ``__init__`` with ``name`` imported from its new module and in ``__all__``."""
    text = _insert_import(text, package, module, [name])
    match = re.search(r"__all__ = \[(.*?)\]\n", text, re.DOTALL)
    if match is None:
        raise ScaffoldError(f"{package}/__init__.py has no __all__ list")
    exported = re.findall(r'"([^"]+)"', match.group(1))
    if name in exported:
        raise ScaffoldError(f"{package} exports {name} already")
    ordered = sorted([*exported, name], key=lambda item: (item[:1].islower(), item))
    one_line = "__all__ = [" + ", ".join(f'"{item}"' for item in ordered) + "]\n"
    if "\n" in match.group(0).rstrip("\n") or len(one_line) > 101:
        listed = "".join(f'    "{item}",\n' for item in ordered)
        one_line = f"__all__ = [\n{listed}]\n"
    return text[: match.start()] + one_line + text[match.end() :]


_VERBS = ("create", "update", "delete")


def _add_module(text: str, module: str, fields: list[str], root: Path) -> str:
    """``schema/types/__init__.py`` with ``module`` last in ``MODULES``, once no listed type
    module defines one of the new root ``fields`` (the roots would refuse the clash)."""
    tuple_node = next(
        (
            statement.value
            for statement in ast.parse(text).body
            if isinstance(statement, (ast.Assign, ast.AnnAssign))
            and "MODULES" in _names_bound(statement)
            and isinstance(statement.value, ast.Tuple)
        ),
        None,
    )
    if tuple_node is None or not tuple_node.elts:
        raise ScaffoldError("schema/types/__init__.py has no MODULES tuple")
    listed = [ast.literal_eval(element) for element in tuple_node.elts]
    if module in listed:
        raise ScaffoldError(f"schema.types.{module} is listed already")
    for name in listed:
        path = root / "schema" / "types" / f"{name}.py"
        tree = ast.parse(path.read_text(encoding="utf-8")) if path.is_file() else None
        defined = {n for s in tree.body for n in _names_bound(s)} if tree else set()
        clashes = sorted(set(fields) & defined)
        if clashes:
            taken = ", ".join(clashes)
            raise ScaffoldError(f"schema/types/{name}.py defines {taken} already")
    # Right after the last name, so a trailing comma or comment stays where it was.
    last = tuple_node.elts[-1]
    assert last.end_lineno is not None and last.end_col_offset is not None
    lines = text.split("\n")
    line = lines[last.end_lineno - 1]
    at = len(line.encode("utf-8")[: last.end_col_offset].decode("utf-8"))
    lines[last.end_lineno - 1] = f'{line[:at]}, "{module}"{line[at:]}'
    return "\n".join(lines)


def _names_bound(statement: ast.stmt) -> set[str]:
    """The names a top-level statement binds (assignments, unpacking and imports): a
    type module's root fields among them."""
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return {(alias.asname or alias.name).split(".")[0] for alias in statement.names}
    targets: list[ast.expr] = []
    if isinstance(statement, ast.Assign):
        targets = list(statement.targets)
    elif isinstance(statement, ast.AnnAssign):
        targets = [statement.target]
    names: set[str] = set()
    while targets:
        target = targets.pop()
        if isinstance(target, ast.Name):
            names.add(target.id)
        elif isinstance(target, (ast.Tuple, ast.List)):
            targets.extend(target.elts)
    return names


MODEL = '''\
"""``$Type``: made by ``ftf make:model``; add its columns, then ``ftf make:migration``."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from fast_query import Base, TimestampMixin


class $Type(TimestampMixin, Base):
    __tablename__ = "$plural"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
'''

REPOSITORY = '''\
from __future__ import annotations

from fast_query import BaseRepository
from models import $Type
from repositories.rules import ADMIN


class ${Type}Repository(BaseRepository[$Type]):
    """Everyone reads $plural_words, admins change them: rules as in ``repositories/post.py``."""

    model = $Type
    can_update = ADMIN
    can_delete = ADMIN
'''

TYPE = '''\
"""``$Type``: made by ``ftf make:model``; its fields follow the model's columns."""

from __future__ import annotations

import strawberry

import models
from repositories import ${Type}Repository
from repositories.rules import ADMIN
from schema import crud, fields
from schema.authorization import CreateRule
from schema.derive import node, order, where
from schema.node import Node
from schema.resource import register
from schema.validation import InputSpec, Text

$CONSTANT = register("$Type", models.$Type, ${Type}Repository)
${Type}Order = order($CONSTANT, "id", "name", "created_at", "updated_at")
${Type}Filter, ${Type}RelationFilter = where($CONSTANT, "id", "name", "created_at")
${CONSTANT}_INPUT = InputSpec(models.$Type, {"name": Text(1, 100)})


@node($CONSTANT, "A $words.")
class $Type(Node):
    name: str = strawberry.field(description="The name.")


$module = fields.lookup($CONSTANT, $Type, "The $words with this ID.")
$plural = fields.listing($CONSTANT, $Type, "$Plural_words, a page at a time.")
create_$module = crud.create(
    $CONSTANT, $Type, ${CONSTANT}_INPUT, "Create a $words (admins).", CreateRule(ADMIN)
)
update_$module = crud.update($CONSTANT, $Type, ${CONSTANT}_INPUT, "Change a $words (admins).")
delete_$module = crud.delete($CONSTANT, $Type, "Delete a $words for good (admins).")
'''

TEST = '''\
"""``$Type`` through HTTP, as the tests' admin: made by ``ftf make:model``; extend it."""

from __future__ import annotations

from tests.api import GraphQL, field_error

FIELDS = "id name createdAt updatedAt viewerCanUpdate viewerCanDelete"
CREATE = (
    "mutation($$input: Create${Type}Input!) "
    f"{{ create$Type(input: $$input) {{ {FIELDS} }} }}"
)
UPDATE = (
    "mutation($$id: ID!, $$input: Update${Type}Input!) "
    f"{{ update$Type(id: $$id, input: $$input) {{ {FIELDS} }} }}"
)
DELETE = "mutation($$id: ID!) { delete$Type(id: $$id) { id name } }"
LOOKUP = f"query($$id: ID!) {{ $lookup(id: $$id) {{ {FIELDS} }} }}"
LISTING = (
    "query($$where: ${Type}Filter) { $listing(where: $$where, orderBy: [{ field: NAME }]) "
    "{ totalCount nodes { name } } }"
)


async def test_create_trims_the_name_and_reads_it_back(gql: GraphQL) -> None:
    created = (await gql.data(CREATE, {"input": {"name": "  First "}}))["create$Type"]

    found = await gql.data(LOOKUP, {"id": created["id"]})

    assert created["name"] == "First"
    assert created["viewerCanUpdate"] is created["viewerCanDelete"] is True
    assert found == {"$lookup": created}


async def test_create_refuses_a_blank_name(gql: GraphQL) -> None:
    body = await gql(CREATE, {"input": {"name": "  "}})

    assert field_error(body, "create$Type")["extensions"] == {
        "code": "BAD_USER_INPUT",
        "fields": {"input.name": "must not be blank"},
    }


async def test_list_filter_update_and_delete(gql: GraphQL) -> None:
    ids = [
        (await gql.data(CREATE, {"input": {"name": name}}))["create$Type"]["id"]
        for name in ("Beta", "Alpha", "Gamma")
    ]

    listed = await gql.data(LISTING, {"where": {"name": {"in": ["Gamma", "Alpha"]}}})
    updated = await gql.data(UPDATE, {"id": ids[0], "input": {"name": "Delta"}})
    deleted = await gql.data(DELETE, {"id": ids[1]})
    remaining = await gql.data(LISTING, {"where": None})

    assert listed == {
        "$listing": {"totalCount": 2, "nodes": [{"name": "Alpha"}, {"name": "Gamma"}]}
    }
    assert updated["update$Type"]["name"] == "Delta"
    assert deleted == {"delete$Type": {"id": ids[1], "name": "Alpha"}}
    assert remaining == {
        "$listing": {"totalCount": 2, "nodes": [{"name": "Delta"}, {"name": "Gamma"}]}
    }
'''
