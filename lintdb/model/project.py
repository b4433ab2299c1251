"""What the project around a file says, read once per run and cached per project root: the declared
dependencies (pyproject.toml, requirements*.txt), `alembic.ini`'s `sqlalchemy.url`, and for a
migration its `env.py` (`render_as_batch`, the dialects it branches on). `[tool.lintdb]` options
(RuleOptions) override what the files say."""

from __future__ import annotations

import configparser
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from lintdb.model.project_index import project_index
from lintdb.options import RuleOptions

ROOT_MARKERS = ("pyproject.toml", "alembic.ini", "setup.cfg", "setup.py", ".git")
POSTGRESQL_DRIVERS = ("asyncpg", "psycopg", "psycopg2", "pg8000")
DIALECTS = ("postgresql", "sqlite", "mysql", "mariadb", "mssql", "oracle")
_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_RENDER_AS_BATCH = re.compile(r"render_as_batch\s*=\s*True")
_DIALECT_BRANCH = re.compile(r"""(?:dialect\.name|\.drivername|get_backend_name\(\)|url)[^\n]*?["'](\w+)""")


def normalized(name: str) -> str:
    """A distribution name as PEP 503 compares them (`Psycopg_Binary` -> `psycopg-binary`)."""
    return re.sub(r"[-_.]+", "-", name).lower()


# env.py runs the migrations on an event loop of its own (the async template's `asyncio.run(...)`)
_STARTS_LOOP = re.compile(r"\b(?:asyncio|anyio|trio)\.run\(|\.run_until_complete\(")
# ... and first looks for a running one (then a thread or nest_asyncio), so it also works from a coroutine
_RUNNING_LOOP = re.compile(r"get_running_loop\(|_get_running_loop\(|\.is_running\(\)|nest_asyncio")


@dataclass(frozen=True)
class MigrationEnv:
    """Facts of an Alembic `env.py`. ``starts_loop``: it runs the migrations with `asyncio.run(...)` (or
    `run_until_complete`); ``handles_running_loop``: it checks for a running loop first (`get_running_loop()`,
    `nest_asyncio`), so an Alembic command called from a coroutine does not raise."""

    path: Path
    render_as_batch: bool
    dialects: tuple[str, ...]
    starts_loop: bool = False
    handles_running_loop: bool = False

    @property
    def raises_in_running_loop(self) -> bool:
        """Whether a command that runs this env.py raises `RuntimeError` when called inside a running loop."""
        return self.starts_loop and not self.handles_running_loop


@dataclass(frozen=True)
class ProjectContext:
    """The project a file belongs to. ``dialects`` are the migration targets: `alembic-dialects` from the
    config when set, else those of `alembic.ini`'s URL and of env.py's dialect branches."""

    root: Path | None = None
    dependencies: frozenset[str] = frozenset()
    alembic_url: str | None = None
    env: MigrationEnv | None = None
    dialects: tuple[str, ...] = ()
    configured: bool = False  # ``dialects`` come from `alembic-dialects`, which outranks the dependencies

    @property
    def sqlite_only(self) -> bool:
        """Whether SQLite is the only database: so configured, or the only one the project names (no
        PostgreSQL dialect or driver)."""
        if self.dialects != ("sqlite",):
            return False
        return self.configured or not any(self.depends_on(d) for d in POSTGRESQL_DRIVERS)

    def depends_on(self, name: str) -> bool:
        """Whether the project declares ``name`` (or `name[extra]`, `name-binary`) as a dependency."""
        return declares(self.dependencies, name)


def declares(dependencies: frozenset[str], name: str) -> bool:
    """Whether ``name`` (or `name[extra]`, `name-binary`) is among the declared ``dependencies``."""
    wanted = normalized(name)
    return any(d == wanted or d.startswith(wanted + "-") for d in dependencies)


def project_root(path: Path) -> Path | None:
    """The nearest directory above ``path`` holding a project marker."""
    path = path.resolve()
    for directory in (path, *path.parents) if path.is_dir() else path.parents:
        if any((directory / marker).exists() for marker in ROOT_MARKERS):
            return directory
    return None


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _requirement_names(lines: list[str]) -> set[str]:
    found = set()
    for line in lines:
        match = _REQUIREMENT_NAME.match(line.split("#", 1)[0])
        if match and not line.lstrip().startswith("-"):
            found.add(normalized(match.group(1)))
    return found


def declared_dependencies(root: Path) -> frozenset[str]:
    """Dependency names from pyproject.toml (PEP 621, optional ones and Poetry's) and requirements*.txt."""
    found: set[str] = set()
    text = _read(root / "pyproject.toml")
    if text is not None:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            data = {}
        project = data.get("project", {})
        lines = list(project.get("dependencies", []))
        for extra in project.get("optional-dependencies", {}).values():
            lines += extra
        found |= _requirement_names([line for line in lines if isinstance(line, str)])
        poetry = data.get("tool", {}).get("poetry", {})
        names = list(poetry.get("dependencies", {}))
        for group in poetry.get("group", {}).values():
            names += list(group.get("dependencies", {}))
        found |= {normalized(n) for n in names if n != "python"}
    for requirements in sorted(root.glob("requirements*.txt")):
        found |= _requirement_names((_read(requirements) or "").splitlines())
    return frozenset(found)


def _alembic_ini(root: Path) -> tuple[str | None, Path | None]:
    """`sqlalchemy.url` and the script location of the project's alembic.ini."""
    text = _read(root / "alembic.ini")
    if text is None:
        return None, None
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error:
        return None, None
    url = parser.get("alembic", "sqlalchemy.url", fallback=None)
    location = parser.get("alembic", "script_location", fallback=None)
    where = (root / location.replace("%(here)s", str(root))) if location else None
    return url, where


def read_env(path: Path) -> MigrationEnv | None:
    """The facts of one env.py."""
    text = _read(path)
    if text is None:
        return None
    dialects = tuple(d for d in DIALECTS if any(m.group(1).startswith(d) for m in _DIALECT_BRANCH.finditer(text)))
    render_as_batch = _RENDER_AS_BATCH.search(text) is not None
    if render_as_batch and "sqlite" not in dialects:
        dialects = (*dialects, "sqlite")  # batch mode exists for SQLite: the migrations are meant to run there
    starts_loop = _STARTS_LOOP.search(text) is not None
    return MigrationEnv(path, render_as_batch, dialects, starts_loop, _RUNNING_LOOP.search(text) is not None)


@lru_cache(maxsize=64)
def _context(root: Path | None) -> ProjectContext:
    if root is None:
        return ProjectContext()
    url, scripts = _alembic_ini(root)
    env = read_env(scripts / "env.py") if scripts is not None else None
    dialects: tuple[str, ...] = ()
    if url is not None:
        dialects = tuple(d for d in DIALECTS if url.startswith(d))
    if env is not None:
        dialects = tuple(dict.fromkeys((*dialects, *env.dialects)))
    dependencies = declared_dependencies(declaring_root(root))
    # Declared drivers name the databases the project runs on (an aiosqlite test setup beside asyncpg: both).
    if "aiosqlite" in dependencies and "sqlite" not in dialects:
        dialects = (*dialects, "sqlite")
    if any(declares(dependencies, d) for d in POSTGRESQL_DRIVERS) and "postgresql" not in dialects:
        dialects = (*dialects, "postgresql")
    # URLs the project's code names: conda-store's SQLite default beside PostgreSQL drivers, optuna's
    # PostgreSQL storage behind a SQLite alembic.ini.
    named = project_index(declaring_root(root)).url_dialects
    dialects = (*dialects, *sorted(d for d in named if d not in dialects))
    return ProjectContext(root, dependencies, url, env, dialects)


DECLARATIONS = ("pyproject.toml", "setup.cfg", "setup.py")


def declaring_root(root: Path) -> Path:
    """Where the project's dependencies are declared: ``root`` or the nearest directory above it with a
    declaration, up to the repository's top (Flask-Migrate keeps alembic.ini in `app/migrations/`)."""
    for directory in (root, *root.parents):
        if any((directory / name).is_file() for name in DECLARATIONS) or any(directory.glob("requirements*.txt")):
            return directory
        if (directory / ".git").exists():
            break
    return root


@lru_cache(maxsize=256)
def _env_beside(directory: Path) -> MigrationEnv | None:
    """env.py of a migration in ``directory`` (`versions/`), or of env.py itself."""
    for candidate in (directory / "env.py", directory.parent / "env.py"):
        if candidate.is_file():
            return read_env(candidate)
    return None


def context_files(directory: Path) -> list[Path]:
    """The files the project context of a file in ``directory`` is read from (present or not): the
    dependency declarations, alembic.ini, the env.py it names and the env.py beside the file."""
    root = project_root(directory)
    if root is None:
        return []
    declaring = declaring_root(root)
    found = [declaring / name for name in DECLARATIONS]
    found += sorted(declaring.glob("requirements*.txt"))
    found.append(root / "alembic.ini")
    _, scripts = _alembic_ini(root)
    if scripts is not None:
        found.append(scripts / "env.py")
    found += [directory / "env.py", directory.parent / "env.py"]
    return found


def project_context(path: str | Path | None, options: RuleOptions | None = None) -> ProjectContext:
    """The project context of the file at ``path`` (empty without one), with the config's overrides."""
    context = ProjectContext() if path is None else _context(project_root(Path(path)))
    if path is not None:
        env = _env_beside(Path(path).resolve().parent)
        if env is not None and env != context.env:
            context = ProjectContext(
                context.root,
                context.dependencies,
                context.alembic_url,
                env,
                tuple(dict.fromkeys((*context.dialects, *env.dialects))),
            )
    if options is not None and options.alembic_dialects:
        context = ProjectContext(
            context.root, context.dependencies, context.alembic_url, context.env, options.alembic_dialects, True
        )
    return context
