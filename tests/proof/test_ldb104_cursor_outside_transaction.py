"""LDB104 proof (Case 5): an asyncpg cursor outside a transaction raises NoActiveSQLTransactionError;
inside `async with con.transaction()` it works."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest

from lintdb.rules.ldb104_cursor_outside_transaction import (
    CursorOutsideTransaction as Rule,
)
from tests.proof.support import NAMES_TABLE, lintdb_fix, load, run_sql

NAMES = ["n1", "n2", "n3", "n4", "n5"]


@pytest.mark.parametrize("index", range(len(Rule.INVALID)))
def test_cursor_fails_outside_a_transaction_and_fix_works(index: int, pg_dsn: str, tmp_path: Path) -> None:
    case = Rule.INVALID[index]
    asyncio.run(run_sql(pg_dsn, NAMES_TABLE))
    with pytest.raises(asyncpg.NoActiveSQLTransactionError, match="cursor cannot be created outside of a transaction"):
        asyncio.run(load(case.source()).names(pg_dsn))
    fixed = lintdb_fix(case.source(), tmp_path)
    if case.fixed_source() is None:  # a cursor used after its block: reported, left for the author
        assert fixed == case.source()
        return
    assert fixed == case.fixed_source()
    assert asyncio.run(load(fixed).names(pg_dsn)) == NAMES


@pytest.mark.parametrize("index", [0, 1, 3, 4])  # 3: opened by the helper's caller (shape 9); 4: on `self.con` (12)
def test_near_miss_cursor_in_transaction_works(index: int, pg_dsn: str) -> None:
    asyncio.run(run_sql(pg_dsn, NAMES_TABLE))
    assert asyncio.run(load(Rule.VALID[index].source()).names(pg_dsn)) == NAMES
