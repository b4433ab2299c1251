"""Transaction regions, and helpers whose every caller holds one (the in-file call graph)."""

from __future__ import annotations

import libcst as cst

from tests.model_support import find, model_of

SOURCE = """
async def helper(con):
    await con.execute("CREATE TEMP TABLE t (a int) ON COMMIT DROP")


async def sometimes(con):
    await con.execute("SELECT 1")


async def caller(con, session, engine):
    async with con.transaction():
        await helper(con)
        await sometimes(con)
    await sometimes(con)
    async with session.begin():
        session.add(x)
    async with engine.begin() as conn:
        await conn.execute(q)
    await con.execute("SELECT 2")
"""


def test_blocks_that_open_transactions() -> None:
    model = model_of(SOURCE)
    assert model.in_transaction(find(model, "session.add(x)", cst.Call), "session")
    assert model.in_transaction(find(model, "conn.execute(q)", cst.Call), "conn")
    assert model.in_transaction(find(model, "conn.execute(q)", cst.Call), "engine")
    assert not model.in_transaction(find(model, 'con.execute("SELECT 2")', cst.Call), "con")
    assert not model.in_transaction(find(model, "session.add(x)", cst.Call), "con")


def test_helper_in_a_transaction_when_every_call_is() -> None:
    model = model_of(SOURCE)
    create = find(model, 'con.execute("CREATE TEMP TABLE t (a int) ON COMMIT DROP")', cst.Call)
    assert model.in_transaction(create, "con")
    assert not model.in_transaction(find(model, 'con.execute("SELECT 1")', cst.Call), "con")
    function = model.enclosing_function(create)
    assert function is not None and function.name.value == "helper"
