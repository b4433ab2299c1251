"""LDB104 cursor-outside-transaction."""

from __future__ import annotations

import libcst as cst

from lintdb.cst_fixes import wrap_in_transaction
from lintdb.cst_helpers import dotted, statements
from lintdb.diagnostics import Applicability
from lintdb.flow import Step, calls_in, walk
from lintdb.model.handles import ASYNCPG_CONNECTIONS
from lintdb.rule import Invalid, LintRule, Valid

_PLAIN = """
import asyncpg


async def names(dsn):
    con = await asyncpg.connect(dsn)
    try:
{body}    finally:
        await con.close()
"""


_CALLER = """
import asyncpg


async def read(con: asyncpg.Connection):
{helper}


async def names(dsn):
    con = await asyncpg.connect(dsn)
    try:
{caller}
    finally:
        await con.close()
"""
_CURSOR_NAMES = 'return [r["name"] async for r in con.cursor("SELECT name FROM t ORDER BY id")]'


def caller_example(helper_opens: bool = False, caller_opens: bool = False) -> str:
    """A helper reads names through a cursor on the connection its caller passes (shape 9: the caller
    may be the one that opens the transaction)."""
    helper = f"    {_CURSOR_NAMES}"
    if helper_opens:
        helper = f"    async with con.transaction():\n    {helper}"
    caller = "        return await read(con)"
    if caller_opens:
        caller = f"        async with con.transaction():\n    {caller}"
    return _CALLER.format(helper=helper, caller=caller)


_INHERITED = """
import asyncpg


class Database:
    async def open(self, dsn):
        self.con = await asyncpg.connect(dsn)


class Names(Database):
    async def read(self):
{read}


async def names(dsn):
    reader = Names()
    await reader.open(dsn)
    try:
        return await reader.read()
    finally:
        await reader.con.close()
"""


def inherited_example(in_transaction: bool = False) -> str:
    """A cursor on `self.con`, which the base class's `open()` sets (shape 12: a handle in an attribute)."""
    read = '        return [r["name"] async for r in self.con.cursor("SELECT name FROM t ORDER BY id")]'
    if in_transaction:
        read = "        async with self.con.transaction():\n    " + read
    return _INHERITED.format(read=read)


_FACTORY = """
from app.db import connect


async def names(dsn):
    con = await connect(dsn)
    try:
        if await con.fetchval("SELECT count(*) FROM t") == 0:
            return []
{read}
    finally:
        await con.close()
"""
_FACTORY_READ = '        return [r["name"] async for r in con.cursor("SELECT name FROM t ORDER BY id")]'


def factory_example(in_transaction: bool = False) -> str:
    """A cursor on a connection from the project's own factory in a file that never imports asyncpg,
    known by its use (`fetchval`; shape 8)."""
    read = _FACTORY_READ
    if in_transaction:
        read = "        async with con.transaction():\n    " + read
    return _FACTORY.format(read=read)


def cursor_example(body: str) -> str:
    """A function that reads table `t` through an asyncpg cursor (``body`` is indented eight spaces)."""
    return _PLAIN.format(body=body)


_LOOP = """        found = []
        async for row in con.cursor("SELECT name FROM t ORDER BY id", prefetch=2):
            found.append(row["name"])
        return found
"""
_LOOP_FIXED = """        found = []
        async with con.transaction():
            async for row in con.cursor("SELECT name FROM t ORDER BY id", prefetch=2):
                found.append(row["name"])
        return found
"""
_FETCH = """        cur = await con.cursor("SELECT name FROM t ORDER BY id")
        first = await cur.fetch(2)
        rest = await cur.fetch(10)
        return [r["name"] for r in first + rest]
"""
_FETCH_FIXED = """        async with con.transaction():
            cur = await con.cursor("SELECT name FROM t ORDER BY id")
            first = await cur.fetch(2)
            rest = await cur.fetch(10)
        return [r["name"] for r in first + rest]
"""
_AFTER_BLOCK = """        async with con.transaction():
            cur = await con.cursor("SELECT name FROM t ORDER BY id")
            first = await cur.fetch(2)
        rest = await cur.fetch(10)
        return [r["name"] for r in first + rest]
"""
_PREPARED = """        stmt = await con.prepare("SELECT name FROM t ORDER BY id")
        return [row["name"] async for row in stmt.cursor()]
"""
_PREPARED_FIXED = """        stmt = await con.prepare("SELECT name FROM t ORDER BY id")
        async with con.transaction():
            return [row["name"] async for row in stmt.cursor()]
"""


class CursorOutsideTransaction(LintRule):
    """
    ## What it does
    Checks for asyncpg cursors (`con.cursor(...)`, `stmt.cursor(...)` on a prepared statement) created
    outside `async with con.transaction():`, and cursors used after the transaction block that created
    them has ended.

    ## Why is this bad?
    A PostgreSQL cursor only lives inside a transaction. asyncpg does not open one for you, so the
    cursor raises `asyncpg.exceptions.NoActiveSQLTransactionError: cursor cannot be created outside of a
    transaction` (for `await con.cursor(...)` at once, for `async for` at the first row). A cursor
    created inside the block and fetched from after it fails the same way at the fetch.

    ## Example
    ```python
    async for row in con.cursor("SELECT name FROM t"):
        print(row["name"])
    ```

    Use instead:
    ```python
    async with con.transaction():
        async for row in con.cursor("SELECT name FROM t"):
            print(row["name"])
    ```

    SQLAlchemy's `AsyncConnection.stream()` begins a transaction itself and is not affected.

    An asyncpg connection is also known by its use: a name the function calls `fetchrow`, `fetchval`,
    `copy_records_to_table` or another method only asyncpg connections have on (with SQL or a table), or
    runs `$1` SQL on, is one even when it comes from the project's own factory (`conn = await
    get_conn()`) in a file that never imports asyncpg; `execute` and `fetch` alone tell nothing (SQLAlchemy,
    `databases`, aiosqlite and psycopg have them too). Files importing a library with asyncpg's method
    names (aiochclient, aio-databases, mautrix, pyodbc, aioodbc, psqlpy) infer nothing.

    A connection entered from the project's own context manager (`async with get_connection() as conn`)
    is not judged: that context manager may open the transaction.

    ## Fix safety
    The fix is safe: it wraps the statements that create and use the cursor in a transaction, which the
    cursor needs in order to work at all. A cursor used after its block gets no fix: where its rows
    are needed is for you to decide.

    ## References
    - [asyncpg: Cursors](https://magicstack.github.io/asyncpg/current/api/index.html#cursors)
    - [PostgreSQL: DECLARE](https://www.postgresql.org/docs/current/sql-declare.html)
    """

    CODE = "LDB104"
    NAME = "cursor-outside-transaction"
    MESSAGE = "asyncpg cursor outside a transaction raises `NoActiveSQLTransactionError`"
    FIX_TITLE = "Run the statements inside `async with con.transaction():`"
    FIX_AVAILABILITY = "Always"

    VALID = (
        Valid(cursor_example(_LOOP_FIXED)),
        Valid(cursor_example(_FETCH_FIXED)),
        Valid("""
            async def names(engine):
                async with engine.connect() as conn:
                    result = await conn.stream(text("SELECT name FROM t"))
                    return [row.name async for row in result]
            """),
        Valid(caller_example(caller_opens=True)),
        Valid(inherited_example(in_transaction=True)),
        # A connection entered from the project's own context manager (shape 8): it may have opened the
        # transaction (`async with pool.acquire() as con, con.transaction(): yield con`), so it is not judged.
        Valid("""
            from app.db import connection


            async def names(dsn):
                async with connection(dsn) as con:
                    if await con.fetchval("SELECT count(*) FROM t") == 0:
                        return []
                    return [r["name"] async for r in con.cursor("SELECT name FROM t ORDER BY id")]
            """),
        # A multi-driver helper's raw connection: `fetchrow` on the asyncpg branch, a DB-API `cursor()` with
        # no query (which asyncpg's never is) on the others: not inferred to be asyncpg's.
        Valid("""
            async def first(raw, scheme, query):
                if scheme == "postgresql":
                    return await raw.fetchrow(query)
                cursor = await raw.cursor()
                await cursor.execute(query)
                return await cursor.fetchone()
            """),
        Valid("""
            def names(dbapi_connection):
                cur = dbapi_connection.cursor()
                cur.execute("SELECT name FROM t")
                return cur.fetchall()
            """),
    )
    INVALID = (
        Invalid(
            cursor_example(_LOOP),
            positions=[(8, 26)],
            fixed=cursor_example(_LOOP_FIXED),
            applicability=Applicability.SAFE,
        ),
        Invalid(
            cursor_example(_FETCH),
            positions=[(7, 21)],
            fixed=cursor_example(_FETCH_FIXED),
            applicability=Applicability.SAFE,
        ),
        Invalid(
            cursor_example(_PREPARED),
            positions=[(8, 46)],
            fixed=cursor_example(_PREPARED_FIXED),
            applicability=Applicability.SAFE,
        ),
        Invalid(cursor_example(_AFTER_BLOCK), positions=[(10, 22)]),
        Invalid(
            caller_example(),
            positions=[(5, 38)],
            fixed=caller_example(helper_opens=True),
            applicability=Applicability.SAFE,
        ),
        Invalid(
            inherited_example(),
            positions=[(11, 42)],
            fixed=inherited_example(in_transaction=True),
            applicability=Applicability.SAFE,
        ),
        # A connection from the project's factory, known by its use (shape 8).
        Invalid(
            factory_example(),
            positions=[(9, 42)],
            fixed=factory_example(in_transaction=True),
            applicability=Applicability.SAFE,
        ),
    )

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node.asynchronous is None:
            return
        closed: dict[str, cst.With] = {}  # cursor name -> the transaction block it was created in
        for step in walk(statements(node.body)):
            self._check_closed(step, closed)
            for call in calls_in(step.statement):
                if isinstance(call.func, cst.Attribute) and call.func.attr.value == "cursor":
                    block = self._check(step, call, call.func.value)
                    target = _assigned_name(step.statement)
                    if block is not None and target is not None:
                        closed[target] = block

    def _check_closed(self, step: Step, closed: dict[str, cst.With]) -> None:
        """Report a cursor used on this statement's own line(s) outside the block that created it."""
        uses: list[tuple[cst.CSTNode, str | None]] = [
            (c, dotted(c.func.value)) for c in calls_in(step.statement) if isinstance(c.func, cst.Attribute)
        ]
        if isinstance(step.statement, cst.For):
            uses.append((step.statement.iter, dotted(step.statement.iter)))
        for use, name in uses:
            if name in closed and closed[name] not in step.withs:
                self.report(
                    use,
                    f"asyncpg cursor `{name}` used after its transaction block ended: "
                    "it raises `NoActiveSQLTransactionError`; use it inside the block",
                )
        assigned = _assigned_name(step.statement)
        if assigned is not None:
            closed.pop(assigned, None)

    def _check(self, step: Step, call: cst.Call, owner_node: cst.BaseExpression) -> cst.With | None:
        """Report a cursor created outside a transaction; return the transaction block it is created in."""
        owner = self.model.handle_of(owner_node, inferred=True)
        if owner is None or owner.managed:  # a project's context manager may open the transaction
            return None
        connection = (
            dotted(owner_node)
            if owner.kind in ASYNCPG_CONNECTIONS
            else owner.connection
            if owner.kind == "asyncpg-statement"
            else None
        )
        if connection is None:
            return None
        block = self.model.transaction_block(call, connection)
        if block is not None or self.model.in_transaction(call, connection):
            return block
        names = {connection}
        if isinstance(step.statement, cst.SimpleStatementLine):
            names |= {
                n
                for s in step.statement.body
                if isinstance(s, cst.Assign)
                for t in s.targets
                if (n := dotted(t.target))
            }
        self.report(
            call,
            f"asyncpg cursor outside `async with {connection}.transaction()`: it raises "
            "`NoActiveSQLTransactionError: cursor cannot be created outside of a transaction`",
            fix=wrap_in_transaction(step, connection, names, Applicability.SAFE),
        )
        return None


def _assigned_name(statement: cst.BaseStatement) -> str | None:
    """``x`` for a one-line `x = ...` statement."""
    if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
        assign = statement.body[0]
        if isinstance(assign, cst.Assign) and len(assign.targets) == 1:
            return dotted(assign.targets[0].target)
    return None
