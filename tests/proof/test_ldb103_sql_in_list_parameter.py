"""LDB103 proof: `IN $1` / `IN ($1)` with a list fail on PostgreSQL; `= ANY($1)` / `<> ALL($1)` work. Through
the project's own wrapper (shape 11) `IN $1` fails the same way, and `IN ($1)` with one value works."""

from __future__ import annotations

import asyncio
import sys
import types
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from lintdb.diagnostics import Applicability
from lintdb.rules.ldb103_sql_in_list_parameter import SqlInListParameter as Rule
from tests.proof.support import lintdb_fix, load

Call = Callable[[Any, asyncpg.Connection], Awaitable[Any]]

# The project's own wrapper the wrapper examples import (`from app.db import fetch_all`): it runs the SQL
# on the connection of the current run, as such wrappers do with their pool.
WRAPPERS = types.ModuleType("app.db")


async def _fetch_all(sql: str, *args: Any) -> Any:
    return await WRAPPERS.con.fetch(sql, *args)


WRAPPERS.fetch_all = _fetch_all  # type: ignore[attr-defined]


def _via_wrapper(con: asyncpg.Connection, run: Awaitable[Any]) -> Awaitable[Any]:
    WRAPPERS.con = con  # type: ignore[attr-defined]
    return run


@pytest.fixture(autouse=True)
def _wrapper_module(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setitem(sys.modules, "app", types.ModuleType("app"))
    monkeypatch.setitem(sys.modules, "app.db", WRAPPERS)
    yield


# Each INVALID example: how to call it, the error it raises, and what its fixed version returns.
INVALID_RUNS: list[tuple[Call, type[Exception], str, list[int]]] = [
    (lambda m, c: m.find(c, [1, 3]), asyncpg.PostgresSyntaxError, 'syntax error at or near "$1"', [1, 3]),
    (lambda m, c: m.find_others(c, [1, 3]), asyncpg.PostgresSyntaxError, 'syntax error at or near "$1"', [2, 4, 5]),
    (
        lambda m, c: m.find(c, [1, 3]),
        asyncpg.DataError,
        "invalid input for query argument $1: [1, 3] ('list' object cannot be interpreted as an integer)",
        [1, 3],
    ),
    (lambda m, c: m.find(c, [1, 3]), asyncpg.PostgresSyntaxError, 'syntax error at or near "$1"', [1, 3]),
    (lambda m, c: m.find(c, "t", [1, 3]), asyncpg.PostgresSyntaxError, 'syntax error at or near "$1"', [1, 3]),
    (
        lambda m, c: _via_wrapper(c, m.find([1, 3])),
        asyncpg.PostgresSyntaxError,
        'syntax error at or near "$1"',
        [1, 3],
    ),
]
VALID_RUNS: list[tuple[int, Call, list[int]]] = [
    (0, lambda m, c: m.find(c, 1, 3), [1, 3]),
    (1, lambda m, c: m.find(c, [1, 3]), [1, 3]),
    (2, lambda m, c: m.find(c, [1, 3]), []),
    (3, lambda m, c: m.find(c, 1), [1]),
    (5, lambda m, c: _via_wrapper(c, m.find([1, 3])), [1, 3]),
    (6, lambda m, c: _via_wrapper(c, m.find(3)), [3]),
]


async def _with_table(dsn: str, body: Callable[[asyncpg.Connection], Awaitable[Any]]) -> Any:
    con = await asyncpg.connect(dsn)
    try:
        await con.execute(
            "DROP TABLE IF EXISTS t; CREATE TABLE t (id int, name text); "
            "INSERT INTO t SELECT i, 'n' || i FROM generate_series(1, 5) AS i"
        )
        return await body(con)
    finally:
        await con.close()


def test_every_invalid_example_is_proven() -> None:
    assert len(INVALID_RUNS) == len(Rule.INVALID)


@pytest.mark.parametrize("index", range(len(INVALID_RUNS)))
def test_bad_example_fails_and_fix_works(index: int, pg_dsn: str, tmp_path: Path) -> None:
    call, error, message, expected = INVALID_RUNS[index]
    case = Rule.INVALID[index]
    bad = load(case.source())
    with pytest.raises(error) as raised:
        asyncio.run(_with_table(pg_dsn, lambda con: call(bad, con)))
    assert message in str(raised.value)
    fixed_source = lintdb_fix(case.source(), tmp_path, unsafe=case.applicability == Applicability.UNSAFE)
    assert fixed_source == case.fixed_source()
    rows = asyncio.run(_with_table(pg_dsn, lambda con: call(load(fixed_source), con)))
    assert [r["id"] for r in rows] == expected


def test_safe_fix_alone_leaves_the_unsafe_case(tmp_path: Path) -> None:
    case = Rule.INVALID[2]
    assert lintdb_fix(case.source(), tmp_path) == case.source()


def test_not_in_fix_matches_no_rows_when_the_list_holds_null(pg_dsn: str, tmp_path: Path) -> None:
    fixed = load(lintdb_fix(Rule.INVALID[1].source(), tmp_path))
    assert asyncio.run(_with_table(pg_dsn, lambda con: fixed.find_others(con, [1, None]))) == []


@pytest.mark.parametrize(("index", "call", "expected"), VALID_RUNS, ids=[f"valid-{i}" for i, _, _ in VALID_RUNS])
def test_near_miss_runs(index: int, call: Call, expected: list[int], pg_dsn: str) -> None:
    rows = asyncio.run(_with_table(pg_dsn, lambda con: call(load(Rule.VALID[index].source()), con)))
    assert [r["id"] for r in rows] == expected
