"""LDB207 proof: reading an attribute of an object after `await session.commit()` on a default
`AsyncSession` raises `MissingGreenlet` (module factory, FastAPI dependency, session from the caller);
lintdb's `await session.refresh(obj)` fix returns the values. The near-misses (`expire_on_commit=False`,
refresh, reads before the commit, a sync session, `awaitable_attrs`) run.

FastAPI is not a dependency of lintdb: a stand-in `fastapi.Depends` (FastAPI's only part the example
uses) is installed, and the proof does what FastAPI does: it enters `get_session` and passes its session."""

from __future__ import annotations

import asyncio
import sys
import types
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy.exc
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from lintdb.rules.ldb207_async_session_expire_on_commit import (
    AsyncSessionExpireOnCommit as Rule,
)
from tests.proof.support import asyncpg_dsn, lintdb_fix, load_models


@pytest.fixture(autouse=True)
def fastapi_depends(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    fastapi = types.ModuleType("fastapi")
    fastapi.Depends = lambda dependency: dependency  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fastapi", fastapi)
    yield


def _on(source: str, dsn: str) -> types.ModuleType:
    """The example with its URLs pointed at the test's database."""
    example = "://postgres@127.0.0.1:5432/postgres"
    return load_models(
        source.replace(f"postgresql+asyncpg{example}", asyncpg_dsn(dsn)).replace(
            f"postgresql+psycopg2{example}", dsn.replace("postgresql://", "postgresql+psycopg2://")
        )
    )


async def _with_tables(module: types.ModuleType, call: Callable[[], Awaitable[Any]]) -> Any:
    """Create the example's tables afresh with one user (id 1), run ``call``, dispose the engine."""
    try:
        async with module.engine.begin() as conn:
            await conn.run_sync(module.Base.metadata.drop_all)  # the failed run committed its user
            await conn.run_sync(module.Base.metadata.create_all)
            await conn.execute(text("INSERT INTO users (name) VALUES ('first')"))
        return await call()
    finally:
        await module.engine.dispose()


def _create_user(module: types.ModuleType) -> Any:
    return asyncio.run(_with_tables(module, lambda: module.create_user("ada")))


def _rename_user(module: types.ModuleType) -> Any:
    async def through_dependency() -> str:
        sessions = module.get_session()
        session = await sessions.__anext__()
        try:
            return str(await module.rename_user(1, "grace", session))
        finally:
            await sessions.aclose()

    return asyncio.run(_with_tables(module, through_dependency))


def _add_user(module: types.ModuleType, **factory: Any) -> Any:
    async def with_callers_session() -> int:
        async with async_sessionmaker(module.engine, **factory)() as session:
            return int(await module.add_user(session, "ada"))

    return asyncio.run(_with_tables(module, with_callers_session))


def _test_with_fixture(module: types.ModuleType) -> Any:
    """Run the example's test as pytest would: with the session its fixture yields (from the factory the
    `session_factory` fixture returns, when there is one)."""

    async def through_fixture() -> Any:
        factory = getattr(module, "session_factory", None)
        sessions = module.db_session.__wrapped__(*([factory.__wrapped__()] if factory is not None else []))
        session = await sessions.__anext__()
        try:
            return await module.test_rename_user(session)
        finally:
            await sessions.aclose()

    return asyncio.run(_with_tables(module, through_fixture))


RUNS: list[Callable[[types.ModuleType], Any]] = [_create_user, _rename_user, _add_user, _test_with_fixture]
RESULTS = [{"id": 2, "name": "ada"}, "grace", 2, None]


def test_every_invalid_example_is_proven() -> None:
    assert len(Rule.INVALID) == len(RUNS)


@pytest.mark.parametrize("index", [0, 1, 2, 3])
def test_read_after_commit_raises_missing_greenlet_and_fix_works(index: int, pg_dsn: str, tmp_path: Path) -> None:
    case, run = Rule.INVALID[index], RUNS[index]
    with pytest.raises(sqlalchemy.exc.MissingGreenlet, match="greenlet_spawn has not been called"):
        run(_on(case.source(), pg_dsn))
    fixed = lintdb_fix(case.source(), tmp_path, unsafe=True)
    assert fixed == case.fixed_source()
    assert lintdb_fix(case.source(), tmp_path / "safe") == case.source(), "an unsafe fix must need --unsafe-fixes"
    assert run(_on(fixed, pg_dsn)) == RESULTS[index]


@pytest.mark.parametrize(("index", "run"), [(0, _create_user), (1, _create_user), (2, _rename_user)])
def test_near_miss_no_expiry_or_refresh_works(index: int, run: Callable[[types.ModuleType], Any], pg_dsn: str) -> None:
    assert run(_on(Rule.VALID[index].source(), pg_dsn)) == RESULTS[RUNS.index(run)]


def test_near_miss_option_off_matches_a_factory_without_expiry(pg_dsn: str) -> None:
    """`async-session-expire-on-commit = false` says the callers' factory sets `expire_on_commit=False`:
    with such a factory the helper works (with a default one it fails, as INVALID[2] shows)."""
    assert _add_user(_on(Rule.VALID[3].source(), pg_dsn), expire_on_commit=False) == 2


def test_near_miss_read_before_commit_works(pg_dsn: str) -> None:
    assert _create_user(_on(Rule.VALID[4].source(), pg_dsn)) == "2:ada"


def test_near_miss_sync_session_loads_again(pg_dsn: str) -> None:
    module = _on(Rule.VALID[5].source(), pg_dsn)
    try:
        module.Base.metadata.create_all(module.engine)
        assert module.create_user("ada") == 1
    finally:
        module.engine.dispose()


def test_near_miss_awaitable_attrs_works(pg_dsn: str) -> None:
    assert _create_user(_on(Rule.VALID[6].source(), pg_dsn)) == "ada"


@pytest.mark.parametrize("index", [7, 8])
def test_near_miss_fixture_without_expiry_works(index: int, pg_dsn: str) -> None:
    assert _test_with_fixture(_on(Rule.VALID[index].source(), pg_dsn)) is None
