"""LDB105 proof (Case 7): attribute access on an asyncpg Record raises AttributeError; subscripting works,
and a `record_class=` with attribute access is left alone because it works."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from lintdb.rules.ldb105_record_attribute_access import RecordAttributeAccess as Rule
from tests.proof.support import NAMES_TABLE, lintdb_fix, load, run_sql

# (function name, attribute the bad code reads, what the fixed code returns)
INVALID_RUNS: list[tuple[str, str, Any]] = [
    ("first_name", "name", "n1"),
    ("first_name", "id", (1, "n1")),
    ("first_name", "name", "n1"),
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
        asyncio.run(getattr(load(case.source()), function)(pg_dsn))
    fixed = lintdb_fix(case.source(), tmp_path)
    assert fixed == case.fixed_source()
    assert asyncio.run(getattr(load(fixed), function)(pg_dsn)) == expected


@pytest.mark.parametrize("index", [0, 1, 2])
def test_near_miss_works(index: int, pg_dsn: str) -> None:
    asyncio.run(run_sql(pg_dsn, NAMES_TABLE))
    module = load(Rule.VALID[index].source())
    module.AttrRecord = AttrRecord
    assert asyncio.run(module.first_name(pg_dsn)) == "n1"
