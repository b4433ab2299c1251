"""LDB306 proof: statements PostgreSQL refuses in a transaction block fail inside Alembic's transaction
(`ActiveSqlTransaction`, `UnsafeNewEnumValueUsage`), and lintdb's fix (`autocommit_block()`) upgrades;
`op.execute("COMMIT")` leaves a failed migration half-applied so its rerun fails; the near-misses upgrade;
and `autocommit_block()` asserts when env.py already holds a transaction (LDB301's bad env.py, or
`connectable.begin()`) and works once LDB301's fix is applied."""

from __future__ import annotations

from pathlib import Path

import pytest

from lintdb.config import build_settings
from lintdb.engine import lint_source
from lintdb.rules.ldb301_migrations_never_committed import (
    MigrationsNeverCommitted,
    async_env,
    sync_env,
)
from lintdb.rules.ldb306_non_transactional_statement_in_migration import (
    NonTransactionalStatementInMigration as Rule,
)
from tests.proof.support import alembic, alembic_project, alembic_url, lintdb_fix, public_tables_and_versions

ENV = sync_env()
BASE_SQL = (
    "CREATE TYPE ticket_status AS ENUM ('open', 'closed')",
    "CREATE TABLE ticket (id int PRIMARY KEY, title text, status ticket_status)",
    "INSERT INTO ticket VALUES (1, 'first', 'open')",
    "CREATE INDEX ix_ticket_status ON ticket (status)",
    "CREATE MATERIALIZED VIEW ticket_counts AS SELECT status, count(*) AS n FROM ticket GROUP BY status",
    "CREATE UNIQUE INDEX ON ticket_counts (status)",
)
BASE = f"""
from alembic import op

revision = "0001"
down_revision = None


def upgrade():
    for statement in {BASE_SQL!r}:
        op.execute(statement)


def downgrade():
    pass
"""
FAILURE = """

import os as _os

_upgrade = upgrade


def upgrade():
    _upgrade()
    if _os.environ.get("FAIL") == "1":
        raise RuntimeError("failing after the statements")
"""
COMMIT_CASE = 4
COMMIT_THEN_CONCURRENTLY = 5  # no fix: reported once, at the COMMIT


def _project(source: str, url: str, root: Path, env_py: str = ENV) -> Path:
    versions = {"0001_base.py": BASE, "0002_x.py": 'revision = "0002"\ndown_revision = "0001"\n' + source}
    return alembic_project(root, url, env_py, versions)


def _server_error(message: str) -> str:
    """The error as psycopg2 prints it, from the message's leading "`Class: text`"."""
    quoted = message.split("`")[1]
    name, _, text = quoted.partition(": ")
    return f"psycopg2.errors.{name}) {text}"


def _first_message(source: str) -> str:
    settings = build_settings({}, {"select": ["LDB306"]}, Path.cwd(), None).for_file(Path("m.py"))
    return lint_source(source, settings)[0].message


@pytest.mark.parametrize(
    "index", [i for i in range(len(Rule.INVALID)) if i not in (COMMIT_CASE, COMMIT_THEN_CONCURRENTLY)]
)
def test_statement_fails_in_transaction_and_fix_upgrades(index: int, pg_dsn: str, tmp_path: Path) -> None:
    case = Rule.INVALID[index]
    url = alembic_url(pg_dsn, ENV)
    result = alembic(_project(case.source(), url, tmp_path / "bad"), "upgrade", "head")
    assert result.returncode == 1
    assert _server_error(_first_message(case.source())) in result.stderr
    fixed = lintdb_fix(case.source(), tmp_path / "fix", unsafe=True)
    assert fixed == case.fixed_source()
    result = alembic(_project(fixed, url, tmp_path / "fixed"), "upgrade", "head")
    assert result.returncode == 0, result.stderr
    assert public_tables_and_versions(pg_dsn)[1] == ["0002"]


def test_commit_workaround_leaves_a_failed_migration_half_applied(pg_dsn: str, tmp_path: Path) -> None:
    source = Rule.INVALID[COMMIT_CASE].source()
    url = alembic_url(pg_dsn, ENV)
    ini = _project(source + FAILURE, url, tmp_path / "commit")
    assert alembic(ini, "upgrade", "head", env={"FAIL": "1"}).returncode == 1
    assert public_tables_and_versions(pg_dsn)[1] == ["0001"]
    rerun = alembic(ini, "upgrade", "head", env={"FAIL": "0"})
    assert rerun.returncode == 1
    assert 'psycopg2.errors.DuplicateColumn) column "note" of relation "ticket" already exists' in rerun.stderr


def test_without_the_commit_a_failed_migration_leaves_nothing(pg_dsn: str, tmp_path: Path) -> None:
    source = Rule.INVALID[COMMIT_CASE].source().replace('    op.execute("COMMIT")\n', "")
    ini = _project(source + FAILURE, alembic_url(pg_dsn, ENV), tmp_path)
    assert alembic(ini, "upgrade", "head", env={"FAIL": "1"}).returncode == 1
    assert public_tables_and_versions(pg_dsn) == ([], [])
    assert alembic(ini, "upgrade", "head", env={"FAIL": "0"}).returncode == 0


@pytest.mark.parametrize("index", range(len(Rule.VALID) - 1))
def test_near_miss_upgrades(index: int, pg_dsn: str, tmp_path: Path) -> None:
    result = alembic(_project(Rule.VALID[index].source(), alembic_url(pg_dsn, ENV), tmp_path), "upgrade", "head")
    assert result.returncode == 0, result.stderr
    assert public_tables_and_versions(pg_dsn)[1] == ["0002"]


@pytest.mark.parametrize(
    "env_py", [MigrationsNeverCommitted.INVALID[0].source(), async_env(opener="begin")], ids=["ldb301", "begin"]
)
def test_autocommit_block_asserts_when_env_holds_a_transaction(env_py: str, pg_dsn: str, tmp_path: Path) -> None:
    fixed = Rule.INVALID[0].fixed_source()
    assert fixed is not None
    result = alembic(_project(fixed, alembic_url(pg_dsn, env_py), tmp_path, env_py), "upgrade", "head")
    assert result.returncode == 1
    assert "AssertionError" in result.stderr and "autocommit_block" in result.stderr


def test_autocommit_block_works_after_ldb301_fix(pg_dsn: str, tmp_path: Path) -> None:
    env_case = MigrationsNeverCommitted.INVALID[0]
    env_py = lintdb_fix(env_case.source(), tmp_path / "env-fix")
    assert env_py == env_case.fixed_source()
    fixed = Rule.INVALID[0].fixed_source()
    assert fixed is not None
    result = alembic(_project(fixed, alembic_url(pg_dsn, env_py), tmp_path / "p", env_py), "upgrade", "head")
    assert result.returncode == 0, result.stderr
    assert public_tables_and_versions(pg_dsn)[1] == ["0002"]


def test_concurrently_after_the_commit_workaround_runs_outside_a_transaction(pg_dsn: str, tmp_path: Path) -> None:
    """Reported once, at the COMMIT: the CONCURRENTLY index after it does not fail (no transaction is open)."""
    source = Rule.INVALID[COMMIT_THEN_CONCURRENTLY].source()
    assert _first_message(source).startswith('`op.execute("COMMIT")`')
    result = alembic(_project(source, alembic_url(pg_dsn, ENV), tmp_path), "upgrade", "head")
    assert result.returncode == 0, result.stderr
    assert public_tables_and_versions(pg_dsn)[1] == ["0002"]
