"""LDB201's trigger sees the hosts configured in `pgbouncer-hosts`: a file naming only such a host (no
`6432`, `bouncer` or `pooler`) is checked and reported when they are given, and still skipped when not."""

from __future__ import annotations

from lintdb.engine import FileSettings, candidate_codes, lint_source
from lintdb.options import RuleOptions

SOURCE = 'import asyncpg\n\n\nasync def main():\n    return await asyncpg.connect("postgresql://app@DB.internal/app")\n'


def _found(source: str, hosts: tuple[str, ...]) -> list[tuple[str, int, int]]:
    settings = FileSettings(frozenset({"LDB201"}), RuleOptions(pgbouncer_hosts=hosts))
    return [(d.code, d.location.row, d.location.column) for d in lint_source(source, settings)]


def test_configured_host_triggers_and_is_reported() -> None:
    assert candidate_codes(SOURCE, ["LDB201"], RuleOptions(pgbouncer_hosts=("db.internal",))) == ["LDB201"]
    assert _found(SOURCE, ("db.internal",)) == [("LDB201", 5, 18)]


def test_without_configured_hosts_the_file_is_skipped() -> None:
    assert candidate_codes(SOURCE, ["LDB201"]) == []
    assert _found(SOURCE, ("other.internal",)) == []
    assert _found(SOURCE.replace("asyncpg", "psycopg"), ("db.internal",)) == []
