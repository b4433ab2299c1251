"""LDB107 sql-syntax-error."""

from __future__ import annotations

import libcst as cst
from pglast import parser as pg_parser

from lintdb.prefilter import HOLE
from lintdb.rule import Invalid, LintRule, Valid
from lintdb.sqltext import SqlString, SqlToken
from lintdb.triggers import STATEMENT_START

# Methods that take SQL only on asyncpg (DB-API cursors have no `fetch`, `fetchrow`, ...).
ASYNCPG_ONLY_METHODS = frozenset({"fetch", "fetchrow", "fetchval", "fetchmany", "prepare", "cursor", "copy_from_query"})
# Methods whose receiver must be traced to asyncpg (sqlite3 and DB-API cursors have them too).
TRACED_METHODS = frozenset({"execute", "executemany"})
TRACED_KINDS = frozenset({"asyncpg-connection", "borrowed-asyncpg", "asyncpg-pool"})


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
    reported (the hole may hold any SQL); nor is a template with `str.format` fields (`{}`, `{table}`
    outside quotes, which PostgreSQL's grammar never has), which is filled in before it is sent. `execute` is only checked on connections traced to asyncpg,
    and `text()` only in files that do not mention SQLite, so other dialects are not judged by
    PostgreSQL's grammar. SQL in a branch for another database (`else:` of
    `if url.startswith("postgres"):`, under `if dialect.name == "sqlite":`) is not judged, and on a
    SQLite-only project (`alembic-dialects = ["sqlite"]`, or a project whose only database is SQLite
    and which declares no PostgreSQL driver) only SQL sent to a connection traced to asyncpg is, since
    `text()` there holds SQLite's SQL (`UPDATE OR IGNORE`). SQL that ends early is reported at its
    last token. `IN $1` is left to LDB103, which fixes it. Bind parameters in `text()` are
    found by SQLAlchemy's own rule, so `:since::timestamptz` (not a bind for SQLAlchemy) is reported:
    write `CAST(:since AS timestamptz)`.

    An asyncpg connection is also known by its use: a name the function calls `fetchrow`, `fetchval`,
    `copy_records_to_table` or another method only asyncpg connections have on (with SQL or a table), or
    runs `$1` SQL on, is one even when it comes from the project's own factory (`conn = await
    get_conn()`) in a file that never imports asyncpg; `execute` and `fetch` alone tell nothing (SQLAlchemy,
    `databases`, aiosqlite and psycopg have them too). Files importing a library with asyncpg's method
    names (aiochclient, aio-databases, mautrix, pyodbc, aioodbc, psqlpy) infer nothing.

    ## Fix safety
    There is no fix: what the SQL should have said is for its author to decide.

    ## References
    - [PostgreSQL: SQL Syntax](https://www.postgresql.org/docs/current/sql-syntax.html)
    - [pglast: PostgreSQL Languages AST and statements prettifier](https://pglast.readthedocs.io/)
    """

    CODE = "LDB107"
    NAME = "sql-syntax-error"
    MESSAGE = "PostgreSQL rejects this SQL"

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
        Valid(
            """
            from sqlalchemy import text


            async def mark_seen(session, item_id):
                await session.execute(text("UPDATE OR IGNORE items SET seen = 1 WHERE id = :id"), {"id": item_id})
                await session.execute(text("INSERT OR REPLACE INTO seen (id) VALUES (:id)"), {"id": item_id})
            """,
            options={"alembic-dialects": ["sqlite"]},
        ),
        Valid(
            """
            import sqlalchemy as sa
            from alembic import op


            def upgrade():
                connection = op.get_bind()
                if str(connection.engine.url).startswith("postgres"):
                    connection.execute(sa.text("UPDATE challenge SET kind = function"))
                else:
                    connection.execute(sa.text("UPDATE challenge SET kind = `function`"))
            """
        ),
        Valid(
            """
            from sqlalchemy import text


            def upsert_sql(db_url):
                if _is_postgres(db_url):
                    return text("INSERT INTO meta (k) VALUES (:k) ON CONFLICT (k) DO NOTHING")
                return text("INSERT OR REPLACE INTO meta (k) VALUES (:k)")


            def _is_postgres(url):
                return url.startswith("postgres")
            """
        ),
        # The project's connection used with `execute` only (aiosqlite's, here SQLite's SQL): not known to be
        # asyncpg, not judged.
        Valid("""
            async def upsert(get_db, id, name):
                async with get_db() as db:
                    await db.execute("INSERT OR REPLACE INTO t (id, name) VALUES (?, ?)", (id, name))
                    await db.commit()
            """),
        Valid(
            """
            from sqlalchemy import text

            TEMPLATE = "UPDATE {} SET seen = 1 WHERE id = :id"


            def mark_seen(table):
                return text(TEMPLATE.format(table))


            MARK_ANY = text("UPDATE {table} SET seen = 1 WHERE id = :id")
            """
        ),
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
        # SQL that ends early: the parser names no position; reported at the last token.
        Invalid(
            """
            async def rows(con):
                return await con.fetch("SELECT * FROM t WHERE")
            """,
            positions=[(2, 45)],
        ),
        # A connection from the project's factory in a file that never imports asyncpg, known by its use
        # (`fetchval`; shape 8): its `execute` is asyncpg's too.
        Invalid(
            """
            from app.db import get_conn


            async def rename(name, id):
                conn = await get_conn()
                await conn.execute("UPDATE t SET name = %(name)s WHERE id = %(id)s", {"name": name, "id": id})
                return await conn.fetchval("SELECT name FROM t WHERE id = $1", id)
            """,
            positions=[(6, 45)],
        ),
    )

    def visit_Module(self, node: cst.Module) -> None:
        # On a SQLite-only project `text()` and untraced calls hold SQLite's SQL, not PostgreSQL's.
        self.sqlite_only = self.model.project.sqlite_only
        self.check_text = not self.sqlite_only and "sqlite" not in self.text.lower()

    def visit_Call(self, node: cst.Call) -> None:
        if not isinstance(node.func, cst.Attribute):
            if self.check_text and self.model.is_text(node):
                self._check(node, "text")
            return
        method = node.func.attr.value
        if method in ASYNCPG_ONLY_METHODS and not self.sqlite_only:
            self._check(node, "driver")
        elif method in TRACED_METHODS or method in ASYNCPG_ONLY_METHODS:
            origin = self.model.handle_of(node.func.value, inferred=True)
            if origin is not None and origin.kind in TRACED_KINDS:
                self._check(node, "driver")
        elif self.check_text and self.model.is_text(node):
            self._check(node, "text")

    def _check(self, call: cst.Call, style: str) -> None:
        site = self.model.sql_site(call)
        if site is None or site.style != style:
            return
        branch = self.model.dialect_branch(call)
        if branch is not None and (branch[0] == "postgresql") != branch[1]:
            return  # a branch for another database (`else:` of `if url.startswith("postgres"):`)
        sql = site.sql
        if style == "text":
            sql = sql.with_binds_as_params()
            if not STATEMENT_START.match(sql.text):
                return
        try:
            pg_parser.parse_sql(sql.text)
            return
        except pg_parser.ParseError as error:
            message, index = error.args[0], error.args[1]
        tokens = sql.tokens()
        if _format_fields(sql.text, tokens):
            return
        if index is None:  # "at end of input": the parser names no position, the last token is where it ends
            at = len(tokens) - 1 if tokens else None
        else:
            at = next((i for i, t in enumerate(tokens) if t.start <= index < t.end), None)
        if at is not None and _beside_hole_or_in_list(sql, tokens, at):
            return
        token = tokens[at] if at is not None else None
        span = sql.span(token.start, token.end) if token is not None else None
        self.report(span or site.argument, f"PostgreSQL rejects this SQL: {message}")


def _format_fields(text: str, tokens: list[SqlToken]) -> bool:
    """The SQL has `{` ... `}` outside its literals: a `str.format` template, never PostgreSQL's SQL."""
    braces = [text[t.start : t.end] for t in tokens if t.name == "UNKNOWN" and text[t.start : t.end] in "{}"]
    return "{" in braces and "}" in braces[braces.index("{") :]


def _beside_hole_or_in_list(sql: SqlString, tokens: list[SqlToken], at: int) -> bool:
    """Whether the error is at or right after an f-string hole, or is `IN $n` (LDB103's finding)."""
    near = [sql.text[t.start : t.end] for t in tokens[max(at - 1, 0) : at + 1]]
    if HOLE in near:
        return True
    return tokens[at].name == "PARAM" and at > 0 and tokens[at - 1].name == "IN_P"
