"""The proof fixtures themselves: a fresh database per test, and PgBouncer pooling in transaction mode."""

from __future__ import annotations

import asyncio

import asyncpg
import psycopg2

from tests.proof.conftest import Server


def test_each_test_gets_an_empty_database(pg_dsn: str) -> None:
    async def run() -> int:
        con = await asyncpg.connect(pg_dsn)
        try:
            return int(
                await con.fetchval("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
            )
        finally:
            await con.close()

    assert asyncio.run(run()) == 0


def test_pgbouncer_runs_in_transaction_mode(pgbouncer: Server) -> None:
    async def query() -> int:
        con = await asyncpg.connect(pgbouncer.dsn, statement_cache_size=0)
        try:
            return int(await con.fetchval("SELECT 41 + 1"))
        finally:
            await con.close()

    assert asyncio.run(query()) == 42
    console = psycopg2.connect(pgbouncer.database_dsn("pgbouncer"))
    try:
        console.autocommit = True
        with console.cursor() as cur:
            cur.execute("SHOW CONFIG")
            settings = {row[0]: row[1] for row in cur.fetchall()}
    finally:
        console.close()
    assert settings["pool_mode"] == "transaction"
