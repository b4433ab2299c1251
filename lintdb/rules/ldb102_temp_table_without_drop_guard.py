"""LDB102 temp-table-without-drop-guard."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from lintdb.cst_helpers import (
    dotted,
    python_string,
    statements,
    unwrap_await,
    with_leading_lines,
)
from lintdb.diagnostics import Applicability
from lintdb.flow import Step, calls_in, walk
from lintdb.model.handles import ASYNCPG_CONNECT, ASYNCPG_CONNECTIONS
from lintdb.rule import FixSpec, Invalid, LintRule, Replace, Valid
from lintdb.sqltext import (
    TempTable,
    dropped_tables,
    quote_identifier,
    temp_tables,
)

_POOL = """
{imports}


async def stage(pool, ids):
    async with {acquire} as con:
{body}        await con.executemany("INSERT INTO _stage VALUES ($1)", [(i,) for i in ids])
        return await con.fetchval("SELECT count(*) FROM _stage")
"""
_SESSION = """
from sqlalchemy import text


async def stage(session, ids):
{body}    for i in ids:
        await session.execute(text("INSERT INTO _stage VALUES (:i)"), {{"i": i}})
    return (await session.execute(text("SELECT count(*) FROM _stage"))).scalar_one()
"""
_CREATE_POOL = '        await con.execute("CREATE TEMP TABLE _stage (id int)")\n'
_GUARD_POOL = '        await con.execute("DROP TABLE IF EXISTS _stage")\n'
_CREATE_SESSION = '    await session.execute(text("CREATE TEMP TABLE _stage (id int) ON COMMIT DROP"))\n'
_GUARD_SESSION = '    await session.execute(text("DROP TABLE IF EXISTS _stage"))\n'


_CLAUSE = """
import asyncpg


async def stage(pool, ids, source="SELECT 0 AS id WHERE false"):
    async with pool.acquire() as con:
{guard}        await con.execute(f"CREATE TEMP TABLE _stage AS {{source}}")
        await con.executemany("INSERT INTO _stage VALUES ($1)", [(i,) for i in ids])
        return await con.fetchval("SELECT count(*) FROM _stage")
"""


def clause_example(guard: bool = False) -> str:
    """Stages ids in a temp table made from a query an f-string hole stands for (shape 10)."""
    return _CLAUSE.format(guard=_GUARD_POOL if guard else "")


def pool_example(body: str, factory: bool = False) -> str:
    """Stages ids in a temp table on a pooled asyncpg connection (``body`` creates it); with ``factory``,
    acquired through the project's own context manager in a file that never imports asyncpg (shape 8)."""
    if factory:
        return _POOL.format(imports="from app.db import connection", acquire="connection(pool)", body=body)
    return _POOL.format(imports="import asyncpg", acquire="pool.acquire()", body=body)


def session_example(body: str) -> str:
    """Stages ids in a temp table through a SQLAlchemy session (``body`` creates it)."""
    return _SESSION.format(body=body)


class TempTableWithoutDropGuard(LintRule):
    """
    ## What it does
    Checks for `CREATE TEMP TABLE <name>` with no `DROP TABLE IF EXISTS <name>` before it in the same
    function: without `ON COMMIT DROP` on any connection the function does not open itself, and with
    `ON COMMIT DROP` through a SQLAlchemy session or connection (`execute(text(...))`).

    ## Why is this bad?
    A temp table lives as long as its server session. Pools hand the same server session out again:
    asyncpg's pool reset (`pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`) and
    SQLAlchemy's reset-on-return (a rollback) both keep it, so after one call that did not drop it
    (an exception is enough) the next call raises `DuplicateTableError: relation "_stage" already
    exists`. With `ON COMMIT DROP`, calling the helper twice in one session transaction fails the same
    way, because the commit has not come yet.

    ## Example
    ```python
    async with pool.acquire() as con:
        await con.execute("CREATE TEMP TABLE _stage (id int)")
    ```

    Use instead:
    ```python
    async with pool.acquire() as con:
        await con.execute("DROP TABLE IF EXISTS _stage")
        await con.execute("CREATE TEMP TABLE _stage (id int)")
    ```

    Not reported: tables dropped in a `finally:` block, `ON COMMIT DROP` on an asyncpg connection
    (inside `async with con.transaction()` it is dropped at the end of the block; outside one, LDB101
    reports it), connections the function opens with `asyncpg.connect()` itself, and `CREATE TEMP
    TABLE IF NOT EXISTS`, which raises nothing but on a reused connection still holds the previous
    call's rows.

    An asyncpg connection is also known by its use: a name the function calls `fetchrow`, `fetchval`,
    `copy_records_to_table` or another method only asyncpg connections have on (with SQL or a table), or
    runs `$1` SQL on, is one even when it comes from the project's own factory (`conn = await
    get_conn()`) in a file that never imports asyncpg; `execute` and `fetch` alone tell nothing (SQLAlchemy,
    `databases`, aiosqlite and psycopg have them too). Files importing a library with asyncpg's method
    names (aiochclient, aio-databases, mautrix, pyodbc, aioodbc, psqlpy) infer nothing.

    ## Fix safety
    The fix is safe: it drops a leftover of the same name first, through the same connection and in
    the same style, and a leftover temp table is never data anyone can still use.

    ## References
    - [PostgreSQL: CREATE TABLE, TEMPORARY](https://www.postgresql.org/docs/current/sql-createtable.html)
    - [asyncpg: Connection.get_reset_query](https://magicstack.github.io/asyncpg/current/api/index.html#asyncpg.connection.Connection.get_reset_query)
    - [SQLAlchemy: Reset On Return](https://docs.sqlalchemy.org/en/20/core/pooling.html#reset-on-return)
    """

    CODE = "LDB102"
    NAME = "temp-table-without-drop-guard"
    MESSAGE = (
        "A temp table created without dropping a leftover first raises `DuplicateTableError` on a reused connection"
    )
    FIX_TITLE = "Insert `DROP TABLE IF EXISTS` before it"
    FIX_AVAILABILITY = "Sometimes"

    VALID = (
        Valid(pool_example(_GUARD_POOL + _CREATE_POOL)),
        Valid(session_example(_GUARD_SESSION + _CREATE_SESSION)),
        Valid("""
            import asyncpg


            async def stage(pool, ids):
                async with pool.acquire() as con:
                    await con.execute("CREATE TEMP TABLE _stage (id int)")
                    try:
                        await con.executemany("INSERT INTO _stage VALUES ($1)", [(i,) for i in ids])
                        return await con.fetchval("SELECT count(*) FROM _stage")
                    finally:
                        await con.execute("DROP TABLE _stage")
            """),
        Valid("""
            import asyncpg


            async def stage(pool, ids):
                async with pool.acquire() as con:
                    async with con.transaction():
                        await con.execute("CREATE TEMP TABLE _stage (id int) ON COMMIT DROP")
                        await con.executemany("INSERT INTO _stage VALUES ($1)", [(i,) for i in ids])
                        return await con.fetchval("SELECT count(*) FROM _stage")
            """),
        Valid("""
            import asyncpg


            async def stage(dsn, ids):
                con = await asyncpg.connect(dsn)
                try:
                    await con.execute("CREATE TEMP TABLE _stage (id int)")
                    await con.executemany("INSERT INTO _stage VALUES ($1)", [(i,) for i in ids])
                    return await con.fetchval("SELECT count(*) FROM _stage")
                finally:
                    await con.close()
            """),
        Valid(pool_example(_CREATE_POOL.replace("TEMP TABLE", "TEMP TABLE IF NOT EXISTS"))),
        Valid(clause_example(guard=True)),
        # The project's connection used with `execute` only (an aiosqlite connection, say): not known to
        # be asyncpg, not judged.
        Valid("""
            from app.db import connection


            async def stage(ids):
                async with connection() as db:
                    await db.execute("CREATE TEMP TABLE _stage (id int)")
                    await db.executemany("INSERT INTO _stage VALUES (?)", [(i,) for i in ids])
            """),
    )
    INVALID = (
        Invalid(
            pool_example(_CREATE_POOL),
            positions=[(6, 15)],
            fixed=pool_example(_GUARD_POOL + _CREATE_POOL),
            applicability=Applicability.SAFE,
        ),
        Invalid(
            session_example(_CREATE_SESSION),
            positions=[(5, 11)],
            fixed=session_example(_GUARD_SESSION + _CREATE_SESSION),
            applicability=Applicability.SAFE,
        ),
        Invalid(
            clause_example(), positions=[(6, 15)], fixed=clause_example(guard=True), applicability=Applicability.SAFE
        ),
        # A connection from the project's context manager, known by its use (`fetchval`; shape 8).
        Invalid(
            pool_example(_CREATE_POOL, factory=True),
            positions=[(6, 15)],
            fixed=pool_example(_GUARD_POOL + _CREATE_POOL, factory=True),
            applicability=Applicability.SAFE,
        ),
    )

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        steps = list(walk(statements(node.body)))
        own: set[str] = set()
        finally_drops = {
            t
            for step in steps
            if isinstance(step.statement, (cst.Try, cst.TryStar)) and step.statement.finalbody
            for t in self._drops(statements(step.statement.finalbody.body))
        }
        guarded: set[tuple[str | None, str]] = set()
        for step in steps:
            for call in calls_in(step.statement):
                statement = self._statement(call)
                if statement is None:
                    continue
                sql, style = statement
                guarded |= set(dropped_tables(sql, if_exists=True))
                for table in temp_tables(sql):
                    if (
                        table.name is not None
                        and (table.schema, table.name) not in guarded | finally_drops
                        and not table.if_not_exists
                    ):
                        self._check(step, call, style, table, own)
            own |= self._opened(step.statement)

    def _statement(self, call: cst.Call) -> tuple[str, str] | None:
        """(SQL, style) of `x.execute("...")` (asyncpg), `x.execute(text("..."))` or `x.exec_driver_sql("...")`."""
        if not isinstance(call.func, cst.Attribute) or call.func.attr.value not in ("execute", "exec_driver_sql"):
            return None
        site = self.model.sql_site(call)
        return (site.sql.text, site.style) if site is not None else None

    def _drops(self, body: Sequence[cst.BaseStatement]) -> set[tuple[str | None, str]]:
        """Tables the statements drop (with or without IF EXISTS)."""
        found: set[tuple[str | None, str]] = set()
        for step in walk(body):
            for call in calls_in(step.statement):
                statement = self._statement(call)
                if statement is not None:
                    found |= set(dropped_tables(statement[0]))
        return found

    def _opened(self, statement: cst.BaseStatement) -> set[str]:
        """Names the statement binds to a connection opened with `asyncpg.connect()`."""
        if not isinstance(statement, cst.SimpleStatementLine):
            return set()
        return {
            name
            for small in statement.body
            if isinstance(small, cst.Assign)
            and isinstance(value := unwrap_await(small.value), cst.Call)
            and self.qualified(value.func) & ASYNCPG_CONNECT
            for target in small.targets
            if (name := dotted(target.target))
        }

    def _check(self, step: Step, call: cst.Call, style: str, table: TempTable, own: set[str]) -> None:
        assert isinstance(call.func, cst.Attribute) and table.name is not None
        receiver = dotted(call.func.value)
        origin = self.model.handle_of(call.func.value, inferred=True)
        asyncpg = origin is not None and origin.kind in ASYNCPG_CONNECTIONS
        if receiver is None or receiver in own:
            return
        if table.on_commit_drop and style == "driver" and asyncpg:
            return  # dropped at the end of its asyncpg transaction, or LDB101's finding outside one
        if style == "driver" and call.func.attr.value == "execute" and not asyncpg:
            return  # not known to be asyncpg: a DB-API cursor, say
        name = quote_identifier(table.schema, table.name)
        why = (
            "called twice in one transaction, `ON COMMIT DROP` has not fired yet"
            if table.on_commit_drop
            else "a pooled connection keeps temp tables"
        )
        self.report(
            call,
            f"`CREATE TEMP TABLE {name}` without `DROP TABLE IF EXISTS {name}` before it: {why}, "
            "so the next call raises `DuplicateTableError`",
            fix=self._fix(step, call, name),
        )

    def _fix(self, step: Step, call: cst.Call, name: str) -> FixSpec | None:
        """`DROP TABLE IF EXISTS` in a statement of the same shape, right before the CREATE's statement."""
        line = step.statement
        if not (
            isinstance(line, cst.SimpleStatementLine)
            and len(line.body) == 1
            and isinstance(line.body[0], cst.Expr)
            and unwrap_await(line.body[0].value) is call
        ):
            return None
        sql = cst.SimpleString(python_string(f"DROP TABLE IF EXISTS {name}"))
        first = call.args[0]
        new_value: cst.BaseExpression = (
            first.value.with_changes(args=[cst.Arg(sql)]) if isinstance(first.value, cst.Call) else sql
        )
        guard = line.deep_replace(
            call, call.with_changes(args=[first.with_changes(value=new_value, comma=cst.MaybeSentinel.DEFAULT)])
        )
        assert isinstance(guard, cst.BaseStatement)
        return FixSpec(
            (Replace(line, cst.FlattenSentinel([guard, with_leading_lines(line, ())])),),
            Applicability.SAFE,
            f"Insert `DROP TABLE IF EXISTS {name}` before it",
        )
