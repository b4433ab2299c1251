"""LDB204 proof (Case 8): `async_fallback` in the URL, in `connect_args` or as an engine argument breaks
the first connect on SQLAlchemy 2.1 (TypeError) and is deprecated on 2.0; the sync driver works."""

from __future__ import annotations

import types
import warnings

import pytest
import sqlalchemy

from lintdb.rules.ldb204_async_fallback import AsyncFallback as Rule
from tests.proof.conftest import Server
from tests.proof.support import load

REMOVED = tuple(int(p) for p in sqlalchemy.__version__.split(".")[:2]) >= (2, 1)


def _on_server(source: str, server: Server) -> types.ModuleType:
    return load(source.replace("127.0.0.1:5432/", f"127.0.0.1:{server.port}/"))


@pytest.mark.skipif(not REMOVED, reason="SQLAlchemy 2.0 still accepts the argument")
def test_engine_argument_fails_when_the_engine_is_made(pg_server: Server) -> None:
    with pytest.raises(TypeError, match=r"Invalid argument\(s\) 'async_fallback' sent to create_engine\(\)"):
        _on_server(Rule.INVALID[2].source(), pg_server)


@pytest.mark.parametrize("index", [0, 1] if REMOVED else [0, 1, 2])
def test_async_fallback_fails_or_is_deprecated(index: int, pg_server: Server) -> None:
    module = _on_server(Rule.INVALID[index].source(), pg_server)
    try:
        if REMOVED:
            with pytest.raises(TypeError, match="unexpected keyword argument 'async_fallback'"):
                module.answer()
        else:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                assert module.answer() == 42
            assert any("async_fallback dialect argument is deprecated" in str(w.message) for w in caught)
    finally:
        module.engine.dispose()


def test_near_miss_sync_driver_works(pg_server: Server) -> None:
    module = _on_server(Rule.VALID[0].source(), pg_server)
    try:
        assert module.answer() == 42
    finally:
        module.engine.dispose()
