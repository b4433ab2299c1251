"""LDB201 proof (Case 6): through PgBouncer in transaction mode, asyncpg's and SQLAlchemy's statement
caches make concurrent clients' prepared statements collide; with the caches off every query works."""

from __future__ import annotations

import asyncio
import types
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import sqlalchemy.exc

from lintdb.rules.ldb201_pgbouncer_prepared_statements import PgbouncerPreparedStatements as Rule
from tests.proof.conftest import Server
from tests.proof.support import lintdb_fix, load

CLIENTS, QUERIES = 16, 60
# What Case 6 saw go wrong (asyncpg's own errors, SQLAlchemy's wrappers of them, decoder crashes).
COLLISIONS = (asyncpg.PostgresError, asyncpg.InterfaceError, sqlalchemy.exc.DBAPIError, AssertionError, BufferError)


def _pointed_at(source: str, server: Server) -> types.ModuleType:
    """The example with its PgBouncer (6432) or direct (5432) port replaced by the test server's."""
    source = source.replace("app@db.internal/app", "postgres@127.0.0.1:6432/postgres")  # the configured PgBouncer host
    return load(source.replace(":6432/", f":{server.port}/").replace("port=5432", f"port={server.port}").replace(":5432/", f":{server.port}/"))


async def _hammer(module: types.ModuleType) -> list[Any]:
    try:
        return await asyncio.gather(*(module.lookup(range(k, k + QUERIES)) for k in range(CLIENTS)), return_exceptions=True)
    finally:
        if hasattr(module, "engine"):
            await module.engine.dispose()


def _expected(k: int) -> list[int]:
    return [i if i % 2 else 0 for i in range(k, k + QUERIES)]


def test_every_invalid_example_is_proven() -> None:
    assert len(Rule.INVALID) == 5


@pytest.mark.parametrize("index", [0, 1, 2, 4])
def test_collisions_through_pgbouncer_and_fix_works(index: int, pgbouncer: Server, tmp_path: Path) -> None:
    case = Rule.INVALID[index]
    results = asyncio.run(_hammer(_pointed_at(case.source(), pgbouncer)))
    failures = [r for r in results if isinstance(r, BaseException)]
    assert failures and all(isinstance(f, COLLISIONS) for f in failures), results
    assert any("prepared statement" in str(f) or "bind message" in str(f) for f in failures), failures
    config = "".join(f"{key} = {value!r}\n".replace("'", '"') for key, value in case.options.items())
    fixed = lintdb_fix(case.source(), tmp_path, config=config)
    assert fixed == case.fixed_source()
    assert asyncio.run(_hammer(_pointed_at(fixed, pgbouncer))) == [_expected(k) for k in range(CLIENTS)]


def test_pool_keyword_host_fix_works(pgbouncer: Server, tmp_path: Path) -> None:
    case = Rule.INVALID[3]
    fixed = lintdb_fix(case.source(), tmp_path)
    assert fixed == case.fixed_source()
    runnable = fixed.replace('host="db-pooler.internal", port=5432, user="app"', f'host="127.0.0.1", port={pgbouncer.port}, user="postgres", database="postgres"')

    async def use() -> list[int]:
        pool = await load(runnable).pool()
        try:
            return [await pool.fetchval("SELECT $1::int", i) for i in range(5)]
        finally:
            await pool.close()

    assert asyncio.run(use()) == list(range(5))


@pytest.mark.parametrize("index", [0, 1])
def test_near_misses_work_through_pgbouncer(index: int, pgbouncer: Server) -> None:
    results = asyncio.run(_hammer(_pointed_at(Rule.VALID[index].source(), pgbouncer)))
    assert results == [_expected(k) for k in range(CLIENTS)]


def test_direct_connection_is_not_flagged_and_works(pg_server: Server) -> None:
    results = asyncio.run(_hammer(_pointed_at(Rule.VALID[2].source(), pg_server)))
    assert results == [_expected(k) for k in range(CLIENTS)]
