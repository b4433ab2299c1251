"""LDB305 proof: `alembic upgrade head`, `downgrade base`, `upgrade head` (the real command line, in a
subprocess) fails on the second upgrade with `DuplicateObject: type "x" already exists` when the downgrade
keeps the enum type; lintdb's fix and the near-misses pass all three."""

from __future__ import annotations

from pathlib import Path

import pytest

from lintdb.rules.ldb301_migrations_never_committed import sync_env
from lintdb.rules.ldb305_enum_type_not_dropped import EnumTypeNotDropped as Rule
from tests.proof.support import alembic, alembic_project, alembic_url, lintdb_fix

ENV = sync_env()
BASE = """
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade():
    op.execute("CREATE TABLE base_marker (id int)")
    {upgrade}


def downgrade():
    {downgrade}
    op.execute("DROP TABLE base_marker")
"""
TICKET = ('op.create_table("ticket", sa.Column("id", sa.Integer, primary_key=True))', 'op.drop_table("ticket")')
STATUS_TYPE = (
    "op.execute(\"CREATE TYPE ticket_status AS ENUM ('open', 'closed')\")",
    'op.execute("DROP TYPE ticket_status")',
)
NOTHING = ("pass", "pass")
# What the earlier migration 0001 provides for each example, and the type the example creates.
INVALID_RUNS = [(NOTHING, "ticket_status"), (NOTHING, "priority"), (TICKET, "severity")]
VALID_RUNS = [(0, NOTHING), (1, NOTHING), (2, NOTHING), (3, STATUS_TYPE), (5, TICKET), (6, TICKET)]


def _round_trip(source: str, base: tuple[str, str], url: str, root: Path) -> list[tuple[int, str]]:
    versions = {
        "0001_base.py": BASE.format(upgrade=base[0], downgrade=base[1]),
        "0002_enum.py": 'revision = "0002"\ndown_revision = "0001"\n' + source,
    }
    ini = alembic_project(root, url, ENV, versions)
    results = []
    for command in (("upgrade", "head"), ("downgrade", "base"), ("upgrade", "head")):
        result = alembic(ini, *command)
        results.append((result.returncode, result.stderr))
    return results


def test_every_invalid_example_is_proven() -> None:
    assert len(INVALID_RUNS) == len(Rule.INVALID)


@pytest.mark.parametrize("index", range(len(Rule.INVALID)))
def test_second_upgrade_fails_and_fix_passes(index: int, pg_dsn: str, tmp_path: Path) -> None:
    case = Rule.INVALID[index]
    base, type_name = INVALID_RUNS[index]
    url = alembic_url(pg_dsn, ENV)
    (up, _), (down, _), (again, log) = _round_trip(case.source(), base, url, tmp_path / "bad")
    assert (up, down, again) == (0, 0, 1)
    assert f'psycopg2.errors.DuplicateObject) type "{type_name}" already exists' in log
    fixed = lintdb_fix(case.source(), tmp_path / "fix")
    assert fixed == case.fixed_source()
    # the bad run left the type behind; start from a clean database
    _drop_type(pg_dsn, type_name)
    results = _round_trip(fixed, base, url, tmp_path / "fixed")
    assert [code for code, _ in results] == [0, 0, 0], results[-1][1]


def _drop_type(dsn: str, name: str) -> None:
    import psycopg2

    con = psycopg2.connect(dsn)
    try:
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute(f"DROP TYPE {name}")
            cur.execute("DROP TABLE IF EXISTS alembic_version")
    finally:
        con.close()


@pytest.mark.parametrize(("index", "base"), VALID_RUNS)
def test_near_miss_round_trip_passes(index: int, base: tuple[str, str], pg_dsn: str, tmp_path: Path) -> None:
    results = _round_trip(Rule.VALID[index].source(), base, alembic_url(pg_dsn, ENV), tmp_path)
    assert [code for code, _ in results] == [0, 0, 0], results[-1][1]


def test_near_miss_for_sqlite_only_project_round_trip_passes(tmp_path: Path) -> None:
    case = Rule.VALID[4]
    assert case.options == {"alembic-dialects": ["sqlite"]}
    results = _round_trip(case.source(), NOTHING, f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path)
    assert [code for code, _ in results] == [0, 0, 0], results[-1][1]
