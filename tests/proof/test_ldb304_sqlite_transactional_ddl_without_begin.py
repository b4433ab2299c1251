"""LDB304 proof (Case 3): with `transactional_ddl=True` on SQLite and no BEGIN recipe, a failed
migration keeps the tables but loses their rows and `alembic_version`, and every rerun fails with
`table foo already exists`; with the recipe (the near-miss) the failed run leaves nothing and the rerun
succeeds."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from lintdb.rules.ldb304_sqlite_transactional_ddl_without_begin import (
    SqliteTransactionalDdlWithoutBegin as Rule,
)
from tests.proof.support import alembic, alembic_project

MIGRATION = """
import os

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade():
    op.create_table("foo", sa.Column("id", sa.Integer, primary_key=True), sa.Column("bar", sa.String(20)))
    op.execute("INSERT INTO foo (id, bar) VALUES (1, 'x')")
    if os.environ.get("FAIL") == "1":
        raise RuntimeError("failing after the DDL")


def downgrade():
    pass
"""


def _state(database: Path) -> tuple[set[str], list[tuple[object, ...]]]:
    with sqlite3.connect(database) as con:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        rows = list(con.execute("SELECT * FROM foo")) if "foo" in tables else []
    return tables, rows


def _fail_then_rerun(env_py: str, root: Path) -> tuple[tuple[set[str], list[tuple[object, ...]]], str]:
    database = root / "db.sqlite"
    ini = alembic_project(root, f"sqlite:///{database}", env_py, {"0001_base.py": MIGRATION})
    first = alembic(ini, "upgrade", "head", env={"FAIL": "1"})
    assert first.returncode == 1 and "failing after the DDL" in first.stderr
    after_failure = _state(database)
    second = alembic(ini, "upgrade", "head", env={"FAIL": "0"})
    return after_failure, ("" if second.returncode == 0 else second.stderr)


def test_failed_migration_keeps_tables_without_rows_and_blocks_rerun(tmp_path: Path) -> None:
    (tables, rows), rerun = _fail_then_rerun(Rule.INVALID[0].source(), tmp_path)
    assert "foo" in tables and rows == []
    assert (
        "alembic_version" not in tables
        or not sqlite3.connect(tmp_path / "db.sqlite").execute("SELECT * FROM alembic_version").fetchall()
    )
    assert "table foo already exists" in rerun


def test_near_miss_with_begin_recipe_is_atomic(tmp_path: Path) -> None:
    (tables, rows), rerun = _fail_then_rerun(Rule.VALID[0].source(), tmp_path)
    assert "foo" not in tables and rows == []
    assert rerun == ""
    assert _state(tmp_path / "db.sqlite")[1] == [(1, "x")]


def test_near_miss_offline_configure_writes_its_own_begin_and_commit(tmp_path: Path) -> None:
    """`alembic upgrade --sql` opens no connection: the script it prints has BEGIN before the DDL and
    COMMIT after the version row, so sqlite3 runs it as one transaction: failing before the COMMIT
    leaves no table behind."""
    env_py = Rule.VALID[-1].source() + "\nrun_migrations_offline()\n"
    ini = alembic_project(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", env_py, {"0001_base.py": MIGRATION})
    script = alembic(ini, "upgrade", "head", "--sql", env={"FAIL": "0"})
    assert script.returncode == 0, script.stderr
    statements = [s.strip() for s in script.stdout.split(";") if s.strip()]
    assert statements[0] == "BEGIN" and statements[-1] == "COMMIT"
    assert any("CREATE TABLE foo" in s for s in statements), statements
    assert not (tmp_path / "db.sqlite").exists()
    database = tmp_path / "run.sqlite"
    con = sqlite3.connect(database)
    with pytest.raises(sqlite3.OperationalError, match="no such table: missing"):
        con.executescript(";\n".join([*statements[:-1], "SELECT * FROM missing"]) + ";")
    con.close()
    assert _state(database) == (set(), [])
