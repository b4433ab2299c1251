"""LDB206 proof (Case 4): `IN :ids` / `IN (:ids)` in `text()` fail with a list on PostgreSQL (and
`IN (:ids)` with `expanding=True` fails for two values); the fixes work for one and for two values.
Each run uses a fresh engine, because SQLAlchemy's compiled cache would carry one run into the next."""

from __future__ import annotations

import asyncio
import types
from pathlib import Path

import pytest
import sqlalchemy.exc
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from lintdb.diagnostics import Applicability
from lintdb.rules.ldb206_text_in_without_expanding import TextInWithoutExpanding as Rule
from tests.proof.support import asyncpg_dsn, lintdb_fix, load

# Per INVALID example: the error for [1, 3], and the rows its fixed form returns for [1, 3].
INVALID_RUNS = [
    'syntax error at or near "$1"',
    "invalid input for query argument $1: [1, 3]",
    "operator does not exist: integer = record",
    'syntax error at or near "$1"',
]
FIXED_ROWS = [[1, 3], [1, 3], [1, 3], [2, 4, 5]]


async def _find(module: types.ModuleType, dsn: str, ids: list[int]) -> list[int]:
    engine = create_async_engine(asyncpg_dsn(dsn))
    try:
        async with engine.begin() as conn:
            for statement in (
                "DROP TABLE IF EXISTS t",
                "CREATE TABLE t (id int)",
                "INSERT INTO t SELECT generate_series(1, 5)",
            ):
                await conn.exec_driver_sql(statement)
        async with AsyncSession(engine) as session:
            return list(await module.find(session, ids))
    finally:
        await engine.dispose()


def test_every_invalid_example_is_proven() -> None:
    assert len(INVALID_RUNS) == len(Rule.INVALID)


@pytest.mark.parametrize("index", range(len(INVALID_RUNS)))
def test_bad_example_fails_and_fix_works(index: int, pg_dsn: str, tmp_path: Path) -> None:
    case = Rule.INVALID[index]
    with pytest.raises(
        sqlalchemy.exc.DBAPIError, match=INVALID_RUNS[index].replace("$", r"\$").replace("[", r"\[").replace("(", r"\(")
    ):
        asyncio.run(_find(load(case.source()), pg_dsn, [1, 3]))
    fixed = lintdb_fix(case.source(), tmp_path, unsafe=case.applicability == Applicability.UNSAFE)
    assert fixed == case.fixed_source()
    assert asyncio.run(_find(load(fixed), pg_dsn, [1, 3])) == FIXED_ROWS[index]
    assert asyncio.run(_find(load(fixed), pg_dsn, [3])) == ([3] if index != 3 else [1, 2, 4, 5])


@pytest.mark.parametrize("index", [0, 1])
def test_near_misses_work(index: int, pg_dsn: str) -> None:
    module = load(Rule.VALID[index].source())
    assert asyncio.run(_find(module, pg_dsn, [1, 3])) == [1, 3]
    assert asyncio.run(_find(module, pg_dsn, [3])) == [3]
