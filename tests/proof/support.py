"""Helpers for proof tests: apply lintdb's fix with the real CLI, and load example code as a module."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import types
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def _lintdb_check(path: Path, *args: str, cwd: Path | None = None) -> str:
    """Run `lintdb check --no-cache ARGS PATH` and return what it prints."""
    command = [sys.executable, "-m", "lintdb", "check", "--no-cache", *args, str(path)]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120).stdout


def lintdb_fix(source: str, directory: Path, *, unsafe: bool = False, config: str = "") -> str:
    """Write ``source`` to a file, run `lintdb check --fix` on it, and return the fixed text."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"example_{uuid.uuid4().hex[:8]}.py"
    path.write_text(source, encoding="utf-8")
    if config:
        (directory / "lintdb.toml").write_text(config, encoding="utf-8")
    _lintdb_check(path, "--select", "ALL", "--fix", *(["--unsafe-fixes"] if unsafe else []), cwd=directory)
    return path.read_text(encoding="utf-8")


def lintdb_findings(source: str, directory: Path, code: str) -> list[dict[str, Any]]:
    """Write ``source`` to `example.py`, run `lintdb check --select CODE --output-format json` on it, and
    return the findings it prints."""
    path = directory / "example.py"
    path.write_text(source, encoding="utf-8")
    findings: list[dict[str, Any]] = json.loads(_lintdb_check(path, "--select", code, "--output-format", "json"))
    return findings


def load(source: str) -> types.ModuleType:
    """Execute example code as a fresh module."""
    module = types.ModuleType(f"example_{uuid.uuid4().hex[:8]}")
    exec(compile(source, module.__name__, "exec"), module.__dict__)
    return module


def load_with_factory(source: str, **factories: Any) -> types.ModuleType:
    """Execute example code whose project factory (`from app.db import NAME`) is given here instead: the
    factories are real asyncpg / SQLAlchemy callables, never mocks of the database."""
    module = types.ModuleType(f"example_{uuid.uuid4().hex[:8]}")
    module.__dict__.update(factories)
    for name in factories:
        source = source.replace(f"from app.db import {name}\n", "")
    exec(compile(source, module.__name__, "exec"), module.__dict__)
    return module


@contextlib.asynccontextmanager
async def connection_in_transaction(dsn: str) -> AsyncIterator[Any]:
    """A project's context manager that hands out an asyncpg connection inside a transaction."""
    import asyncpg

    con = await asyncpg.connect(dsn)
    try:
        async with con.transaction():
            yield con
    finally:
        await con.close()


def load_models(source: str) -> types.ModuleType:
    """Execute example code that declares ORM models as a fresh module in `sys.modules` (SQLAlchemy
    resolves `Mapped[...]` annotations through it)."""
    module = types.ModuleType(f"example_{uuid.uuid4().hex[:8]}")
    sys.modules[module.__name__] = module
    exec(compile(source, module.__name__, "exec"), module.__dict__)
    return module


# Table `t` with ids 1..5 named n1..n5, which several proofs read.
NAMES_TABLE = (
    "DROP TABLE IF EXISTS t; CREATE TABLE t (id int, name text); "
    "INSERT INTO t SELECT i, 'n' || i FROM generate_series(1, 5) AS i"
)


async def run_sql(dsn: str, sql: str) -> None:
    """Run SQL (several statements allowed) on a fresh asyncpg connection."""
    import asyncpg

    con = await asyncpg.connect(dsn)
    try:
        await con.execute(sql)
    finally:
        await con.close()


async def in_session(dsn: str, body: Callable[[Any], Awaitable[T]]) -> T:
    """Run ``body`` with an `AsyncSession` on a fresh asyncpg engine, disposed afterwards."""
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

    engine = create_async_engine(asyncpg_dsn(dsn))
    try:
        async with AsyncSession(engine) as session:
            return await body(session)
    finally:
        await engine.dispose()


def asyncpg_dsn(dsn: str) -> str:
    """A DSN for SQLAlchemy's asyncpg dialect."""
    return dsn.replace("postgresql://", "postgresql+asyncpg://", 1)


def alembic_url(dsn: str, env_py: str) -> str:
    """The URL for an env.py: asyncpg for an async one, psycopg2 otherwise."""
    return (
        asyncpg_dsn(dsn)
        if "async_engine_from_config" in env_py
        else dsn.replace("postgresql://", "postgresql+psycopg2://", 1)
    )


def public_tables_and_versions(dsn: str) -> tuple[list[str], list[str]]:
    """The tables in `public` and the rows of `alembic_version`."""
    import psycopg2

    con = psycopg2.connect(dsn)
    try:
        with con.cursor() as cur:
            cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1")
            tables = [r[0] for r in cur.fetchall()]
            versions = []
            if "alembic_version" in tables:
                cur.execute("SELECT version_num FROM alembic_version")
                versions = [r[0] for r in cur.fetchall()]
            return tables, versions
    finally:
        con.close()


def alembic_project(root: Path, url: str, env_py: str, versions: dict[str, str]) -> Path:
    """A throwaway Alembic project (alembic.ini, env.py, versions/); returns the ini path."""
    (root / "versions").mkdir(parents=True, exist_ok=True)
    ini = root / "alembic.ini"
    ini.write_text(
        f"[alembic]\nscript_location = {root}\nsqlalchemy.url = {url}\n\n"
        "[loggers]\nkeys = root,alembic\n[handlers]\nkeys = console\n[formatters]\nkeys = generic\n"
        "[logger_root]\nlevel = WARNING\nhandlers = console\n"
        "[logger_alembic]\nlevel = INFO\nhandlers =\nqualname = alembic\n"
        "[handler_console]\nclass = StreamHandler\nargs = (sys.stderr,)\nformatter = generic\n"
        "[formatter_generic]\nformat = %(levelname)s [%(name)s] %(message)s\n",
        encoding="utf-8",
    )
    (root / "env.py").write_text(env_py, encoding="utf-8")
    (root / "script.py.mako").write_text("", encoding="utf-8")
    for name, source in versions.items():
        (root / "versions" / name).write_text(source, encoding="utf-8")
    return ini


def alembic(ini: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real `alembic` command line in a subprocess."""
    import os

    return subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(ini), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )
