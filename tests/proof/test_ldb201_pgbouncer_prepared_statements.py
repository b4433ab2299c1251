"""LDB201 proof (Case 6): through PgBouncer in transaction mode, asyncpg's and SQLAlchemy's statement
caches make concurrent clients' prepared statements collide; with the caches off every query works."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from lintdb.rules.ldb201_pgbouncer_prepared_statements import (
    PgbouncerPreparedStatements as Rule,
)
from tests.proof.collisions import (
    assert_all_correct,
    assert_collisions,
    hammer,
    hammer_until_failure,
    pointed_at,
)
from tests.proof.conftest import Server
from tests.proof.support import lintdb_fix, load


def test_every_invalid_example_is_proven() -> None:
    assert len(Rule.INVALID) == 5


@pytest.mark.parametrize("index", [0, 1, 2, 4])
def test_collisions_through_pgbouncer_and_fix_works(index: int, pgbouncer: Server, tmp_path: Path) -> None:
    case = Rule.INVALID[index]
    assert_collisions(asyncio.run(hammer_until_failure(lambda: pointed_at(case.source(), pgbouncer))))
    config = "".join(f"{key} = {value!r}\n".replace("'", '"') for key, value in case.options.items())
    fixed = lintdb_fix(case.source(), tmp_path, config=config)
    assert fixed == case.fixed_source()
    assert_all_correct(asyncio.run(hammer(pointed_at(fixed, pgbouncer))))


def test_pool_keyword_host_fix_works(pgbouncer: Server, tmp_path: Path) -> None:
    case = Rule.INVALID[3]
    fixed = lintdb_fix(case.source(), tmp_path)
    assert fixed == case.fixed_source()
    runnable = fixed.replace(
        'host="db-pooler.internal", port=5432, user="app"',
        f'host="127.0.0.1", port={pgbouncer.port}, user="postgres", database="postgres"',
    )

    async def use() -> list[int]:
        pool = await load(runnable).pool()
        try:
            return [await pool.fetchval("SELECT $1::int", i) for i in range(5)]
        finally:
            await pool.close()

    assert asyncio.run(use()) == list(range(5))


@pytest.mark.parametrize("index", [0, 1])
def test_near_misses_work_through_pgbouncer(index: int, pgbouncer: Server) -> None:
    assert_all_correct(asyncio.run(hammer(pointed_at(Rule.VALID[index].source(), pgbouncer))))


def test_direct_connection_is_not_flagged_and_works(pg_server: Server) -> None:
    assert_all_correct(asyncio.run(hammer(pointed_at(Rule.VALID[2].source(), pg_server))))
