"""LDB301 proof (Case 2): a statement before `context.configure()` makes `alembic upgrade head` exit 0
and commit nothing; with lintdb's fix the tables and `alembic_version` are there."""

from __future__ import annotations

from pathlib import Path

import psycopg2
import pytest

from lintdb.diagnostics import Applicability
from lintdb.rules.ldb301_migrations_never_committed import MigrationsNeverCommitted as Rule
from tests.proof.support import alembic, alembic_project, asyncpg_dsn, lintdb_fix

MIGRATION = '''
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
'''


def _url(dsn: str, env_py: str) -> str:
    return asyncpg_dsn(dsn) if "async_engine_from_config" in env_py else dsn.replace("postgresql://", "postgresql+psycopg2://", 1)


def _state(dsn: str) -> tuple[list[str], list[str]]:
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


def _upgrade(env_py: str, dsn: str, root: Path) -> str:
    ini = alembic_project(root, _url(dsn, env_py), env_py, {"0001_create.py": MIGRATION})
    result = alembic(ini, "upgrade", "head")
    assert result.returncode == 0, result.stderr
    return result.stderr


@pytest.mark.parametrize("index", range(len(Rule.INVALID)))
def test_bad_env_reports_success_and_commits_nothing_and_fix_works(index: int, pg_dsn: str, tmp_path: Path) -> None:
    case = Rule.INVALID[index]
    log = _upgrade(case.source(), pg_dsn, tmp_path / "bad")
    assert "Running upgrade  -> 0001" in log
    assert _state(pg_dsn) == ([], [])
    config = "".join(f'{k} = "{v}"\n' for k, v in case.options.items())
    fixed = lintdb_fix(case.source(), tmp_path / "fix", unsafe=case.applicability == Applicability.UNSAFE, config=config)
    assert fixed == case.fixed_source()
    _upgrade(fixed, pg_dsn, tmp_path / "fixed")
    assert _state(pg_dsn) == (["alembic_version", "t1", "t2"], ["0001"])


@pytest.mark.parametrize("index", range(len(Rule.VALID)))
def test_near_miss_env_commits(index: int, pg_dsn: str, tmp_path: Path) -> None:
    _upgrade(Rule.VALID[index].source(), pg_dsn, tmp_path)
    assert _state(pg_dsn) == (["alembic_version", "t1", "t2"], ["0001"])
