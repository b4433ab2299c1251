"""LDB104 proof (Case 5): an asyncpg cursor outside a transaction raises NoActiveSQLTransactionError;
inside `async with con.transaction()` it works."""

from __future__ import annotations

import asyncio
import types
from pathlib import Path

import asyncpg
import pytest

from lintdb.rules.ldb104_cursor_outside_transaction import (
    CursorOutsideTransaction as Rule,
)
from tests.proof.support import (
    NAMES_TABLE,
    connection_in_transaction,
    lintdb_fix,
    load_with_factory,
    run_sql,
)

NAMES = ["n1", "n2", "n3", "n4", "n5"]


@pytest.mark.parametrize("index", range(len(Rule.INVALID)))
def test_cursor_fails_outside_a_transaction_and_fix_works(index: int, pg_dsn: str, tmp_path: Path) -> None:
    case = Rule.INVALID[index]
    asyncio.run(run_sql(pg_dsn, NAMES_TABLE))
    with pytest.raises(asyncpg.NoActiveSQLTransactionError, match="cursor cannot be created outside of a transaction"):
        asyncio.run(_load(case.source()).names(pg_dsn))
    fixed = lintdb_fix(case.source(), tmp_path)
    if case.fixed_source() is None:  # a cursor used after its block: reported, left for the author
        assert fixed == case.source()
        return
    assert fixed == case.fixed_source()
    assert asyncio.run(_load(fixed).names(pg_dsn)) == NAMES


def _load(source: str) -> types.ModuleType:
    """The example with the project's factory (`from app.db import connect`, shape 8) being asyncpg's."""
    return load_with_factory(source, connect=asyncpg.connect)


@pytest.mark.parametrize("index", [0, 1, 3, 4])  # 3: opened by the helper's caller (shape 9); 4: on `self.con` (12)
def test_near_miss_cursor_in_transaction_works(index: int, pg_dsn: str) -> None:
    asyncio.run(run_sql(pg_dsn, NAMES_TABLE))
    assert asyncio.run(_load(Rule.VALID[index].source()).names(pg_dsn)) == NAMES


def test_near_miss_project_context_manager_may_open_the_transaction(pg_dsn: str) -> None:
    """Not judged (shape 8): a project's `async with connection() as con` may hand out a connection inside a
    transaction, and then the cursor works."""
    asyncio.run(run_sql(pg_dsn, NAMES_TABLE))
    module = load_with_factory(Rule.VALID[5].source(), connection=connection_in_transaction)
    assert asyncio.run(module.names(pg_dsn)) == NAMES
