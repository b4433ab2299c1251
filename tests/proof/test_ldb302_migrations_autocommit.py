"""LDB302 proof (Case 2 d1): with AUTOCOMMIT on the migration connection, a migration that fails
halfway leaves its first operations and the previous version committed, and the rerun fails with
`relation "t3" already exists`; without it (and with LDB301's commit) the failed run leaves nothing and
the rerun succeeds."""

from __future__ import annotations

from pathlib import Path

import psycopg2
import pytest

from lintdb.rules.ldb302_migrations_autocommit import MigrationsAutocommit as Rule
from tests.proof.support import (
    alembic,
    alembic_project,
    alembic_url,
    lintdb_fix,
    public_tables_and_versions,
)
from tests.proof.test_ldb301_migrations_never_committed import MIGRATION

HALFWAY = """
import os

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade():
    op.create_table("t3", sa.Column("id", sa.Integer, primary_key=True))
    op.add_column("t1", sa.Column("note", sa.Text))
    if os.environ.get("FAIL") == "1":
        raise RuntimeError("failing halfway")


def downgrade():
    pass
"""


def _fail_then_rerun(env_py: str, dsn: str, root: Path) -> tuple[tuple[list[str], list[str]], str]:
    ini = alembic_project(
        root, alembic_url(dsn, env_py), env_py, {"0001_create.py": MIGRATION, "0002_halfway.py": HALFWAY}
    )
    first = alembic(ini, "upgrade", "head", env={"FAIL": "1"})
    assert first.returncode == 1 and "failing halfway" in first.stderr
    after_failure = public_tables_and_versions(dsn)
    second = alembic(ini, "upgrade", "head", env={"FAIL": "0"})
    return after_failure, ("" if second.returncode == 0 else second.stderr)


def _drop(dsn: str, table: str) -> None:
    con = psycopg2.connect(dsn)
    con.autocommit = True
    try:
        with con.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {table}")
    finally:
        con.close()


@pytest.mark.parametrize("index", range(len(Rule.INVALID)))
def test_autocommit_leaves_half_a_migration_and_fix_works(index: int, pg_dsn: str, tmp_path: Path) -> None:
    case = Rule.INVALID[index]
    after_failure, rerun = _fail_then_rerun(case.source(), pg_dsn, tmp_path / "bad")
    assert after_failure == (["alembic_version", "t1", "t2", "t3"], ["0001"])
    assert 'relation "t3" already exists' in rerun
    fixed = lintdb_fix(case.source(), tmp_path / "fix", unsafe=True)
    assert fixed == case.fixed_source()
    for table in ("t3", "t2", "t1", "alembic_version"):
        _drop(pg_dsn, table)
    after_failure, rerun = _fail_then_rerun(fixed, pg_dsn, tmp_path / "fixed")
    assert after_failure == ([], [])
    assert rerun == ""
    assert public_tables_and_versions(pg_dsn) == (["alembic_version", "t1", "t2", "t3"], ["0002"])
