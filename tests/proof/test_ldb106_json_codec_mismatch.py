"""LDB106 proof (Case 9): SQLAlchemy's borrowed asyncpg connection returns jsonb as dicts, so
`json.loads()` raises TypeError (and the display-only fix, applied by hand, works); a plain asyncpg
connection returns str and rejects dict arguments; with json codecs in `init=` both work."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from lintdb.rules.ldb106_json_codec_mismatch import JsonCodecMismatch as Rule
from tests.proof.support import asyncpg_dsn, lintdb_findings, load, load_with_factory

DOC = {"k": 1}


async def _setup(dsn: str) -> None:
    con = await asyncpg.connect(dsn)
    try:
        await con.execute(
            "DROP TABLE IF EXISTS t; CREATE TABLE t (id int, doc jsonb); INSERT INTO t VALUES (1, '{\"k\": 1}')"
        )
    finally:
        await con.close()


async def _borrowed(source: str, dsn: str) -> Any:
    await _setup(dsn)
    engine = create_async_engine(asyncpg_dsn(dsn))
    try:
        async with AsyncSession(engine) as session:
            return await load(source).settings(session)
    finally:
        await engine.dispose()


async def _plain(source: str, dsn: str) -> Any:
    await _setup(dsn)
    return await load(source).settings(dsn)


def _display_only_fix(source: str, tmp_path: Path) -> str:
    """Apply the edits of lintdb's display-only fix as shown in its JSON output."""
    (finding,) = lintdb_findings(source, tmp_path, "LDB106")
    assert finding["fix"]["applicability"] == "displayonly"
    lines = source.splitlines(keepends=True)
    for edit in finding["fix"]["edits"]:
        (row, column), (end_row, end_column) = (
            (edit["location"]["row"], edit["location"]["column"]),
            (edit["end_location"]["row"], edit["end_location"]["column"]),
        )
        assert row == end_row
        line = lines[row - 1]
        lines[row - 1] = line[: column - 1] + edit["content"] + line[end_column - 1 :]
    return "".join(lines)


def test_json_loads_on_borrowed_connection_fails_and_display_fix_works(pg_dsn: str, tmp_path: Path) -> None:
    case = Rule.INVALID[0]
    with pytest.raises(TypeError, match="the JSON object must be str, bytes or bytearray, not dict"):
        asyncio.run(_borrowed(case.source(), pg_dsn))
    fixed = _display_only_fix(case.source(), tmp_path)
    assert fixed == Rule.VALID[0].source()
    assert asyncio.run(_borrowed(fixed, pg_dsn)) == DOC


def test_dict_argument_on_plain_connection_fails(pg_dsn: str) -> None:
    with pytest.raises(
        asyncpg.DataError, match=r"invalid input for query argument \$2: \{'k': 2\} \(expected str, got dict\)"
    ):
        asyncio.run(_plain(Rule.INVALID[1].source(), pg_dsn))


def test_key_lookup_on_plain_connection_fails(pg_dsn: str) -> None:
    with pytest.raises(TypeError, match="string indices must be integers"):
        asyncio.run(_plain(Rule.INVALID[2].source(), pg_dsn))


def test_near_misses_work(pg_dsn: str) -> None:
    assert asyncio.run(_plain(Rule.VALID[1].source(), pg_dsn)) == DOC
    assert asyncio.run(_plain(Rule.VALID[2].source(), pg_dsn)) == 1


def test_near_miss_factory_connection_with_codecs_works(pg_dsn: str) -> None:
    """Not judged (shape 8): the project's factory may register json codecs, and then the dict argument works."""

    async def run() -> Any:
        await _setup(pg_dsn)
        con = await asyncpg.connect(pg_dsn)
        try:
            await con.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
            module = load_with_factory(Rule.VALID[3].source(), get_conn=lambda: asyncio.sleep(0, con))
            return await module.settings()
        finally:
            await con.close()

    assert asyncio.run(run()) == {"k": 2}
