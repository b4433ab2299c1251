"""LDB206 proof (Case 4): `IN :ids` / `IN (:ids)` in `text()` fail with a list on PostgreSQL (and
`IN (:ids)` with `expanding=True` fails for two values); the fixes work for one and for two values.
Each run uses a fresh engine, because SQLAlchemy's compiled cache would carry one run into the next."""

from __future__ import annotations

import asyncio
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy.exc
from sqlalchemy import bindparam, create_engine, text
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


# The project's own `query()` wrapper the wrapper examples import (`from app.db import query`): `text()` on
# the current connection, with `bind_expanding` names bound as expanding parameters.
WRAPPERS = types.ModuleType("app.db")


def _query(sql: str, *, bind_expanding: tuple[str, ...] = (), **params: Any) -> Any:
    statement = text(sql).bindparams(*(bindparam(name, expanding=True) for name in bind_expanding))
    return WRAPPERS.conn.execute(statement, params)


WRAPPERS.query = _query  # type: ignore[attr-defined]


@pytest.fixture
def wrapper_module(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setitem(sys.modules, "app", types.ModuleType("app"))
    monkeypatch.setitem(sys.modules, "app.db", WRAPPERS)
    yield


def _hidden_on_sqlite(module: types.ModuleType, ids: list[int]) -> list[int]:
    engine = create_engine("sqlite://")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id int, hidden boolean DEFAULT false)")
        conn.exec_driver_sql("INSERT INTO t (id) VALUES (1), (2), (3), (4), (5)")
        WRAPPERS.conn = conn  # type: ignore[attr-defined]
        module.hide(ids)
        return [r[0] for r in conn.exec_driver_sql("SELECT id FROM t WHERE hidden ORDER BY id")]


def test_every_invalid_example_is_proven() -> None:
    assert len(INVALID_RUNS) + 1 == len(Rule.INVALID)  # the last, through a wrapper, is proven on SQLite


@pytest.mark.usefixtures("wrapper_module")
def test_wrapper_in_list_fails_on_sqlite_and_expanding_works() -> None:
    with pytest.raises(sqlalchemy.exc.OperationalError, match=r"near \"\?\": syntax error"):
        _hidden_on_sqlite(load(Rule.INVALID[-1].source()), [1, 3])
    assert _hidden_on_sqlite(load(Rule.VALID[4].source()), [1, 3]) == [1, 3]
    assert _hidden_on_sqlite(load(Rule.VALID[4].source()), [3]) == [3]


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
