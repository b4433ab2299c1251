"""LDB205 proof: with AUTOCOMMIT (engine-wide or per connection), a transfer whose second statement
fails leaves the first committed; without it the transfer rolls back as a whole. The maintenance
near-miss needs AUTOCOMMIT: VACUUM refuses to run inside a transaction block."""

from __future__ import annotations

import types

import pytest
import sqlalchemy.exc
from sqlalchemy import text

from lintdb.rules.ldb205_autocommit_in_application_code import (
    AutocommitInApplicationCode as Rule,
)
from tests.proof.conftest import Server
from tests.proof.support import load


def _on_server(source: str, server: Server) -> types.ModuleType:
    return load(source.replace("127.0.0.1:5432/", f"127.0.0.1:{server.port}/"))


def _balances_after_failed_transfer(module: types.ModuleType) -> list[int]:
    """Account 2 may hold at most 100: moving 50 into it (at 80) fails on the second statement."""
    try:
        with module.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS account"))
            conn.execute(text("CREATE TABLE account (id int PRIMARY KEY, balance int CHECK (balance <= 100))"))
            conn.execute(text("INSERT INTO account VALUES (1, 100), (2, 80)"))
        with pytest.raises(sqlalchemy.exc.IntegrityError, match="account_balance_check"):
            module.transfer(50)
        with module.engine.connect() as conn:
            return list(conn.execute(text("SELECT balance FROM account ORDER BY id")).scalars())
    finally:
        module.engine.dispose()


@pytest.mark.parametrize("index", range(len(Rule.INVALID)))
def test_autocommit_loses_atomicity(index: int, pg_server: Server) -> None:
    assert _balances_after_failed_transfer(_on_server(Rule.INVALID[index].source(), pg_server)) == [50, 80]


def test_near_miss_default_isolation_keeps_atomicity(pg_server: Server) -> None:
    assert _balances_after_failed_transfer(_on_server(Rule.VALID[0].source(), pg_server)) == [100, 80]


def test_near_miss_maintenance_needs_autocommit(pg_server: Server) -> None:
    module = _on_server(Rule.VALID[1].source(), pg_server)
    _balances_after_failed_transfer(_on_server(Rule.VALID[0].source(), pg_server))
    try:
        module.maintain()
        with (
            pytest.raises(sqlalchemy.exc.InternalError, match="VACUUM cannot run inside a transaction block"),
            module.engine.begin() as conn,
        ):
            conn.execute(text("VACUUM account"))
    finally:
        module.engine.dispose()
