"""``ftf make:model`` and ``ftf make:migration``: names, refusals and numbering.

The whole round trip (scaffold, migrate, serve) is ``tests/test_adding_a_model.py``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from migrations import next_revision_id
from server.scaffold import PROJECT_ROOT, Names, ScaffoldError, plan
from tests.conftest import Ftf

LISTS = ("models/__init__.py", "repositories/__init__.py", "schema/types/__init__.py")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A project root holding the modules ``make:model`` adds lines to, and one type module
    (``post``) whose root fields a new type's must not repeat."""
    for name in [*LISTS, "schema/types/post.py"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(PROJECT_ROOT / name, tmp_path / name)
    (tmp_path / "tests" / "schema").mkdir(parents=True)
    return tmp_path


@pytest.mark.parametrize(
    ("given", "plural", "expected"),
    [
        pytest.param("Tag", None, ("Tag", "tag", "tags", "tag", "tags"), id="Tag"),
        pytest.param("tag", None, ("Tag", "tag", "tags", "tag", "tags"), id="tag"),
        pytest.param(
            "BlogPost",
            None,
            ("BlogPost", "blog_post", "blog_posts", "blog post", "blog posts"),
            id="BlogPost",
        ),
        pytest.param(
            "blog_post",
            None,
            ("BlogPost", "blog_post", "blog_posts", "blog post", "blog posts"),
            id="blog_post",
        ),
        pytest.param("Category", None, ("Category", "category", "categories"), id="-ies"),
        pytest.param("Box", None, ("Box", "box", "boxes"), id="-es"),
        pytest.param("Person", "people", ("Person", "person", "people"), id="--plural"),
    ],
)
def test_names(given: str, plural: str | None, expected: tuple[str, ...]) -> None:
    names = Names.of(given, plural)
    spelled = (names.type, names.module, names.plural, names.words, names.plural_words)
    assert spelled[: len(expected)] == expected


@pytest.mark.parametrize(
    ("given", "plural", "message"),
    [
        pytest.param("2fa", None, "'2fa' is not a name", id="digit-first"),
        pytest.param("Blog-Post", None, "'Blog-Post' is not a name", id="dash"),
        pytest.param("Class", None, "'class' is taken", id="keyword"),
        pytest.param("Node", None, "'node' is taken", id="node"),
        pytest.param("Sheep", "sheep", "'sheep' is not a plural of 'sheep'", id="same-plural"),
    ],
)
def test_names_refused(given: str, plural: str | None, message: str) -> None:
    with pytest.raises(ScaffoldError, match=message):
        Names.of(given, plural)


def test_the_scaffold_is_python_in_the_projects_names(root: Path) -> None:
    scaffold = plan(Names.of("BlogPost"), root)

    sources = {path.relative_to(root).as_posix(): text for path, text in scaffold.created.items()}
    for path, text in [*sources.items(), *scaffold.changed.items()]:
        compile(text, str(path), "exec")
    assert (
        'class BlogPost(TimestampMixin, Base):\n    __tablename__ = "blog_posts"'
        in (sources["models/blog_post.py"])
    )
    assert (
        "class BlogPostRepository(BaseRepository[BlogPost]):"
        in (sources["repositories/blog_post.py"])
    )
    module = sources["schema/types/blog_post.py"]
    assert 'BLOG_POST = register("BlogPost", models.BlogPost, BlogPostRepository)' in module
    assert "blog_posts = fields.listing(" in module
    assert "createBlogPost(input: $input)" in sources["tests/schema/test_blog_post.py"]
    types = scaffold.changed[root / "schema" / "types" / "__init__.py"]
    assert 'MODULES = ("user", "post", "comment", "role", "auth", "blog_post")\n' in types
    models = scaffold.changed[root / "models" / "__init__.py"]
    assert '    "BlogPost",\n    "Comment",' in models


def test_make_model_refuses_to_overwrite(root: Path) -> None:
    (root / "models" / "tag.py").write_text("# mine\n")
    (root / "tests" / "schema" / "test_tag.py").write_text("# mine\n")

    with pytest.raises(ScaffoldError) as caught:
        plan(Names.of("Tag"), root)

    assert str(caught.value) == "models/tag.py, tests/schema/test_tag.py already exist"
    assert (root / "models" / "tag.py").read_text() == "# mine\n"


def test_make_model_refuses_a_name_the_schema_has(root: Path) -> None:
    with pytest.raises(ScaffoldError, match="^models.role is imported already$"):
        plan(Names.of("Role"), root)


def test_make_model_refuses_root_fields_a_type_module_defines(root: Path) -> None:
    # ``Blurb`` with the plural ``posts`` would publish a second ``posts`` query.
    with pytest.raises(ScaffoldError, match="^schema/types/post.py defines posts already$"):
        plan(Names.of("Blurb", "posts"), root)


def test_make_model_keeps_a_multi_line_modules_tuple_and_its_comments(root: Path) -> None:
    listing = root / "schema" / "types" / "__init__.py"
    listing.write_text(
        '"""Types."""\n\nMODULES = (\n    "user",\n    "post",  # (posts)\n    "auth",  # last\n)\n'
    )

    written = plan(Names.of("Tag"), root).changed[listing]

    assert written.endswith('    "auth", "tag",  # last\n)\n')
    assert "# (posts)" in written
    compile(written, str(listing), "exec")


def test_make_model_refuses_a_module_listed_already(root: Path) -> None:
    listing = root / "schema" / "types" / "__init__.py"
    listing.write_text('MODULES = ("user", "post", "tag")\n')

    with pytest.raises(ScaffoldError, match="^schema.types.tag is listed already$"):
        plan(Names.of("Tag"), root)


def test_make_model_refuses_a_root_field_a_module_imports_or_unpacks(root: Path) -> None:
    post = root / "schema" / "types" / "post.py"
    post.write_text(
        post.read_text() + "\nfrom schema.node import node_field as tag\nthings, tags = 1, 2\n"
    )

    with pytest.raises(ScaffoldError, match="^schema/types/post.py defines tag, tags already$"):
        plan(Names.of("Tag"), root)


def test_make_model_needs_the_projects_root(tmp_path: Path) -> None:
    with pytest.raises(ScaffoldError, match="models/__init__.py is missing"):
        plan(Names.of("Tag"), tmp_path)


def test_migrations_are_numbered_after_the_last(tmp_path: Path) -> None:
    assert next_revision_id(tmp_path) == "0001"
    for name in ("0001_initial.py", "0009_more.py", "README.py", "a1b2c3d4e5f6_other.py"):
        (tmp_path / name).write_text("")
    assert next_revision_id(tmp_path) == "0010"
    assert (
        next_revision_id()
        == f"{len(list((PROJECT_ROOT / 'migrations/versions').glob('0*.py'))) + 1:04d}"
    )


def test_make_migration_needs_a_migrated_database(tmp_path: Path, ftf: Ftf) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"

    result = ftf("make:migration", "anything", database_url=url)

    assert result.returncode == 1
    assert result.stderr.strip() == (
        "error: cannot make the migration: Target database is not up to date. (ftf migrate first?)"
    )
