"""LDB208 proof: one `AsyncSession` used by awaitables that run at once, on a cold pool (a fresh engine
that has made no connection, as after a deploy), raises `InvalidRequestError: This session is provisioning
a new connection; concurrent operations are not permitted` (`gather`, a comprehension in `gather`,
`create_task`); one asyncpg connection in a `TaskGroup` raises `InterfaceError: cannot perform
operation: another operation is in progress`. A warm session hides the first, which is why tests pass.
The near-misses (a session per task, sequential awaits, an asyncpg pool, a non-database `session`) run."""

from __future__ import annotations

import asyncio
import gc
import sys
import types
import warnings
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import asyncpg
import pytest
import sqlalchemy.exc
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from lintdb.rules.ldb208_session_shared_across_tasks import SessionSharedAcrossTasks as Rule
from tests.proof.support import asyncpg_dsn, load, run_sql

TABLES = (
    "CREATE TABLE users (id int); INSERT INTO users VALUES (1), (2); "
    "CREATE TABLE orders (id int); INSERT INTO orders VALUES (1)"
)
PROVISIONING = "This session is provisioning a new connection; concurrent operations are not permitted"
IN_PROGRESS = "cannot perform operation: another operation is in progress"


def _errors(error: BaseException) -> Iterator[BaseException]:
    """An exception, its causes and contexts, and the members of exception groups."""
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending += [e for e in (current.__cause__, current.__context__) if e is not None]
        members = getattr(current, "exceptions", None)  # an ExceptionGroup (Python 3.11+)
        if isinstance(members, tuple):
            pending += [e for e in members if isinstance(e, BaseException)]


def _raised(run: Callable[[], Any]) -> list[BaseException]:
    with pytest.raises(BaseException) as caught:
        run()
    return list(_errors(caught.value))


def _cold(source: str, dsn: str, null_pool: bool = False) -> types.ModuleType:
    """The example with a fresh engine on the test's database: nothing has connected yet (``null_pool``:
    never an idle connection, as with `NullPool` or when other requests hold every pooled one)."""
    url = asyncpg_dsn(dsn)
    engine = f'"{url}", poolclass=NullPool' if null_pool else f'"{url}"'
    source = source.replace('"postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"', engine)
    module = load(("from sqlalchemy.pool import NullPool\n" if null_pool else "") + source)
    pool = module.engine.pool
    assert null_pool or (pool.checkedin() == 0 and pool.checkedout() == 0)
    return module


def _with_session(module: types.ModuleType, call: Callable[[AsyncSession], Awaitable[Any]], warm: bool = False) -> Any:
    """Run ``call`` with a new session of the example's engine; let every statement end before closing."""

    async def run() -> Any:
        session = AsyncSession(module.engine)
        try:
            if warm:
                await session.execute(text("SELECT 1"))
            return await call(session)
        finally:
            await asyncio.sleep(0.3)  # the other task's statement, still running when the first one failed
            await session.close()
            await module.engine.dispose()

    return asyncio.run(run())


def _run_module(module: types.ModuleType, call: Callable[[], Awaitable[Any]]) -> Any:
    async def run() -> Any:
        try:
            return await call()
        finally:
            await asyncio.sleep(0.3)
            if hasattr(module, "engine"):
                await module.engine.dispose()
                with warnings.catch_warnings():  # the failed session never returned its connection
                    warnings.simplefilter("ignore", sqlalchemy.exc.SAWarning)
                    gc.collect()

    return asyncio.run(run())


@pytest.fixture
def dsn(pg_dsn: str) -> str:
    asyncio.run(run_sql(pg_dsn, TABLES))
    return pg_dsn


def test_every_invalid_example_is_proven() -> None:
    assert len(Rule.INVALID) == 6


def test_gather_on_one_cold_session_fails(dsn: str) -> None:
    module = _cold(Rule.INVALID[0].source(), dsn)
    errors = _raised(lambda: _with_session(module, module.dashboard))
    assert any(isinstance(e, sqlalchemy.exc.InvalidRequestError) and PROVISIONING in str(e) for e in errors)


def test_a_warm_session_hides_it(dsn: str) -> None:
    """Why tests pass: once the session holds its connection, SQLAlchemy's adapter queues the statements."""
    module = _cold(Rule.INVALID[0].source(), dsn)
    assert _with_session(module, module.dashboard, warm=True) == (2, 1)


def test_gather_over_a_comprehension_fails(dsn: str) -> None:
    module = _cold(Rule.INVALID[1].source(), dsn)
    errors = _raised(lambda: _run_module(module, lambda: module.sizes(["users", "orders"])))
    assert any(isinstance(e, sqlalchemy.exc.InvalidRequestError) and PROVISIONING in str(e) for e in errors)


@pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.TaskGroup is Python 3.11+")
def test_one_asyncpg_connection_in_a_task_group_fails(dsn: str) -> None:
    module = load(Rule.INVALID[2].source())
    errors = _raised(lambda: _run_module(module, lambda: module.counts(dsn)))
    assert any(isinstance(e, asyncpg.exceptions.InterfaceError) and str(e) == IN_PROGRESS for e in errors)


def test_create_task_per_table_on_one_cold_session_fails(dsn: str) -> None:
    module = _cold(Rule.INVALID[3].source(), dsn)
    errors = _raised(lambda: _with_session(module, lambda session: module.sizes(session, ["users", "orders"])))
    assert any(isinstance(e, sqlalchemy.exc.InvalidRequestError) and PROVISIONING in str(e) for e in errors)


def test_near_miss_a_session_per_task_works_on_a_cold_pool(dsn: str) -> None:
    module = _cold(Rule.VALID[0].source(), dsn)
    assert _run_module(module, module.dashboard) == (2, 1)


@pytest.mark.parametrize("index", [1, 2])
def test_near_miss_sequential_awaits_work(index: int, dsn: str) -> None:
    module = _cold(Rule.VALID[index].source(), dsn)
    assert _with_session(module, module.dashboard) == (2, 1)


def test_near_miss_asyncpg_pool_works(dsn: str) -> None:
    module = load(Rule.VALID[3].source())
    assert _run_module(module, lambda: module.counts(dsn)) == (2, 1)


def test_near_miss_a_session_that_is_not_a_database_session_works() -> None:
    module = load(Rule.VALID[4].source())
    assert asyncio.run(module.both()) == [1, 2]


@pytest.mark.parametrize("null_pool", [False, True])
def test_near_miss_a_session_that_holds_its_connection_gathers(dsn: str, null_pool: bool) -> None:
    """A statement before the gather gave the session its connection: the gathered statements queue on it."""
    module = _cold(Rule.VALID[-1].source(), dsn, null_pool)
    assert _with_session(module, module.dashboard) == (2, 1)


def test_a_commit_between_gives_the_connection_back_and_the_gather_fails(dsn: str) -> None:
    """After the commit the session must check a connection out again; with none idle it connects."""
    module = _cold(Rule.INVALID[4].source(), dsn, null_pool=True)
    errors = _raised(lambda: _with_session(module, module.dashboard))
    assert any(isinstance(e, sqlalchemy.exc.InvalidRequestError) and PROVISIONING in str(e) for e in errors)


def test_coroutines_stored_in_names_then_gathered_fail(dsn: str) -> None:
    module = _cold(Rule.INVALID[5].source(), dsn)
    errors = _raised(lambda: _with_session(module, module.dashboard))
    assert any(isinstance(e, sqlalchemy.exc.InvalidRequestError) and PROVISIONING in str(e) for e in errors)
