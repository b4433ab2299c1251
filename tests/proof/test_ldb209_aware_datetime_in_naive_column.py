"""LDB209 proof: an aware default in a naive `DateTime`/`TIMESTAMP` column (explicit, or `Mapped[datetime]`
on a default declarative base) makes asyncpg raise `DataError ... can't subtract offset-naive and
offset-aware datetimes` at the first insert; lintdb's `DateTime(timezone=True)` fix stores the row (as
`timestamptz`). The near-misses insert."""

from __future__ import annotations

import asyncio
import types
from datetime import datetime
from pathlib import Path

import asyncpg
import pytest
import sqlalchemy.exc
from sqlalchemy import MetaData, create_engine, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import Session

from lintdb.rules.ldb209_aware_datetime_in_naive_column import (
    AwareDatetimeInNaiveColumn as Rule,
)
from tests.proof.support import asyncpg_dsn, lintdb_fix, load_models

MISMATCH = "can't subtract offset-naive and offset-aware datetimes"


async def _insert(module: types.ModuleType, dsn: str) -> tuple[datetime, str]:
    """Create the example's table, insert one event through asyncpg, and return its `created_at`
    and the column's SQL type."""
    engine = create_async_engine(asyncpg_dsn(dsn))
    metadata: MetaData = module.Base.metadata if hasattr(module, "Base") else module.metadata
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.drop_all)  # a new table each time: the fix changes its type
            await conn.run_sync(metadata.create_all)
        async with AsyncSession(engine) as session:
            if hasattr(module, "Event"):
                session.add(module.Event(name="launch"))
            else:
                await session.execute(module.events.insert().values(name="launch"))
            await session.commit()
            query = text("SELECT created_at, pg_typeof(created_at)::text FROM events")
            created_at, sql_type = (await session.execute(query)).one()
            return created_at, sql_type
    finally:
        await engine.dispose()


def _assert_data_error(module: types.ModuleType, dsn: str) -> None:
    with pytest.raises(sqlalchemy.exc.DBAPIError) as caught:
        asyncio.run(_insert(module, dsn))
    assert "invalid input for query argument $" in str(caught.value) and MISMATCH in str(caught.value)
    assert isinstance(caught.value.orig.__cause__, asyncpg.exceptions.DataError)  # type: ignore[union-attr]


def test_every_invalid_example_is_proven() -> None:
    assert len(Rule.INVALID) == 3


@pytest.mark.parametrize("index", [0, 1, 2])
def test_aware_default_fails_on_insert_and_fix_works(index: int, pg_dsn: str, tmp_path: Path) -> None:
    case = Rule.INVALID[index]
    _assert_data_error(load_models(case.source()), pg_dsn)
    fixed = lintdb_fix(case.source(), tmp_path, unsafe=True)
    assert fixed == case.fixed_source()
    assert lintdb_fix(case.source(), tmp_path / "safe") == case.source(), "an unsafe fix must need --unsafe-fixes"
    created_at, sql_type = asyncio.run(_insert(load_models(fixed), pg_dsn))
    assert created_at.tzinfo is not None and sql_type == "timestamp with time zone"


@pytest.mark.parametrize("index", [0, 3, 4])
def test_near_miss_aware_column_or_type_map_works(index: int, pg_dsn: str) -> None:
    created_at, sql_type = asyncio.run(_insert(load_models(Rule.VALID[index].source()), pg_dsn))
    assert created_at.tzinfo is not None and sql_type == "timestamp with time zone"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("index", [1, 2])
def test_near_miss_naive_default_works(index: int, pg_dsn: str) -> None:
    created_at, sql_type = asyncio.run(_insert(load_models(Rule.VALID[index].source()), pg_dsn))
    assert created_at.tzinfo is None and sql_type == "timestamp without time zone"


def test_near_miss_without_asyncpg_psycopg2_stores_the_aware_default(pg_dsn: str) -> None:
    """Not judged without asyncpg in play: psycopg2 inserts the aware default into the naive column."""
    module = load_models(Rule.VALID[-1].source())
    engine = create_engine(pg_dsn.replace("postgresql://", "postgresql+psycopg2://", 1))
    try:
        with engine.begin() as conn:
            module.Base.metadata.drop_all(conn)
            module.Base.metadata.create_all(conn)
        with Session(engine) as session:
            session.add(module.Event(name="launch"))
            session.commit()
            query = text("SELECT created_at, pg_typeof(created_at)::text FROM events")
            created_at, sql_type = session.execute(query).one()
    finally:
        engine.dispose()
    assert created_at.tzinfo is None and sql_type == "timestamp without time zone"
