"""LDB303 proof (Case 3): on SQLite a failed batch migration leaves `_alembic_tmp_<table>` and the rerun
fails with `table _alembic_tmp_<table> already exists`; with lintdb's guard the rerun succeeds."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from lintdb.rules.ldb303_batch_without_tmp_table_guard import (
    BatchWithoutTmpTableGuard as Rule,
)
from lintdb.rules.ldb303_batch_without_tmp_table_guard import tmp_table_name
from tests.proof.support import alembic, alembic_project, lintdb_fix

LONG = "a_table_with_a_really_long_name_for_truncation"
ENV = """
from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config
connectable = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool)
with connectable.connect() as connection:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
"""
BASE = f'''
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade():
    op.create_table("foo", sa.Column("id", sa.Integer, primary_key=True), sa.Column("bar", sa.String(20), nullable=False),
                    sa.Column("old", sa.Integer), sa.Column("new", sa.Integer))
    op.execute("INSERT INTO foo (id, bar) VALUES (1, 'x')")
    op.create_table("owner", sa.Column("id", sa.Integer, primary_key=True))
    op.create_table("{LONG}", sa.Column("id", sa.Integer, primary_key=True), sa.Column("owner_id", sa.Integer))
    op.create_table("UserAccount", sa.Column("id", sa.Integer, primary_key=True), sa.Column("flag", sa.Integer))
    for name in ("bar", "audit_log", "movies", "series"):
        op.create_table(name, sa.Column("id", sa.Integer, primary_key=True), sa.Column("old", sa.Integer),
                        sa.Column("never_watched", sa.Boolean), sa.Column("rating", sa.Integer))


def downgrade():
    pass
'''
# Appended to the migration under test: fail after the batch when FAIL=1 (the design notes' Case 3 run 1).
FAILURE = """

import os as _os

_revision_function = {function}


def {function}():
    _revision_function()
    if _os.environ.get("FAIL") == "1":
        raise RuntimeError("failing after the batch")
"""
# (example index, the function that holds the batch, table, schema)
INVALID_RUNS = [
    (0, "upgrade", "foo", None),
    (1, "downgrade", "foo", "main"),
    (2, "upgrade", LONG, None),
    (3, "upgrade", "foo", None),
    (4, "upgrade", "UserAccount", None),
    (5, "upgrade", "foo", None),  # schema=None is the default schema
    (6, "upgrade", "foo", None),  # a loop over a module constant: the guard inside the loop
    (7, "upgrade", "foo", None),  # add_column with server_default=sa.false() rebuilds
    (8, "upgrade", "foo", None),  # under `if bind.dialect.name == "sqlite":`, beside postgresql.ENUM
    (9, "upgrade", "movies", None),  # a helper whose table is a parameter
]


def _revision(source: str, function: str) -> str:
    return 'revision = "0002"\ndown_revision = "0001"\n' + source + FAILURE.format(function=function)


def _tables(database: Path, schema: str | None) -> set[str]:
    with sqlite3.connect(database) as con:
        return {r[0] for r in con.execute(f"SELECT name FROM {schema or 'main'}.sqlite_master WHERE type = 'table'")}


def _run_twice(source: str, function: str, root: Path) -> tuple[str, Path]:
    """Run 1 fails after the batch; run 2 is the retry. Returns run 2's stderr (empty on success)."""
    database = root / "db.sqlite"
    ini = alembic_project(
        root, f"sqlite:///{database}", ENV, {"0001_base.py": BASE, "0002_batch.py": _revision(source, function)}
    )
    if function == "downgrade":
        assert alembic(ini, "upgrade", "head").returncode == 0
        command = ["downgrade", "0001"]
    else:
        command = ["upgrade", "head"]
    first = alembic(ini, *command, env={"FAIL": "1"})
    assert first.returncode == 1 and "failing after the batch" in first.stderr
    second = alembic(ini, *command, env={"FAIL": "0"})
    return ("" if second.returncode == 0 else second.stderr), database


def test_every_invalid_example_is_proven() -> None:
    assert len(INVALID_RUNS) == len(Rule.INVALID)


@pytest.mark.parametrize(("index", "function", "table", "schema"), INVALID_RUNS)
def test_failed_batch_blocks_rerun_and_guard_fixes_it(
    index: int, function: str, table: str, schema: str | None, tmp_path: Path
) -> None:
    case = Rule.INVALID[index]
    tmp = tmp_table_name(table)
    error, database = _run_twice(case.source(), function, tmp_path / "bad")
    assert (
        f"sqlite3.OperationalError) table {tmp} already exists" in error
        or f'sqlite3.OperationalError) table "{tmp}" already exists' in error
    )
    assert tmp in _tables(database, schema)
    fixed = lintdb_fix(case.source(), tmp_path / "fix")
    assert fixed == case.fixed_source()
    error, database = _run_twice(fixed, function, tmp_path / "fixed")
    assert error == ""
    assert tmp not in _tables(database, schema)


# 1: indexes only; 2: a nullable column; 11: a plain string server_default (no rebuild, as Alembic's
# requires_recreate_in_batch says); 12: batches under branches SQLite does not take.
@pytest.mark.parametrize("index", [1, 2, 11, 12])
def test_near_miss_leaves_no_tmp_table(index: int, tmp_path: Path) -> None:
    database = tmp_path / "db.sqlite"
    ini = alembic_project(
        tmp_path,
        f"sqlite:///{database}",
        ENV,
        {"0001_base.py": BASE, "0002_batch.py": _revision(Rule.VALID[index].source(), "upgrade")},
    )
    assert alembic(ini, "upgrade", "head", env={"FAIL": "1"}).returncode == 1
    assert not {t for t in _tables(database, None) if t.startswith("_alembic_tmp_")}


# Guards written other ways: 7 `conn.execute(sa.text(f'DROP ... "{tbl}"'))` over a loop's names,
# 8 `exec_driver_sql` and `op.execute(sa.text(...))`, 9 a helper that drops, 10 an f-string in the loop.
@pytest.mark.parametrize("index", [0, 4, 7, 8, 9, 10])
def test_near_miss_guarded_rerun_works(index: int, tmp_path: Path) -> None:
    assert _run_twice(Rule.VALID[index].source(), "upgrade", tmp_path)[0] == ""


def test_postgresql_only_project_leaves_nothing_and_reruns(pg_dsn: str, tmp_path: Path) -> None:
    url = pg_dsn.replace("postgresql://", "postgresql+psycopg2://", 1)
    ini = alembic_project(
        tmp_path, url, ENV, {"0001_base.py": BASE, "0002_batch.py": _revision(Rule.VALID[3].source(), "upgrade")}
    )
    assert alembic(ini, "upgrade", "head", env={"FAIL": "1"}).returncode == 1
    assert alembic(ini, "upgrade", "head", env={"FAIL": "0"}).returncode == 0
