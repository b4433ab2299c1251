"""LDB203 proof (Case 8): a sync engine with an asyncio driver is created fine and raises
MissingGreenlet at its first connect (PostgreSQL through asyncpg, SQLite through aiosqlite); the
`create_async_engine` fix works."""

from __future__ import annotations

import asyncio
import types
from pathlib import Path

import pytest
import sqlalchemy.exc
from sqlalchemy import text

from lintdb.rules.ldb203_sync_engine_async_driver import SyncEngineAsyncDriver as Rule
from tests.proof.conftest import Server
from tests.proof.support import lintdb_fix, load


def _on_server(source: str, server: Server) -> types.ModuleType:
    return load(source.replace("127.0.0.1:5432/", f"127.0.0.1:{server.port}/"))


def _in_dir(source: str, directory: Path) -> types.ModuleType:
    return load(source.replace("sqlite+aiosqlite:///app.db", f"sqlite+aiosqlite:///{directory / 'app.db'}"))


async def _answer_and_dispose(module: types.ModuleType) -> int:
    try:
        return int(await module.answer())
    finally:
        await module.engine.dispose()


async def _sqlite_answer(module: types.ModuleType) -> int:
    try:
        async with module.engine.connect() as conn:
            return int((await conn.execute(text("SELECT 42"))).scalar_one())
    finally:
        await module.engine.dispose()


def test_every_invalid_example_is_proven() -> None:
    assert len(Rule.INVALID) == 5


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
# 3: the URL is a pydantic settings default (shape 14); 4: engine_from_config on the URL set_main_option set
@pytest.mark.parametrize("index", [0, 3, 4])
def test_asyncpg_sync_engine_fails_at_connect_and_fix_works(index: int, pg_server: Server, tmp_path: Path) -> None:
    case = Rule.INVALID[index]
    bad = _on_server(case.source(), pg_server)
    with pytest.raises(sqlalchemy.exc.MissingGreenlet, match="greenlet_spawn has not been called"):
        asyncio.run(bad.answer())
    fixed = lintdb_fix(case.source(), tmp_path, unsafe=True)
    assert fixed == case.fixed_source()
    assert lintdb_fix(case.source(), tmp_path / "safe") == case.source(), "an unsafe fix must need --unsafe-fixes"
    assert asyncio.run(_answer_and_dispose(_on_server(fixed, pg_server))) == 42


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_aiosqlite_sync_engine_fails_at_connect_and_fix_works(tmp_path: Path) -> None:
    case = Rule.INVALID[1]
    bad = _in_dir(case.source(), tmp_path)
    with pytest.raises(sqlalchemy.exc.MissingGreenlet, match="greenlet_spawn has not been called"):
        bad.engine.connect()
    fixed = lintdb_fix(case.source(), tmp_path / "fix", unsafe=True)
    assert fixed == case.fixed_source()
    assert asyncio.run(_sqlite_answer(_in_dir(fixed, tmp_path))) == 42


def test_near_miss_async_engine_works(pg_server: Server) -> None:
    assert asyncio.run(_answer_and_dispose(_on_server(Rule.VALID[0].source(), pg_server))) == 42


def test_near_miss_sync_driver_works(pg_server: Server) -> None:
    engine = _on_server(Rule.VALID[1].source(), pg_server).engine
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 42")).scalar_one() == 42
    finally:
        engine.dispose()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_url_in_a_local_variable_fails_and_fix_works(pg_server: Server, tmp_path: Path) -> None:
    case = Rule.INVALID[2]
    engine = _on_server(case.source(), pg_server).make_reporting_engine()
    with pytest.raises(sqlalchemy.exc.MissingGreenlet, match="greenlet_spawn has not been called"):
        engine.connect()
    fixed = lintdb_fix(case.source(), tmp_path, unsafe=True)
    assert fixed == case.fixed_source()
    async_engine = _on_server(fixed, pg_server).make_reporting_engine()

    async def answer() -> int:
        try:
            async with async_engine.connect() as conn:
                return int((await conn.execute(text("SELECT 42"))).scalar_one())
        finally:
            await async_engine.dispose()

    assert asyncio.run(answer()) == 42
