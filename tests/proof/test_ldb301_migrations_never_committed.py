"""LDB301 proof (Case 2): a statement before `context.configure()` makes `alembic upgrade head` exit 0
and commit nothing; with lintdb's fix the tables and `alembic_version` are there."""

from __future__ import annotations

from pathlib import Path

import pytest

from lintdb.diagnostics import Applicability
from lintdb.rules.ldb301_migrations_never_committed import (
    MigrationsNeverCommitted as Rule,
)
from tests.proof.support import (
    alembic,
    alembic_project,
    alembic_url,
    lintdb_fix,
    public_tables_and_versions,
)

MIGRATION = """
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade():
    op.create_table("t1", sa.Column("id", sa.Integer, primary_key=True))
    op.create_table("t2", sa.Column("id", sa.Integer, primary_key=True))


def downgrade():
    op.drop_table("t2")
    op.drop_table("t1")
"""


def _upgrade(env_py: str, dsn: str, root: Path) -> str:
    ini = alembic_project(root, alembic_url(dsn, env_py), env_py, {"0001_create.py": MIGRATION})
    result = alembic(ini, "upgrade", "head")
    assert result.returncode == 0, result.stderr
    return result.stderr


@pytest.mark.parametrize("index", range(len(Rule.INVALID)))
def test_bad_env_reports_success_and_commits_nothing_and_fix_works(index: int, pg_dsn: str, tmp_path: Path) -> None:
    case = Rule.INVALID[index]
    log = _upgrade(case.source(), pg_dsn, tmp_path / "bad")
    assert "Running upgrade  -> 0001" in log
    assert public_tables_and_versions(pg_dsn) == ([], [])
    config = "".join(f'{k} = "{v}"\n' for k, v in case.options.items())
    fixed = lintdb_fix(
        case.source(), tmp_path / "fix", unsafe=case.applicability == Applicability.UNSAFE, config=config
    )
    assert fixed == case.fixed_source()
    _upgrade(fixed, pg_dsn, tmp_path / "fixed")
    assert public_tables_and_versions(pg_dsn) == (["alembic_version", "t1", "t2"], ["0001"])


@pytest.mark.parametrize("index", range(len(Rule.VALID)))
def test_near_miss_env_commits(index: int, pg_dsn: str, tmp_path: Path) -> None:
    _upgrade(Rule.VALID[index].source(), pg_dsn, tmp_path)
    assert public_tables_and_versions(pg_dsn) == (["alembic_version", "t1", "t2"], ["0001"])
