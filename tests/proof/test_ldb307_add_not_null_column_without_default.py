"""LDB307 proof: adding a NOT NULL column without a server default to a table with a row fails on
PostgreSQL with `NotNullViolation` and on SQLite with `Cannot add a NOT NULL column with default value
NULL`; the two fixes the message names (a server default; add nullable, backfill, alter) and the other
near-misses upgrade."""

from __future__ import annotations

from pathlib import Path

import pytest

from lintdb.rules.ldb301_migrations_never_committed import sync_env
from lintdb.rules.ldb307_add_not_null_column_without_default import (
    AddNotNullColumnWithoutDefault as Rule,
)
from tests.proof.support import alembic, alembic_project, alembic_url

ENV = sync_env()
BASE = """
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade():
    op.create_table("account", sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String(50)))
    op.execute("INSERT INTO account (id, name) VALUES (1, 'ada')")


def downgrade():
    op.drop_table("account")
"""
POSTGRESQL_ERROR = 'psycopg2.errors.NotNullViolation) column "email" of relation "account" contains null values'
SQLITE_ERROR = "sqlite3.OperationalError) Cannot add a NOT NULL column with default value NULL"


def _upgrade(source: str, url: str, root: Path) -> tuple[int, str]:
    ini = alembic_project(
        root, url, ENV, {"0001_base.py": BASE, "0002_add.py": 'revision = "0002"\ndown_revision = "0001"\n' + source}
    )
    result = alembic(ini, "upgrade", "head")
    return result.returncode, result.stderr


def _postgresql(dsn: str) -> str:
    return alembic_url(dsn, ENV)


@pytest.mark.parametrize("index", range(len(Rule.INVALID)))
def test_not_null_add_fails_on_postgresql(index: int, pg_dsn: str, tmp_path: Path) -> None:
    code, log = _upgrade(Rule.INVALID[index].source(), _postgresql(pg_dsn), tmp_path)
    assert code == 1
    assert POSTGRESQL_ERROR in log


@pytest.mark.parametrize("index", range(len(Rule.INVALID)))
def test_not_null_add_fails_on_sqlite(index: int, tmp_path: Path) -> None:
    code, log = _upgrade(Rule.INVALID[index].source(), f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path)
    assert code == 1
    assert SQLITE_ERROR in log


def test_message_starts_with_the_server_error() -> None:
    from lintdb.config import build_settings
    from lintdb.engine import lint_source

    settings = build_settings({}, {"select": ["LDB307"]}, Path.cwd(), None).for_file(Path("m.py"))
    (finding,) = lint_source(Rule.INVALID[0].source(), settings)
    assert finding.message.startswith('`NotNullViolation: column "email" of relation "account" contains null values`')


@pytest.mark.parametrize("index", range(len(Rule.VALID) - 1))
def test_near_miss_upgrades_on_postgresql(index: int, pg_dsn: str, tmp_path: Path) -> None:
    code, log = _upgrade(Rule.VALID[index].source(), _postgresql(pg_dsn), tmp_path)
    assert code == 0, log
