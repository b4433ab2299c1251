"""The project context: dependencies, alembic.ini, a migration's env.py, config overrides, one read per root."""

from __future__ import annotations

from pathlib import Path

import libcst as cst

from lintdb.cache import indexed_sources
from lintdb.model import SemanticModel
from lintdb.model.project import _context, project_context
from lintdb.options import RuleOptions


def _project(root: Path) -> Path:
    (root / "pyproject.toml").write_text(
        '[project]\nname = "app"\ndependencies = ["asyncpg>=0.29", "SQLAlchemy[asyncio]"]\n'
        '[project.optional-dependencies]\nlite = ["aiosqlite"]\n',
        encoding="utf-8",
    )
    (root / "requirements-dev.txt").write_text("# tools\npsycopg[binary]==3.2\n-r base.txt\n", encoding="utf-8")
    (root / "alembic.ini").write_text(
        "[alembic]\nscript_location = migrations\nsqlalchemy.url = postgresql+psycopg://db/app\n", encoding="utf-8"
    )
    versions = root / "migrations" / "versions"
    versions.mkdir(parents=True)
    (root / "migrations" / "env.py").write_text(
        "def run(connection):\n"
        '    if connection.dialect.name == "sqlite":\n'
        "        context.configure(connection=connection, render_as_batch=True)\n",
        encoding="utf-8",
    )
    migration = versions / "0001_init.py"
    migration.write_text("def upgrade():\n    pass\n", encoding="utf-8")
    return migration


def test_context_of_a_migration(tmp_path: Path) -> None:
    context = project_context(_project(tmp_path))
    assert context.root == tmp_path
    assert context.depends_on("asyncpg") and context.depends_on("aiosqlite") and context.depends_on("psycopg")
    assert context.depends_on("sqlalchemy") and not context.depends_on("mysqlclient")
    assert context.alembic_url == "postgresql+psycopg://db/app"
    assert context.env is not None and context.env.render_as_batch
    assert context.dialects == ("postgresql", "sqlite")


def test_config_overrides_and_one_read_per_root(tmp_path: Path) -> None:
    migration = _project(tmp_path)
    project_context(migration)
    hits = _context.cache_info().hits
    other = migration.parent / "0002_more.py"
    overridden = project_context(other, RuleOptions(alembic_dialects=("postgresql",)))
    assert _context.cache_info().hits == hits + 1
    assert overridden.dialects == ("postgresql",)


def test_model_without_a_path_has_an_empty_context() -> None:
    context = SemanticModel(cst.parse_module("x = 1\n")).project
    assert context.root is None and context.dependencies == frozenset() and context.env is None


def test_render_as_batch_and_aiosqlite_name_sqlite(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\ndependencies = ["aiosqlite"]\n', encoding="utf-8"
    )
    (tmp_path / "alembic.ini").write_text("[alembic]\nscript_location = migrations\n", encoding="utf-8")
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "env.py").write_text("context.configure(render_as_batch=True)\n", encoding="utf-8")
    context = project_context(tmp_path / "migrations" / "env.py")
    assert context.dialects == ("sqlite",) and context.sqlite_only
    (tmp_path / "pg").mkdir()
    assert not project_context(_project(tmp_path / "pg")).sqlite_only  # asyncpg and a PostgreSQL URL


def test_declared_drivers_name_their_databases(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\ndependencies = ["asyncpg"]\n[project.optional-dependencies]\ntest = ["aiosqlite"]\n',
        encoding="utf-8",
    )
    context = project_context(tmp_path / "app.py")
    assert context.dialects == ("sqlite", "postgresql") and not context.sqlite_only
    assert project_context(tmp_path / "app.py", RuleOptions(alembic_dialects=("sqlite",))).sqlite_only


def test_dependencies_above_a_migrations_alembic_ini(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "app"\ndependencies = ["psycopg2-binary"]\n')
    migrations = tmp_path / "app" / "migrations"
    (migrations / "versions").mkdir(parents=True)
    (migrations / "alembic.ini").write_text("[alembic]\n", encoding="utf-8")
    context = project_context(migrations / "versions" / "0001_x.py")
    assert context.root == migrations and context.dialects == ("postgresql",)


def test_databases_the_code_names_join_the_dialects(tmp_path: Path) -> None:
    """conda-store's shape: PostgreSQL/MySQL drivers declared, a SQLite default URL in the settings; optuna's:
    a SQLite alembic.ini, a branch on `engine.name == "postgresql"`; URLs in tests do not count."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "app"\ndependencies = ["psycopg2-binary"]\n')
    package = tmp_path / "app"
    (package / "migrations" / "versions").mkdir(parents=True)
    (package / "migrations" / "alembic.ini").write_text("[alembic]\n", encoding="utf-8")
    (package / "config.py").write_text('DATABASE_URL = "sqlite:///app.sqlite"\n', encoding="utf-8")
    (package / "storage.py").write_text(
        "def upsert(engine, sessionmaker):\n    if engine.name == 'mysql':\n        pass\n", encoding="utf-8"
    )
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "helpers.py").write_text('URL = "mariadb://test/db"\n', encoding="utf-8")
    context = project_context(package / "migrations" / "versions" / "0001_x.py")
    assert context.dialects == ("postgresql", "mysql", "sqlite")
    # the cache key holds them: config.py is outside the migrations' project root, in the declaring one
    assert package / "config.py" in indexed_sources(package / "migrations")
