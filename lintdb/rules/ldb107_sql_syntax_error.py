"""LDB107 sql-syntax-error."""

from __future__ import annotations

import re

import libcst as cst
from libcst.metadata import QualifiedNameProvider
from pglast import parser as pg_parser

from lintdb.connections import ASYNCPG_IN_FILE, Tracker
from lintdb.cst_helpers import call_arg, statements
from lintdb.flow import calls_in, walk
from lintdb.rule import Invalid, LintRule, Valid
from lintdb.sqltext import (
    HOLE,
    SQLALCHEMY_TEXT,
    SqlString,
    SqlToken,
    module_constants,
    sql_string,
)

# Methods that take SQL only on asyncpg (DB-API cursors have no `fetch`, `fetchrow`, ...).
ASYNCPG_ONLY_METHODS = frozenset({"fetch", "fetchrow", "fetchval", "fetchmany", "prepare", "cursor", "copy_from_query"})
# Methods whose receiver must be traced to asyncpg (sqlite3 and DB-API cursors have them too).
TRACED_METHODS = frozenset({"execute", "executemany"})
TRACED_KINDS = frozenset({"plain", "borrowed", "pool"})
# text() also builds SQL fragments (`text("id > 5")`, a server default): only texts starting with one of
# these are judged as statements.
_KEYWORDS = (
    "select|insert|update|delete|with|create|drop|alter|truncate|copy|values|merge|"
    "grant|revoke|comment|lock|vacuum|analyze|explain|refresh|set|show"
)
_STATEMENT_START = re.compile(rf"(?i)\s*(?:{_KEYWORDS})\b")


class SqlSyntaxError(LintRule):
    """
    ## What it does
    Checks SQL passed to asyncpg (`execute`, `fetch*`, `prepare`, `cursor`, `copy_from_query`) and to
    SQLAlchemy's `text()` with PostgreSQL's own parser (libpg_query, through pglast), and reports what
    it rejects with the parser's message at the parser's position.

    ## Why is this bad?
    The statement fails with `PostgresSyntaxError` (asyncpg) or `ProgrammingError` (SQLAlchemy) every
    time it runs, and only when it runs: a typo in a rarely taken branch ships.

    ## Example
    ```python
    await con.execute("UPDATE t SET name = $1 WHERE WHERE id = $2", name, id)
    ```

    Use instead:
    ```python
    await con.execute("UPDATE t SET name = $1 WHERE id = $2", name, id)
    ```

    f-string holes are replaced by a placeholder before parsing, and an error next to a hole is not
    reported (the hole may hold any SQL). `execute` is only checked on connections traced to asyncpg,
    and `text()` only in files that do not mention SQLite, so other dialects are not judged by
    PostgreSQL's grammar. `IN $1` is left to LDB103, which fixes it. Bind parameters in `text()` are
    found by SQLAlchemy's own rule, so `:since::timestamptz` (not a bind for SQLAlchemy) is reported:
    write `CAST(:since AS timestamptz)`.

    ## Fix safety
    There is no fix: what the SQL should have said is for its author to decide.

    ## References
    - [PostgreSQL: SQL Syntax](https://www.postgresql.org/docs/current/sql-syntax.html)
    - [pglast: PostgreSQL Languages AST and statements prettifier](https://pglast.readthedocs.io/)
    """

    CODE = "LDB107"
    NAME = "sql-syntax-error"
    MESSAGE = "PostgreSQL rejects this SQL"
    # A checked call with a SQL literal, or a module-level constant holding one.
    GATE = ("fetch", "prepare", "cursor", "copy_from_query", "execute", "text(", *_KEYWORDS.split("|"))
    TRIGGER = re.compile(
        rf"(?:\.(?:fetch\w*|prepare|cursor|copy_from_query|execute\w*)|\btext)\(\s*[rRfFuU]{{0,2}}[\"']+\s*(?i:{_KEYWORDS})\s"
        rf"|^\w+\s*(?::[^=\n]+)?=\s*\(?\s*[rRfFuU]{{0,2}}[\"']+\s*(?i:{_KEYWORDS})\s",
        re.MULTILINE,
    )
    REQUIRES = (
        re.compile(ASYNCPG_IN_FILE + r"|\.(?:fetch|fetchrow|fetchval|copy_from_query)\(|import[^\n]*\btext\b|\.text\("),
    )
    METADATA_DEPENDENCIES = (QualifiedNameProvider,)

    VALID = (
        Valid("""
            async def rename(con, name, id):
                await con.execute("UPDATE t SET name = $1 WHERE id = $2", name, id)
            """),
        Valid("""
            async def ordered(con, column, direction):
                return await con.fetch(f"SELECT id FROM t ORDER BY {column} {direction}")
            """),
        Valid("""
            from sqlalchemy import text

            RECENT = text("SELECT id FROM t WHERE created > CAST(:since AS timestamptz) AND note IS DISTINCT FROM 'a:b'")
            """),
        Valid("""
            import sqlite3


            def upsert(path, id, name):
                with sqlite3.connect(path) as db:
                    db.execute("INSERT OR REPLACE INTO t (id, name) VALUES (?, ?)", (id, name))
            """),
    )
    INVALID = (
        Invalid(
            """
            import asyncpg


            async def rename(dsn, name, id):
                con = await asyncpg.connect(dsn)
                try:
                    await con.execute("UPDATE t SET name = $1 WHERE WHERE id = $2", name, id)
                finally:
                    await con.close()
            """,
            positions=[(7, 57)],
        ),
        Invalid(
            """
            async def names(con):
                return await con.fetch("SELECT id, name, FROM t")
            """,
            positions=[(2, 46)],
        ),
        Invalid(
            """
            from sqlalchemy import text as sql

            RECENT = "SELECT id FROM t WHERE created > :since ORDER id"


            async def recent(session, since):
                return (await session.execute(sql(RECENT), {"since": since})).all()
            """,
            positions=[(3, 57)],
        ),
        Invalid(
            """
            from sqlalchemy import text


            async def recent(session, since):
                return (await session.execute(text("SELECT id FROM t WHERE created > :since::timestamptz"), {"since": since})).all()
            """,
            positions=[(5, 74)],
        ),
    )

    def visit_Module(self, node: cst.Module) -> None:
        self.constants = module_constants(node)
        self.check_text = "sqlite" not in self.text.lower()

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Attribute) and node.func.attr.value in ASYNCPG_ONLY_METHODS:
            self._check(node, "query", binds=False)
        elif self.check_text and self.qualified(node.func) & SQLALCHEMY_TEXT:
            self._check(node, "text", binds=True)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        tracker = Tracker(self.qualified, node)
        for step in walk(statements(node.body)):
            for call in calls_in(step.statement):
                if isinstance(call.func, cst.Attribute) and call.func.attr.value in TRACED_METHODS:
                    origin = tracker.resolve(call.func.value)
                    if origin is not None and origin.kind in TRACED_KINDS:
                        self._check(call, "query", binds=False)
            tracker.bind(step.statement)

    def _check(self, call: cst.Call, keyword: str, binds: bool) -> None:
        argument = call_arg(call, 0, keyword)
        sql = sql_string(argument.value, self.constants) if argument else None
        if sql is None or argument is None:
            return
        if binds:
            sql = sql.with_binds_as_params()
            if not _STATEMENT_START.match(sql.text):
                return
        try:
            pg_parser.parse_sql(sql.text)
            return
        except pg_parser.ParseError as error:
            message, index = error.args[0], error.args[1]
        tokens = sql.tokens()
        at = next((i for i, t in enumerate(tokens) if t.start <= index < t.end), None)
        if at is not None and _beside_hole_or_in_list(sql, tokens, at):
            return
        token = tokens[at] if at is not None else None
        span = sql.span(token.start, token.end) if token is not None else None
        self.report(span or argument.value, f"PostgreSQL rejects this SQL: {message}")


def _beside_hole_or_in_list(sql: SqlString, tokens: list[SqlToken], at: int) -> bool:
    """Whether the error is at or right after an f-string hole, or is `IN $n` (LDB103's finding)."""
    near = [sql.text[t.start : t.end] for t in tokens[max(at - 1, 0) : at + 1]]
    if HOLE in near:
        return True
    return tokens[at].name == "PARAM" and at > 0 and tokens[at - 1].name == "IN_P"
