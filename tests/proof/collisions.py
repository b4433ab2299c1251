"""Many concurrent clients running two alternating statements: what makes prepared statements collide
through PgBouncer in transaction mode (Case 6). Shared by the LDB201 and LDB202 proofs."""

from __future__ import annotations

import asyncio
import types
from collections.abc import Callable
from typing import Any

import asyncpg
import sqlalchemy.exc

from tests.proof.conftest import Server
from tests.proof.support import load

CLIENTS, QUERIES = 16, 60
ROUNDS = 5  # collisions depend on timing: on a busy machine a round may pass by luck
# What Case 6 saw go wrong (asyncpg's own errors, SQLAlchemy's wrappers of them, decoder crashes).
COLLISIONS = (asyncpg.PostgresError, asyncpg.InterfaceError, sqlalchemy.exc.DBAPIError, AssertionError, BufferError)


def pointed_at(source: str, server: Server) -> types.ModuleType:
    """The example with its PgBouncer (6432) or direct (5432) port replaced by the test server's."""
    source = source.replace("app@db.internal/app", "postgres@127.0.0.1:6432/postgres")  # the configured PgBouncer host
    return load(
        source.replace(":6432/", f":{server.port}/")
        .replace("port=5432", f"port={server.port}")
        .replace(":5432/", f":{server.port}/")
    )


async def hammer(module: types.ModuleType) -> list[Any]:
    """Each client's results (or its first exception); disposes the module's engine if it has one."""
    try:
        return await asyncio.gather(
            *(module.lookup(range(k, k + QUERIES)) for k in range(CLIENTS)), return_exceptions=True
        )
    finally:
        if hasattr(module, "engine"):
            await module.engine.dispose()


async def hammer_until_failure(fresh: Callable[[], types.ModuleType]) -> list[Any]:
    """`hammer` on a freshly loaded module (new engine, cold pool) until a round has a failing client, at
    most ROUNDS times; the last round's results."""
    for _ in range(ROUNDS):
        results = await hammer(fresh())
        if any(isinstance(r, BaseException) for r in results):
            break
    return results


def assert_collisions(results: list[Any]) -> None:
    """Some clients failed, and only with the errors Case 6 saw."""
    failures = [r for r in results if isinstance(r, BaseException)]
    assert failures and all(isinstance(f, COLLISIONS) for f in failures), results
    assert any("prepared statement" in str(f) or "bind message" in str(f) for f in failures), failures


def assert_all_correct(results: list[Any]) -> None:
    """Every client got every value right."""
    assert results == [[i if i % 2 else 0 for i in range(k, k + QUERIES)] for k in range(CLIENTS)]
