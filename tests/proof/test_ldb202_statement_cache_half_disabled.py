"""LDB202 proof (Case 10): `statement_cache_size=0` alone serves stale row descriptions after
`ALTER TABLE` (an error on every rerun, on that pooled connection); with both caches off it works.
`prepared_statement_cache_size=0` alone is a near-miss: it works on a direct server and, here, through
PgBouncer too (the design notes' Case 6 saw collisions that this proof does not reproduce)."""

from __future__ import annotations

import asyncio
import types
from pathlib import Path

import asyncpg
import sqlalchemy.exc

from lintdb.rules.ldb202_statement_cache_half_disabled import (
    StatementCacheHalfDisabled as Rule,
)
from tests.proof.collisions import assert_all_correct, hammer, pointed_at
from tests.proof.conftest import Server
from tests.proof.support import asyncpg_dsn, lintdb_fix, load


async def _rows_across_alter(module: types.ModuleType, dsn: str) -> list[tuple[object, ...]]:
    """Read `t`, add a column from another connection, read again (twice) on the same pooled connection."""
    admin = await asyncpg.connect(dsn)
    try:
        await admin.execute("DROP TABLE IF EXISTS t; CREATE TABLE t (id int, name text); INSERT INTO t VALUES (1, 'a')")
        assert [tuple(r) for r in await module.rows()] == [(1, "a")]
        await admin.execute("ALTER TABLE t ADD COLUMN extra int")
        for _ in range(2):  # the failure repeats: it is not a one-off invalidation
            rows = [tuple(r) for r in await module.rows()]
        return rows
    finally:
        await admin.close()
        await module.engine.dispose()


def _built(source: str, dsn: str) -> types.ModuleType:
    """The `make_engine(url)` example as a module with an engine and `rows()`, like the other examples."""
    built = load(source)
    engine = built.make_engine(asyncpg_dsn(dsn))
    module = types.ModuleType("built")

    async def rows() -> list[tuple[object, ...]]:
        async with engine.connect() as conn:
            return [tuple(r) for r in (await conn.exec_driver_sql("SELECT * FROM t ORDER BY id")).all()]

    module.engine, module.rows = engine, rows  # type: ignore[attr-defined]
    return module


def test_every_invalid_example_is_proven() -> None:
    assert len(Rule.INVALID) == 2


def test_cache_disabled_by_subscript_goes_stale_and_both_disabled_works(pg_server: Server) -> None:
    dsn = pg_server.dsn
    try:
        asyncio.run(_rows_across_alter(_built(Rule.INVALID[1].source(), dsn), dsn))
    except sqlalchemy.exc.DBAPIError as error:
        assert "the number of columns in the result row (3) is different from what was described (2)" in str(error)
    else:
        raise AssertionError("statement_cache_size=0 set by subscript did not fail after ALTER TABLE")
    assert asyncio.run(_rows_across_alter(_built(Rule.VALID[4].source(), dsn), dsn)) == [(1, "a", None)]


def test_stale_row_description_after_alter_and_fix_works(pg_server: Server, tmp_path: Path) -> None:
    case = Rule.INVALID[0]
    dsn = pg_server.dsn  # the example's URL names the `postgres` database
    try:
        asyncio.run(_rows_across_alter(pointed_at(case.source(), pg_server), dsn))
    except sqlalchemy.exc.DBAPIError as error:
        assert "the number of columns in the result row (3) is different from what was described (2)" in str(error)
    else:
        raise AssertionError("statement_cache_size=0 alone did not fail after ALTER TABLE")
    fixed = lintdb_fix(case.source(), tmp_path)
    assert fixed == case.fixed_source()
    assert asyncio.run(_rows_across_alter(pointed_at(fixed, pg_server), dsn)) == [(1, "a", None)]


def test_near_miss_prepared_cache_alone_works_through_pgbouncer(pgbouncer: Server) -> None:
    assert_all_correct(asyncio.run(hammer(pointed_at(Rule.VALID[3].source(), pgbouncer))))


def test_near_miss_prepared_cache_alone_on_a_direct_server_survives_alter(pg_server: Server) -> None:
    assert asyncio.run(_rows_across_alter(pointed_at(Rule.VALID[1].source(), pg_server), pg_server.dsn)) == [
        (1, "a", None)
    ]
