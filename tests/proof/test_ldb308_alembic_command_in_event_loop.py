"""LDB308 proof: with the official async env.py (`alembic init -t async`), an Alembic command called inside
a coroutine (a FastAPI lifespan, a startup hook) fails with `RuntimeError: asyncio.run() cannot be called
from a running event loop` and migrates nothing; lintdb's fix (`await asyncio.to_thread(...)`) migrates,
and so do the near-misses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lintdb.rules.ldb308_alembic_command_in_event_loop import (
    AlembicCommandInEventLoop as Rule,
)
from tests.proof.support import asyncpg_dsn, lintdb_findings, lintdb_fix, public_tables_and_versions

ERROR = "RuntimeError: asyncio.run() cannot be called from a running event loop"
MIGRATION = """
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade():
    op.create_table("t1", sa.Column("id", sa.Integer, primary_key=True))


def downgrade():
    op.drop_table("t1")
"""
LIFESPAN = "async def go():\n    async with app.app.router.lifespan_context(app.app):\n        pass\nasyncio.run(go())"
# How each example's code is started, as the application would start it.
INVALID_DRIVERS = [LIFESPAN, "app.main()", "asyncio.run(app.Migrator().up())", "asyncio.run(app.show())"]
VALID_DRIVERS = [(0, LIFESPAN), (1, LIFESPAN), (2, LIFESPAN), (3, "app.main()"), (4, "app.main()")]
# The cookbook's env.py for connection sharing: the template's, using a connection passed in attributes.
SHARED_CONNECTION = """def run_migrations_online() -> None:
    connectable = config.attributes.get("connection", None)
    if connectable is None:
        asyncio.run(run_async_migrations())
    else:
        do_run_migrations(connectable)
"""


def _project(root: Path, dsn: str, *, shared_connection: bool = False, template: str = "async") -> Path:
    """`alembic init -t TEMPLATE` in ``root``, pointed at the test database, with one migration."""
    root.mkdir(parents=True)
    subprocess.run(
        [sys.executable, "-m", "alembic", "init", "-t", template, "migrations"],
        cwd=root,
        check=True,
        capture_output=True,
    )
    ini = root / "alembic.ini"
    text = ini.read_text(encoding="utf-8")
    assert "sqlalchemy.url = driver://user:pass@localhost/dbname" in text
    url = asyncpg_dsn(dsn) if template == "async" else dsn.replace("postgresql://", "postgresql+psycopg2://", 1)
    ini.write_text(text.replace("driver://user:pass@localhost/dbname", url), encoding="utf-8")
    (root / "migrations" / "versions" / "0001_t1.py").write_text(MIGRATION, encoding="utf-8")
    if shared_connection:
        env = root / "migrations" / "env.py"
        template = env.read_text(encoding="utf-8")
        start = template.index("def run_migrations_online() -> None:")
        end = template.index("\n\nif context.is_offline_mode():")
        env.write_text(template[:start] + SHARED_CONNECTION + template[end:], encoding="utf-8")
    return root


def _run(source: str, driver: str, root: Path, dsn: str) -> subprocess.CompletedProcess[str]:
    (root / "app.py").write_text(source, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-c", f"import asyncio\nimport app\n{driver}"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DATABASE_URL": asyncpg_dsn(dsn)},
    )


def test_every_example_is_run() -> None:
    assert len(INVALID_DRIVERS) == len(Rule.INVALID)
    assert [i for i, _ in VALID_DRIVERS] == list(range(len(Rule.VALID) - 1))


@pytest.mark.parametrize("index", range(len(Rule.INVALID)))
def test_command_in_coroutine_fails_and_fix_migrates(index: int, pg_dsn: str, tmp_path: Path) -> None:
    case = Rule.INVALID[index]
    root = _project(tmp_path / "app", pg_dsn)
    result = _run(case.source(), INVALID_DRIVERS[index], root, pg_dsn)
    assert result.returncode == 1
    assert ERROR in result.stderr
    assert public_tables_and_versions(pg_dsn) == ([], [])
    fixed = lintdb_fix(case.source(), tmp_path / "fix")
    if case.fixed_source() is None:
        assert fixed == case.source()
        return
    assert fixed == case.fixed_source()
    result = _run(fixed, INVALID_DRIVERS[index], root, pg_dsn)
    assert result.returncode == 0, result.stderr
    assert public_tables_and_versions(pg_dsn) == (["alembic_version", "t1"], ["0001"])


@pytest.mark.parametrize(("index", "driver"), VALID_DRIVERS)
def test_near_miss_migrates(index: int, driver: str, pg_dsn: str, tmp_path: Path) -> None:
    root = _project(tmp_path / "app", pg_dsn, shared_connection=index == 3)
    result = _run(Rule.VALID[index].source(), driver, root, pg_dsn)
    assert result.returncode == 0, result.stderr
    assert public_tables_and_versions(pg_dsn) == (["alembic_version", "t1"], ["0001"])


def test_reported_beside_the_async_template(pg_dsn: str, tmp_path: Path) -> None:
    """The project's env.py is the async template (`asyncio.run`, no running-loop check): judged."""
    root = _project(tmp_path / "app", pg_dsn)
    assert [f["code"] for f in lintdb_findings(Rule.INVALID[0].source(), root, "LDB308")] == ["LDB308"]


def test_near_miss_sync_env_migrates_from_a_coroutine_and_is_not_reported(pg_dsn: str, tmp_path: Path) -> None:
    """With the sync template's env.py (no loop of its own) the same lifespan migrates: it blocks the event
    loop for the migration but raises nothing, so it is not reported."""
    root = _project(tmp_path / "app", pg_dsn, template="generic")
    source = Rule.INVALID[0].source()
    assert lintdb_findings(source, root, "LDB308") == []
    result = _run(source, LIFESPAN, root, pg_dsn)
    assert result.returncode == 0, result.stderr
    assert public_tables_and_versions(pg_dsn) == (["alembic_version", "t1"], ["0001"])
