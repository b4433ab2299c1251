"""LDB107 proof: the SQL lintdb rejects is rejected by the real server with the same message (asyncpg
and SQLAlchemy `text()`), and the near-misses run."""

from __future__ import annotations

import asyncio
import datetime
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg
import pytest
import sqlalchemy.exc
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from lintdb.rules.ldb107_sql_syntax_error import SqlSyntaxError as Rule
from tests.proof.support import in_session, lintdb_findings, load, load_with_factory

SINCE = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
SETUP = (
    "DROP TABLE IF EXISTS t; CREATE TABLE t (id int, name text, note text, created timestamptz DEFAULT now()); "
    "INSERT INTO t (id, name) VALUES (1, 'a')"
)


async def _with_connection(dsn: str, body: Callable[[asyncpg.Connection], Awaitable[Any]]) -> Any:
    con = await asyncpg.connect(dsn)
    try:
        await con.execute(SETUP)
        return await body(con)
    finally:
        await con.close()


async def _with_session(dsn: str, body: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
    await _with_connection(dsn, lambda con: con.execute("SELECT 1"))
    return await in_session(dsn, body)


def _reported(source: str, tmp_path: Path) -> list[str]:
    return [d["message"] for d in lintdb_findings(source, tmp_path, "LDB107")]


async def _rename_through_factory(module: Any, con: asyncpg.Connection) -> Any:
    module.get_conn = lambda: asyncio.sleep(0, con)
    return await module.rename("b", 1)


def _server_error(index: int, dsn: str) -> BaseException:
    module = load_with_factory(Rule.INVALID[index].source(), get_conn=None)
    runs: list[Callable[[], Any]] = [
        lambda: asyncio.run(module.rename(dsn, "b", 1)),
        lambda: asyncio.run(_with_connection(dsn, module.names)),
        lambda: asyncio.run(_with_session(dsn, lambda s: module.recent(s, SINCE))),
        lambda: asyncio.run(_with_session(dsn, lambda s: module.recent(s, SINCE))),
        lambda: asyncio.run(_with_connection(dsn, module.rows)),
        lambda: asyncio.run(_with_connection(dsn, lambda con: _rename_through_factory(module, con))),
    ]
    with pytest.raises((asyncpg.PostgresSyntaxError, sqlalchemy.exc.ProgrammingError)) as raised:
        runs[index]()
    return raised.value


def test_every_invalid_example_is_proven() -> None:
    assert len(Rule.INVALID) == 6


@pytest.mark.parametrize("index", range(len(Rule.INVALID)))
def test_server_rejects_it_with_the_reported_message(index: int, pg_dsn: str, tmp_path: Path) -> None:
    asyncio.run(_with_connection(pg_dsn, lambda con: con.execute("SELECT 1")))
    error = _server_error(index, pg_dsn)
    server_message = (
        str(error.orig if isinstance(error, sqlalchemy.exc.DBAPIError) else error).splitlines()[0].split(": ", 1)[-1]
    )
    assert _reported(Rule.INVALID[index].source(), tmp_path) == [f"PostgreSQL rejects this SQL: {server_message}"]


def test_near_misses_run(pg_dsn: str, tmp_path: Path) -> None:
    valid = [load(case.source()) for case in Rule.VALID]
    asyncio.run(_with_connection(pg_dsn, lambda con: valid[0].rename(con, "b", 1)))
    rows = asyncio.run(_with_connection(pg_dsn, lambda con: valid[1].ordered(con, "id", "DESC")))
    assert [r["id"] for r in rows] == [1]
    rows = asyncio.run(_with_session(pg_dsn, lambda s: s.execute(valid[2].RECENT, {"since": SINCE})))
    assert [r.id for r in rows] == [1]
    database = tmp_path / "db.sqlite"
    with sqlite3.connect(database) as db:
        db.execute("CREATE TABLE t (id integer PRIMARY KEY, name text)")
    valid[3].upsert(str(database), 1, "a")
    valid[3].upsert(str(database), 1, "b")
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT id, name FROM t").fetchall() == [(1, "b")]


def test_sqlite_only_near_miss_runs_on_sqlite(tmp_path: Path) -> None:
    """`UPDATE OR IGNORE` / `INSERT OR REPLACE` in `text()` on a SQLite-only project is SQLite's SQL, and runs."""
    module = load(Rule.VALID[4].source())

    async def run() -> list[Any]:
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
        try:
            async with AsyncSession(engine) as session:
                await session.execute(text("CREATE TABLE items (id integer PRIMARY KEY, seen integer)"))
                await session.execute(text("CREATE TABLE seen (id integer PRIMARY KEY)"))
                await session.execute(text("INSERT INTO items VALUES (1, 0)"))
                await module.mark_seen(session, 1)
                await module.mark_seen(session, 1)
                return list((await session.execute(text("SELECT * FROM items, seen"))).all())
        finally:
            await engine.dispose()

    assert [tuple(r) for r in asyncio.run(run())] == [(1, 1, 1)]


def test_factory_connection_used_with_execute_only_runs_sqlite_sql(tmp_path: Path) -> None:
    """Not judged (shape 8): the project's connection used with `execute` only is aiosqlite's here, and its
    SQLite SQL runs."""
    database = tmp_path / "db.sqlite"
    with sqlite3.connect(database) as db:
        db.execute("CREATE TABLE t (id integer PRIMARY KEY, name text)")
    module = load(Rule.VALID[7].source())
    asyncio.run(module.upsert(lambda: aiosqlite.connect(database), 1, "a"))
    asyncio.run(module.upsert(lambda: aiosqlite.connect(database), 1, "b"))
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT id, name FROM t").fetchall() == [(1, "b")]


def test_near_miss_a_format_template_runs_once_filled_in(pg_dsn: str) -> None:
    """The `{}` template is not PostgreSQL's SQL until `.format()` fills it; filled in, it runs."""
    module = load(Rule.VALID[-1].source())

    async def mark(session: AsyncSession) -> int:
        await session.execute(text("ALTER TABLE t ADD COLUMN seen int"))
        result = await session.execute(module.mark_seen("t"), {"id": 1})
        return int(result.rowcount)

    assert asyncio.run(_with_session(pg_dsn, mark)) == 1
