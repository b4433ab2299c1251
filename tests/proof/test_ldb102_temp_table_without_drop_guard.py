"""LDB102 proof (Case 1, "Pool leftovers"): a temp table created without a drop guard survives on a
pooled asyncpg connection (after a failed call) and, with ON COMMIT DROP, within one SQLAlchemy
session transaction, so the next call raises DuplicateTableError; with the guard both work."""

from __future__ import annotations

import asyncio
import types
from pathlib import Path

import asyncpg
import pytest
import sqlalchemy.exc
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from lintdb.rules.ldb102_temp_table_without_drop_guard import (
    TempTableWithoutDropGuard as Rule,
)
from tests.proof.support import asyncpg_dsn, lintdb_fix, load, load_with_factory


async def _pool_calls(module: types.ModuleType, dsn: str) -> list[int]:
    """One call that fails half-way (a bad id), then two good calls, all on a one-connection pool."""
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=1)
    try:
        with pytest.raises(asyncpg.DataError):
            await module.stage(pool, [1, "not a number"])
        return [await module.stage(pool, [1, 2]), await module.stage(pool, [3])]
    finally:
        await pool.close()


async def _session_calls(module: types.ModuleType, dsn: str) -> list[int]:
    """The helper called twice in one session transaction, then committed."""
    engine = create_async_engine(asyncpg_dsn(dsn))
    try:
        async with AsyncSession(engine) as session:
            counts = [await module.stage(session, [1, 2]), await module.stage(session, [3])]
            await session.commit()
            return counts
    finally:
        await engine.dispose()


def test_every_invalid_example_is_proven() -> None:
    assert len(Rule.INVALID) == 4


def _load(source: str) -> types.ModuleType:
    """The example with the project's context manager (`from app.db import connection`, shape 8) being the
    pool's own `acquire()`."""
    return load_with_factory(source, connection=lambda pool: pool.acquire())


# 2: the table made from a query an f-string hole stands for; 3: acquired through the project's factory
@pytest.mark.parametrize("index", [0, 2, 3])
def test_pool_leftover_and_fix(index: int, pg_dsn: str, tmp_path: Path) -> None:
    case = Rule.INVALID[index]
    with pytest.raises(asyncpg.DuplicateTableError, match='relation "_stage" already exists'):
        asyncio.run(_pool_calls(_load(case.source()), pg_dsn))
    fixed = lintdb_fix(case.source(), tmp_path)
    assert fixed == case.fixed_source()
    assert asyncio.run(_pool_calls(_load(fixed), pg_dsn)) == [2, 1]


def test_on_commit_drop_twice_in_one_session_and_fix(pg_dsn: str, tmp_path: Path) -> None:
    case = Rule.INVALID[1]
    with pytest.raises(sqlalchemy.exc.ProgrammingError, match='relation "_stage" already exists'):
        asyncio.run(_session_calls(load(case.source()), pg_dsn))
    fixed = lintdb_fix(case.source(), tmp_path)
    assert fixed == case.fixed_source()
    assert asyncio.run(_session_calls(load(fixed), pg_dsn)) == [2, 1]


@pytest.mark.parametrize("index", [2, 3, 6])
def test_near_misses_survive_a_failed_call_on_a_pool(index: int, pg_dsn: str) -> None:
    assert asyncio.run(_pool_calls(load(Rule.VALID[index].source()), pg_dsn)) == [2, 1]


def test_if_not_exists_raises_nothing_but_serves_leftover_rows(pg_dsn: str) -> None:
    """Not reported (no error), and documented: the second call counts the first call's rows too."""
    assert asyncio.run(_pool_calls(load(Rule.VALID[5].source()), pg_dsn)) == [2, 3]


def test_near_miss_own_connection(pg_dsn: str) -> None:
    module = load(Rule.VALID[4].source())
    assert [asyncio.run(module.stage(pg_dsn, [1, 2])), asyncio.run(module.stage(pg_dsn, [3]))] == [2, 1]
