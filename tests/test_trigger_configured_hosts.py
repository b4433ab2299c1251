"""LDB201's trigger sees the hosts configured in `pgbouncer-hosts`: a file naming only such a host (no
`6432`, `bouncer` or `pooler`) is let through when they are given, and still skipped when they are not."""

from __future__ import annotations

from lintdb.rule import RuleOptions
from lintdb.rules.ldb201_pgbouncer_prepared_statements import PgbouncerPreparedStatements as Rule

SOURCE = 'import asyncpg\n\n\nasync def main():\n    return await asyncpg.connect("postgresql://app@DB.internal/app")\n'


def test_configured_host_triggers() -> None:
    assert Rule.triggered(SOURCE, options=RuleOptions(pgbouncer_hosts=("db.internal",)))


def test_without_configured_hosts_the_file_is_skipped() -> None:
    assert not Rule.triggered(SOURCE)
    assert not Rule.triggered(SOURCE, options=RuleOptions(pgbouncer_hosts=("other.internal",)))
    assert not Rule.triggered(
        SOURCE.replace("asyncpg", "psycopg"), options=RuleOptions(pgbouncer_hosts=("db.internal",))
    )
