"""LDB105 proof (Case 7): attribute access on an asyncpg Record raises AttributeError; subscripting works,
and a `record_class=` with attribute access is left alone because it works."""

from __future__ import annotations

import asyncio
import types
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from lintdb.rules.ldb105_record_attribute_access import RecordAttributeAccess as Rule
from tests.proof.support import NAMES_TABLE, asyncpg_dsn, lintdb_fix, load_with_factory, run_sql

# (function name, attribute the bad code reads, what the fixed code returns)
INVALID_RUNS: list[tuple[str, str, Any]] = [
    ("first_name", "name", "n1"),
    ("first_name", "id", (1, "n1")),
    ("first_name", "name", "n1"),
    ("first_name", "name", "n1"),  # the project's `connect()`, known by its use (shape 8)
    ("total", "id", 15 + 5),
]


class AttrRecord(asyncpg.Record):
    """A record class with attribute access, as the asyncpg docs suggest."""

    def __getattr__(self, name: str) -> Any:
        return self[name]


def test_every_invalid_example_is_proven() -> None:
    assert len(INVALID_RUNS) == len(Rule.INVALID)


@pytest.mark.parametrize("index", range(len(INVALID_RUNS)))
def test_attribute_access_fails_and_fix_works(index: int, pg_dsn: str, tmp_path: Path) -> None:
    function, attribute, expected = INVALID_RUNS[index]
    case = Rule.INVALID[index]
    asyncio.run(run_sql(pg_dsn, NAMES_TABLE))
    with pytest.raises(AttributeError, match=f"Record' object has no attribute '{attribute}'"):
        asyncio.run(getattr(_load(case.source()), function)(pg_dsn))
    fixed = lintdb_fix(case.source(), tmp_path)
    assert fixed == case.fixed_source()
    assert asyncio.run(getattr(_load(fixed), function)(pg_dsn)) == expected


def _load(source: str) -> types.ModuleType:
    """The example with the project's factory (`from app.db import connect`, shape 8) being asyncpg's."""
    return load_with_factory(source, connect=asyncpg.connect, AttrRecord=AttrRecord)


@pytest.mark.parametrize("index", [0, 1, 2, 4])  # 4: the project's factory with its own record class
def test_near_miss_works(index: int, pg_dsn: str) -> None:
    asyncio.run(run_sql(pg_dsn, NAMES_TABLE))
    assert asyncio.run(_load(Rule.VALID[index].source()).first_name(pg_dsn)) == "n1"


def test_near_miss_factory_connection_used_with_execute_only_is_sqlalchemy_whose_rows_have_attributes(
    pg_dsn: str,
) -> None:
    asyncio.run(run_sql(pg_dsn, NAMES_TABLE))

    async def run() -> Any:
        engine = create_async_engine(asyncpg_dsn(pg_dsn))
        try:
            async with engine.connect() as conn:
                module = load_with_factory(Rule.VALID[5].source(), get_conn=lambda: asyncio.sleep(0, conn))
                return await module.first_name()
        finally:
            await engine.dispose()

    assert asyncio.run(run()) == "n1"
