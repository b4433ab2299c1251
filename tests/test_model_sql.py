"""One `sql_of_call` for every SQL call site, and how it tells `text()` from other calls."""

from __future__ import annotations

import libcst as cst

from lintdb.sqltext import temp_tables
from tests.model_support import find, model_of

SOURCE = """
import sqlalchemy as sa
from alembic import op
from sqlalchemy import text

QUERY = "SELECT 1"


def run_sql(session, sql, params=None):
    return session.execute(text(sql), params)


async def main(con, conn, session):
    await con.fetch("SELECT $1::int", 1)
    await con.copy_from_query("SELECT 2", output="f")
    conn.exec_driver_sql("DELETE FROM t")
    op.execute("DROP TABLE IF EXISTS _tmp")
    session.execute(sa.text("UPDATE t SET a = :a"))
    stmt = text("INSERT INTO t VALUES (:a)")
    session.execute(stmt)
    session.execute(compiled("DELETE FROM t"))
    session.execute(QUERY)
    run_sql(session, "DELETE FROM t WHERE id = :id", {"id": 1})
    run_sql(session, "not sql at all")
    print("SELECT 3")
"""


def _site(code: str) -> tuple[str, str] | None:
    model = model_of(SOURCE)
    site = model.sql_site(find(model, code, cst.Call))
    return None if site is None else (site.sql.text, site.style)


def test_driver_methods_text_alembic_and_constants() -> None:
    assert _site('con.fetch("SELECT $1::int", 1)') == ("SELECT $1::int", "driver")
    assert _site('con.copy_from_query("SELECT 2", output="f")') == ("SELECT 2", "driver")
    assert _site('conn.exec_driver_sql("DELETE FROM t")') == ("DELETE FROM t", "driver")
    assert _site('op.execute("DROP TABLE IF EXISTS _tmp")') == ("DROP TABLE IF EXISTS _tmp", "alembic")
    assert _site('session.execute(sa.text("UPDATE t SET a = :a"))') == ("UPDATE t SET a = :a", "text")
    assert _site('sa.text("UPDATE t SET a = :a")') == ("UPDATE t SET a = :a", "text")
    assert _site("session.execute(stmt)") == ("INSERT INTO t VALUES (:a)", "text")
    assert _site("session.execute(QUERY)") == ("SELECT 1", "driver")
    assert _site('print("SELECT 3")') is None


def test_only_sqlalchemy_text_counts_as_text() -> None:
    """A call that is not `text()` hides its argument: LDB205 used to read any call's first argument."""
    assert _site('session.execute(compiled("DELETE FROM t"))') is None


def test_project_wrapper_whose_argument_is_sql() -> None:
    assert _site('run_sql(session, "DELETE FROM t WHERE id = :id", {"id": 1})') == (
        "DELETE FROM t WHERE id = :id",
        "wrapper",
    )
    assert _site('run_sql(session, "not sql at all")') is None


def test_sql_given_to_imported_wrappers_even_with_an_in_list_parameter() -> None:
    model = model_of("""
        from app.db import fetch_all, query
        from sqlalchemy import text
        import logging

        fetch_all("SELECT id FROM t WHERE id IN $1", ids)
        query("DELETE FROM t WHERE id IN :ids", ids=ids)
        query("Select one of these")
        logging.info("SELECT id FROM t WHERE id IN $1")
        local("SELECT id FROM t WHERE id IN $1")
        """)
    styles = [
        (site.style, site.sql.text) if (site := model.sql_site(call)) is not None else None
        for call in (
            find(model, code, cst.Call)
            for code in (
                'fetch_all("SELECT id FROM t WHERE id IN $1", ids)',
                'query("DELETE FROM t WHERE id IN :ids", ids=ids)',
                'query("Select one of these")',
                'logging.info("SELECT id FROM t WHERE id IN $1")',
                'local("SELECT id FROM t WHERE id IN $1")',
            )
        )
    ]
    assert styles == [
        ("wrapper", "SELECT id FROM t WHERE id IN $1"),
        ("wrapper", "DELETE FROM t WHERE id IN :ids"),
        None,
        None,
        None,
    ]


def test_a_hole_standing_for_a_whole_query_still_parses() -> None:
    model = model_of("""
        async def stage(con, query, name):
            await con.execute(f"CREATE TEMP TABLE t ON COMMIT DROP AS {query}")
            await con.execute(f"CREATE TEMP TABLE {name} AS {query}")
            await con.execute(f"CREATE TEMP TABLE t AS {query} {query} {query} {query} {query}")
        """)
    created = [
        [(t.name, t.on_commit_drop) for t in temp_tables(site.sql.text)] if (site := model.sql_site(call)) else None
        for call in model.tree.calls
        if isinstance(call.func, cst.Attribute) and call.func.attr.value == "execute"
    ]
    assert created == [[("t", True)], [(None, False)], []]  # a name from a hole is not known
