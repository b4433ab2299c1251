"""LDB101 raw-connection-on-commit-drop."""

from __future__ import annotations

import re

import libcst as cst

from lintdb.cst_fixes import add_import, imported_name, wrap_in_transaction
from lintdb.cst_helpers import (
    dotted,
    leading_lines,
    python_string,
    statements,
    with_leading_lines,
)
from lintdb.diagnostics import Applicability
from lintdb.flow import Step, calls_in, walk
from lintdb.model.handles import ASYNCPG_CONNECTIONS, SA_CONNECTIONS, Handle
from lintdb.model.sql import with_query_holes
from lintdb.rule import FixSpec, Invalid, LintRule, Replace, Valid
from lintdb.sqltext import TempTable, dropped_tables, quote_identifier, temp_tables

SA_STATEMENTS = frozenset(
    {"execute", "scalar", "scalars", "stream", "stream_scalars", "exec_driver_sql", "get", "merge", "flush", "refresh"}
)
TEXT_SOURCES = frozenset({"sqlalchemy", "sqlalchemy.sql", "sqlalchemy.sql.expression"})


_LOAD = """
{imports}

async def load(session, records):
    conn = await session.connection()
    raw = await conn.get_raw_connection()
    driver = {driver}
{before}    await driver.execute("CREATE TEMP TABLE _tmp_x (LIKE x INCLUDING DEFAULTS) ON COMMIT DROP")
    await driver.copy_records_to_table("_tmp_x", records=records, columns=["id", "name"])
    await driver.execute("INSERT INTO x SELECT * FROM _tmp_x ON CONFLICT DO NOTHING")
"""

_LOAD_FIXED = """
{imports}

async def load(session, records):
    conn = await session.connection()
    raw = await conn.get_raw_connection()
    driver = {driver}
    await session.execute(text("DROP TABLE IF EXISTS _tmp_x"))
    await session.execute(text("CREATE TEMP TABLE _tmp_x (LIKE x INCLUDING DEFAULTS) ON COMMIT DROP"))
    await driver.copy_records_to_table("_tmp_x", records=records, columns=["id", "name"])
    await session.execute(text("INSERT INTO x SELECT * FROM _tmp_x ON CONFLICT DO NOTHING"))
"""

_PLAIN = """
import asyncpg{alias}


async def load(dsn, records):
    con = await {module}.connect(dsn)
    try:
{body}    finally:
        await con.close()
"""
_PLAIN_BODY = """        await con.execute("CREATE TEMP TABLE _tmp_x (LIKE x INCLUDING DEFAULTS) ON COMMIT DROP")
        await con.copy_records_to_table("_tmp_x", records=records, columns=["id", "name"])
        await con.execute("INSERT INTO x SELECT * FROM _tmp_x ON CONFLICT DO NOTHING")
"""


def borrowed_example(
    imports: str = "from sqlalchemy import text\n",
    driver: str = "raw.driver_connection",
    before: str = "",
    fixed: bool = False,
) -> str:
    """Case 1 of the design notes: a temp table loaded through a connection borrowed from an AsyncSession."""
    return (_LOAD_FIXED if fixed else _LOAD).format(imports=imports, driver=driver, before=before)


SEED_HELPER = """
from sqlalchemy.ext.asyncio import AsyncSession


async def bulk_insert(session: AsyncSession, table: str, records: list[tuple[int, str]]) -> None:
    raw = await (await session.connection()).get_raw_connection()
    driver = raw.dbapi_connection.driver_connection
    tmp = f"_tmp_{table}"
    await driver.execute(f"CREATE TEMP TABLE {tmp} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP")
    await driver.copy_records_to_table(tmp, records=records, columns=["id", "name"])
    await driver.execute(f"INSERT INTO {table} SELECT * FROM {tmp} ON CONFLICT DO NOTHING")
"""
SEED_HELPER_FIXED = """
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy import text


async def bulk_insert(session: AsyncSession, table: str, records: list[tuple[int, str]]) -> None:
    raw = await (await session.connection()).get_raw_connection()
    driver = raw.dbapi_connection.driver_connection
    tmp = f"_tmp_{table}"
    await session.execute(text(f"DROP TABLE IF EXISTS {tmp}"))
    await session.execute(text(f"CREATE TEMP TABLE {tmp} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP"))
    await driver.copy_records_to_table(tmp, records=records, columns=["id", "name"])
    await session.execute(text(f"INSERT INTO {table} SELECT * FROM {tmp} ON CONFLICT DO NOTHING"))
"""


def plain_example(alias: str = "", in_transaction: bool = False) -> str:
    """The same load on a plain asyncpg connection, optionally inside `async with con.transaction()`."""
    body = _PLAIN_BODY
    if in_transaction:
        body = "        async with con.transaction():\n" + "".join("    " + line + "\n" for line in body.splitlines())
    return _PLAIN.format(alias=f" as {alias}" if alias else "", module=alias or "asyncpg", body=body)


class RawConnectionOnCommitDrop(LintRule):
    """
    ## What it does
    Checks for `CREATE TEMP TABLE ... ON COMMIT DROP` executed on an asyncpg connection that has no
    transaction open: a driver connection borrowed from SQLAlchemy (`get_raw_connection()`, then
    `.driver_connection` or `.dbapi_connection.driver_connection`) before SQLAlchemy has run a statement,
    or a plain asyncpg connection outside `async with con.transaction()`.

    ## Why is this bad?
    Outside a transaction every statement commits on its own, so an `ON COMMIT DROP` table is dropped
    the moment it is created. The next statement (`copy_records_to_table`, `INSERT ... SELECT`) fails with
    `asyncpg.exceptions.UndefinedTableError: relation "_tmp_x" does not exist`. On a borrowed connection
    `async with session.begin()` or `engine.begin()` does not help: SQLAlchemy begins the driver's
    transaction lazily, at the first statement it runs itself.

    ## Example
    ```python
    raw = await (await session.connection()).get_raw_connection()
    driver = raw.driver_connection
    await driver.execute("CREATE TEMP TABLE _tmp_x (LIKE x) ON COMMIT DROP")
    await driver.copy_records_to_table("_tmp_x", records=records)
    await driver.execute("INSERT INTO x SELECT * FROM _tmp_x")
    ```

    Use instead:
    ```python
    raw = await (await session.connection()).get_raw_connection()
    driver = raw.driver_connection
    await session.execute(text("DROP TABLE IF EXISTS _tmp_x"))
    await session.execute(text("CREATE TEMP TABLE _tmp_x (LIKE x) ON COMMIT DROP"))
    await driver.copy_records_to_table("_tmp_x", records=records)
    await session.execute(text("INSERT INTO x SELECT * FROM _tmp_x"))
    ```

    Only the COPY stays on the raw connection; everything else runs in the session's transaction, so it
    commits and rolls back with the session, and the helper can run twice in one transaction. On a
    plain asyncpg connection, run the statements inside `async with con.transaction():`.

    Two popular fixes are wrong: dropping `ON COMMIT DROP` makes every statement autocommit (a
    `session.rollback()` keeps the rows), and a bare `driver.transaction()` on a borrowed connection is
    a separate transaction that also survives `session.rollback()`.

    An asyncpg connection is also known by its use: a name the function calls `fetchrow`, `fetchval`,
    `copy_records_to_table` or another method only asyncpg connections have on (with SQL or a table), or
    runs `$1` SQL on, is one even when it comes from the project's own factory (`conn = await
    get_conn()`) in a file that never imports asyncpg; `execute` and `fetch` alone tell nothing (SQLAlchemy,
    `databases`, aiosqlite and psycopg have them too). Files importing a library with asyncpg's method
    names (aiochclient, aio-databases, mautrix, pyodbc, aioodbc, psqlpy) infer nothing.

    A connection entered from the project's own context manager (`async with get_connection() as conn`)
    is not judged: that context manager may open the transaction.

    ## Fix safety
    Both fixes are unsafe: they change which transaction the statements run in (that is the point), and
    statements that passed parameters to asyncpg cannot be moved to `text()` unchanged. f-string SQL
    keeps its interpolation inside `text()` (the holes are table names, identifiers, not parameters).
    When the session cannot be traced, or the created table's name cannot be written back, no fix is
    offered and the message says what to do.

    ## References
    - [SQLAlchemy: Using the raw asyncpg connection](https://docs.sqlalchemy.org/en/20/orm/extensions/asyncio.html#using-awaitable-only-driver-methods-in-connection-pool-and-other-events)
    - [asyncpg: Transactions](https://magicstack.github.io/asyncpg/current/api/index.html#transactions)
    - [PostgreSQL: CREATE TABLE, ON COMMIT](https://www.postgresql.org/docs/current/sql-createtable.html)
    """

    CODE = "LDB101"
    NAME = "raw-connection-on-commit-drop"
    MESSAGE = "`ON COMMIT DROP` temp table on an asyncpg connection with no transaction is dropped at once"
    FIX_TITLE = "Run the statements in the session's transaction"
    FIX_AVAILABILITY = "Sometimes"

    VALID = (
        Valid(borrowed_example(before='    await session.execute(text("SELECT 1"))\n')),
        Valid(borrowed_example(fixed=True)),
        Valid(plain_example(in_transaction=True)),
        Valid("""
            from sqlalchemy import text


            async def load(session):
                await session.execute(text("DROP TABLE IF EXISTS _tmp_x"))
                await session.execute(text("CREATE TEMP TABLE _tmp_x (LIKE x) ON COMMIT DROP"))
            """),
        Valid("""
            async def load(con):
                await con.execute("CREATE TEMP TABLE _tmp_x (LIKE x) ON COMMIT DROP")
            """),
        # A transaction the caller opens (shape 9): every call of the helper in the module is inside one.
        Valid("""
            import asyncpg


            async def stage(con, records):
                await con.execute("CREATE TEMP TABLE _t (id int) ON COMMIT DROP")
                await con.copy_records_to_table("_t", records=records)


            async def main(dsn, records):
                con = await asyncpg.connect(dsn)
                async with con.transaction():
                    await stage(con, records)
            """),
        # A connection entered from the project's own context manager (shape 8): it may have opened the
        # transaction (`async with pool.acquire() as con, con.transaction(): yield con`), so it is not judged.
        Valid("""
            from app.db import connection


            async def stage(dsn, records):
                async with connection(dsn) as conn:
                    await conn.execute("CREATE TEMP TABLE _t (id int) ON COMMIT DROP")
                    await conn.copy_records_to_table("_t", records=records)
            """),
    )
    INVALID = (
        Invalid(
            borrowed_example(),
            positions=[(8, 11)],
            fixed=borrowed_example(fixed=True),
            applicability=Applicability.UNSAFE,
        ),
        Invalid(
            borrowed_example(imports="import json\n", driver="raw.dbapi_connection.driver_connection"),
            positions=[(8, 11)],
            fixed=borrowed_example(
                imports="import json\nfrom sqlalchemy import text\n",
                driver="raw.dbapi_connection.driver_connection",
                fixed=True,
            ),
            applicability=Applicability.UNSAFE,
        ),
        Invalid(
            plain_example(),
            positions=[(7, 15)],
            fixed=plain_example(in_transaction=True),
            applicability=Applicability.UNSAFE,
        ),
        Invalid(
            plain_example(alias="pg"),
            positions=[(7, 15)],
            fixed=plain_example(alias="pg", in_transaction=True),
            applicability=Applicability.UNSAFE,
        ),
        Invalid(
            """
            from sqlalchemy import text


            async def load(engine, records):
                async with engine.connect() as conn:
                    raw = await conn.get_raw_connection()
                    await raw.driver_connection.execute("create temporary table _t on commit drop as select 1 as id")
                    await raw.driver_connection.copy_records_to_table("_t", records=records)
            """,
            positions=[(7, 15)],
            fixed="""
            from sqlalchemy import text


            async def load(engine, records):
                async with engine.connect() as conn:
                    raw = await conn.get_raw_connection()
                    await conn.execute(text("DROP TABLE IF EXISTS _t"))
                    await conn.execute(text("create temporary table _t on commit drop as select 1 as id"))
                    await raw.driver_connection.copy_records_to_table("_t", records=records)
            """,
            applicability=Applicability.UNSAFE,
        ),
        Invalid(
            """
            async def load(raw, records):
                await raw.driver_connection.execute("CREATE TEMP TABLE _t (id int) ON COMMIT DROP")
                await raw.driver_connection.copy_records_to_table("_t", records=records)
            """,
            positions=[(2, 11)],
        ),
        # A connection from a project factory in a file that never imports asyncpg, known by its use.
        Invalid(
            """
            from app.db import get_conn


            async def stage(records):
                conn = await get_conn()
                await conn.execute("CREATE TEMP TABLE _t (id int) ON COMMIT DROP")
                await conn.copy_records_to_table("_t", records=records)
            """,
            positions=[(6, 11)],
            fixed="""
            from app.db import get_conn


            async def stage(records):
                conn = await get_conn()
                async with conn.transaction():
                    await conn.execute("CREATE TEMP TABLE _t (id int) ON COMMIT DROP")
                    await conn.copy_records_to_table("_t", records=records)
            """,
            applicability=Applicability.UNSAFE,
        ),
        # An f-string hole that stands for a whole query (shape 10) and a connection a base class sets
        # (shape 12): both still judged.
        Invalid(
            """
            import asyncpg


            class Base:
                async def setup(self, dsn):
                    self.con = await asyncpg.connect(dsn)


            class Loader(Base):
                async def load(self, query):
                    await self.con.execute(f"CREATE TEMP TABLE _t ON COMMIT DROP AS {query}")
                    return await self.con.fetch("SELECT * FROM _t")
            """,
            positions=[(11, 15)],
            fixed="""
            import asyncpg


            class Base:
                async def setup(self, dsn):
                    self.con = await asyncpg.connect(dsn)


            class Loader(Base):
                async def load(self, query):
                    async with self.con.transaction():
                        await self.con.execute(f"CREATE TEMP TABLE _t ON COMMIT DROP AS {query}")
                        return await self.con.fetch("SELECT * FROM _t")
            """,
            applicability=Applicability.UNSAFE,
        ),
        # The seed's helper: f-string SQL whose table names are identifiers, on
        # `(await session.connection()).get_raw_connection()`; the interpolation is kept inside `text()`.
        Invalid(
            SEED_HELPER,
            positions=[(8, 11)],
            fixed=SEED_HELPER_FIXED,
            applicability=Applicability.UNSAFE,
        ),
    )

    def visit_Module(self, node: cst.Module) -> None:
        self.text_name, self.import_anchor = imported_name(node, TEXT_SOURCES, "text")

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node.asynchronous is None:
            return
        started: set[str] = set()
        steps = list(walk(statements(node.body)))
        for step in steps:
            for call in calls_in(step.statement):
                if not isinstance(call.func, cst.Attribute) or (receiver := dotted(call.func.value)) is None:
                    continue
                method = call.func.attr.value
                handle = self.model.handle_of(call.func.value, inferred=method == "execute")
                if method in SA_STATEMENTS and (
                    (handle is not None and handle.kind in SA_CONNECTIONS)
                    or any(h.session == receiver for h in self.model.handles_at(call).values())
                ):
                    started.add(receiver)
                if method == "execute" and handle is not None and handle.kind in ASYNCPG_CONNECTIONS:
                    self._check(steps, step, call, receiver, handle, started)

    def _check(
        self, steps: list[Step], step: Step, call: cst.Call, receiver: str, origin: Handle, started: set[str]
    ) -> None:
        sql = self.model.sql_of_call(call)
        created = [t for t in temp_tables(with_query_holes(sql.text)) if t.on_commit_drop] if sql else []
        if not created:
            return
        borrowed = origin.kind == "borrowed-asyncpg"
        if origin.managed:
            return  # entered from the project's own context manager, which may open the transaction
        if self.model.in_transaction(call, receiver) or (borrowed and {origin.sa, origin.session} & started):
            return
        advice = ""
        if borrowed:
            fix = self._route_fix(steps, step, receiver, origin, created[0])
            where = "borrowed from SQLAlchemy runs outside the session's transaction (`session.begin()` does not help)"
            if fix is None:
                advice = (
                    "; run the DROP, the CREATE and the INSERT through the session's `execute(text(...))` and keep "
                    "only the COPY on the raw connection"
                )
        else:
            fix = wrap_in_transaction(step, receiver, {receiver}, Applicability.UNSAFE)
            where = f"outside `async with {receiver}.transaction()` commits at once"
        self.report(
            call,
            f"`CREATE TEMP TABLE ... ON COMMIT DROP` on an asyncpg connection {where}: "
            f"the table is dropped before the next statement (`UndefinedTableError`){advice}",
            fix=fix,
        )

    def _route_fix(
        self, steps: list[Step], create: Step, receiver: str, origin: Handle, table: TempTable
    ) -> FixSpec | None:
        title = "Run the DDL and INSERT through `session.execute(text(...))`; keep only the COPY on the raw connection"
        executor = origin.session or origin.sa
        executes = [(s, c) for s in steps for c in calls_in(s.statement) if dotted(c.func) == f"{receiver}.execute"]
        create_call = next(c for s, c in executes if s is create)
        drop = _guard_sql(table, create_call.args[0].value) if create_call.args else None
        if (
            executor is None
            or self.text_name is None
            or drop is None
            or any(len(c.args) != 1 or c.args[0].keyword for _, c in executes)
        ):
            return None
        changes: list[Replace] = [
            Replace(c, _execute(executor, self.text_name, c.args[0].value)) for s, c in executes if s is not create
        ]
        guarded = table.name is not None and any(
            (table.schema, table.name) in dropped_tables(text.text, if_exists=True)
            for s, c in executes[: [s for s, _ in executes].index(create)]
            if (text := self.model.sql_of_call(c))
        )
        new_create = create.statement.deep_replace(
            create_call, _execute(executor, self.text_name, create_call.args[0].value)
        )
        assert isinstance(new_create, cst.BaseStatement)
        lines: list[cst.BaseStatement] = []
        if not guarded:
            guard = cst.parse_statement(f"await {executor}.execute({self.text_name}({drop}))\n")
            lines.append(with_leading_lines(guard, leading_lines(create.statement)))
            new_create = with_leading_lines(new_create, ())
        changes.append(Replace(create.statement, cst.FlattenSentinel([*lines, new_create])))
        if self.import_anchor is not None:
            changes.append(add_import(self.import_anchor, "from sqlalchemy import text"))
        return FixSpec(tuple(changes), Applicability.UNSAFE, title)


def _guard_sql(table: TempTable, sql: cst.BaseExpression) -> str | None:
    """The `DROP TABLE IF EXISTS` for the created table as Python source: a literal for a known name, or an
    f-string with the same interpolation when the CREATE is an f-string whose table name has holes."""
    if table.name is not None:
        return python_string("DROP TABLE IF EXISTS " + quote_identifier(table.schema, table.name))
    if not isinstance(sql, cst.FormattedString) or "\n" in sql.start + sql.end:
        return None
    code = cst.Module([]).code_for_node(sql)
    match = _CREATED_NAME.search(code[len(sql.start) : len(code) - len(sql.end)])
    return f"{sql.start}DROP TABLE IF EXISTS {match.group(1)}{sql.end}" if match else None


_CREATED_NAME = re.compile(
    r"(?i)\bCREATE\s+(?:(?:GLOBAL|LOCAL)\s+)?TEMP(?:ORARY)?\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?((?:\{[^{}]*\}|[\w.$\"])+)"
)


def _execute(executor: str, text_name: str, sql: cst.BaseExpression) -> cst.Call:
    return cst.Call(
        cst.Attribute(cst.parse_expression(executor), cst.Name("execute")),
        [cst.Arg(cst.Call(cst.Name(text_name), [cst.Arg(sql)]))],
    )
