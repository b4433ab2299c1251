"""LDB201 pgbouncer-prepared-statements."""

from __future__ import annotations

import libcst as cst

from lintdb.cst_helpers import call_arg
from lintdb.diagnostics import Applicability
from lintdb.dsn import is_pgbouncer, url_is_pgbouncer, url_query
from lintdb.engine_args import (
    CACHE_SETTINGS,
    AsyncpgEngine,
    asyncpg_engine,
    with_keyword,
    with_zero_settings,
)
from lintdb.model.handles import ASYNCPG_CONNECT, ASYNCPG_CREATE_POOL
from lintdb.rule import FixSpec, Invalid, LintRule, Replace, Valid

_ASYNCPG = """
import asyncpg

DSN = "postgresql://postgres@127.0.0.1:6432/postgres"


async def lookup(ids):
    con = await asyncpg.connect({args})
    try:
        return [await (con.fetchval("SELECT $1::int", i) if i % 2 else con.fetchval("SELECT 0")) for i in ids]
    finally:
        await con.close()
"""
_ENGINE = """
import os

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine as cae

engine = cae(os.environ.get("DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:6432/postgres"){args})


async def lookup(ids):
    found = []
    for i in ids:
        async with AsyncSession(engine) as session:
            query = text("SELECT CAST(:i AS int)") if i % 2 else text("SELECT 0")
            found.append((await session.execute(query, {{"i": i}} if i % 2 else {{}})).scalar_one())
    return found
"""
_BOTH_ZERO = '"statement_cache_size": 0, "prepared_statement_cache_size": 0'


def asyncpg_example(args: str) -> str:
    """Looks up values through `asyncpg.connect(args)`, alternating two statements."""
    return _ASYNCPG.format(args=args)


def engine_example(args: str) -> str:
    """Looks up values through a SQLAlchemy engine made with `args` after the URL."""
    return _ENGINE.format(args=args)


class PgbouncerPreparedStatements(LintRule):
    """
    ## What it does
    Checks for asyncpg connections and pools, and SQLAlchemy `create_async_engine("postgresql+asyncpg://…")`
    engines, whose URL points at PgBouncer (port 6432, a host containing `pgbouncer` or `pooler`, or a
    host listed in `pgbouncer-hosts`) with asyncpg's statement cache left on.

    ## Why is this bad?
    asyncpg prepares every statement under a name (`__asyncpg_stmt_1__`, ...). PgBouncer in transaction
    mode hands each transaction to whichever server connection is free, so the names of different
    clients collide: `DuplicatePreparedStatementError: prepared statement "__asyncpg_stmt_N__" already
    exists`, `ProtocolViolationError: bind message supplies 1 parameters, but prepared statement ...
    requires 0`, and even decoder crashes. In a test with PgBouncer 1.18, 223 of 600 queries failed.
    `NullPool` does not help: asyncpg still names statements on each new connection.

    ## Example
    ```python
    con = await asyncpg.connect("postgresql://app@pgbouncer:6432/app")
    ```

    Use instead:
    ```python
    con = await asyncpg.connect("postgresql://app@pgbouncer:6432/app", statement_cache_size=0)
    ```

    For SQLAlchemy, both caches: `connect_args={"statement_cache_size": 0,
    "prepared_statement_cache_size": 0}` (with only the first, see LDB202).

    ## Fix safety
    The fix is safe: it only turns statement caching off, which costs a parse per query and makes
    every query work through PgBouncer.

    ## References
    - [asyncpg FAQ: I am using pgbouncer/pgpool in transaction mode](https://magicstack.github.io/asyncpg/current/faq.html#why-am-i-getting-prepared-statement-errors)
    - [SQLAlchemy: Using a PgBouncer with asyncpg](https://docs.sqlalchemy.org/en/20/dialects/postgresql.html#prepared-statement-name-with-pgbouncer)
    - [PgBouncer: max_prepared_statements](https://www.pgbouncer.org/config.html#max_prepared_statements)
    """

    CODE = "LDB201"
    NAME = "pgbouncer-prepared-statements"
    MESSAGE = "asyncpg's statement cache behind PgBouncer in transaction mode makes prepared statements collide"
    FIX_TITLE = "Disable the statement cache"
    FIX_AVAILABILITY = "Sometimes"

    VALID = (
        Valid(asyncpg_example("DSN, statement_cache_size=0")),
        Valid(engine_example(", connect_args={" + _BOTH_ZERO + "}")),
        Valid(asyncpg_example('"postgresql://postgres@127.0.0.1:5432/postgres"')),
        Valid(asyncpg_example('"postgresql://app@db.internal/app"')),
    )
    INVALID = (
        Invalid(
            asyncpg_example("DSN"),
            positions=[(7, 17)],
            fixed=asyncpg_example("DSN, statement_cache_size=0"),
            applicability=Applicability.SAFE,
        ),
        Invalid(
            engine_example(""),
            positions=[(6, 10)],
            fixed=engine_example(", connect_args={" + _BOTH_ZERO + "}"),
            applicability=Applicability.SAFE,
        ),
        Invalid(
            engine_example(', connect_args={"timeout": 5}'),
            positions=[(6, 10)],
            fixed=engine_example(', connect_args={"timeout": 5, ' + _BOTH_ZERO + "}"),
            applicability=Applicability.SAFE,
        ),
        Invalid(
            """
            import asyncpg


            async def pool():
                return await asyncpg.create_pool(host="db-pooler.internal", port=5432, user="app")
            """,
            positions=[(5, 18)],
            fixed="""
            import asyncpg


            async def pool():
                return await asyncpg.create_pool(host="db-pooler.internal", port=5432, user="app", statement_cache_size=0)
            """,
            applicability=Applicability.SAFE,
        ),
        Invalid(
            asyncpg_example('"postgresql://app@db.internal/app"'),
            positions=[(7, 17)],
            fixed=asyncpg_example('"postgresql://app@db.internal/app", statement_cache_size=0'),
            applicability=Applicability.SAFE,
            options={"pgbouncer-hosts": ["db.internal"]},
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        if self.qualified(node.func) & (ASYNCPG_CONNECT | ASYNCPG_CREATE_POOL):
            self._check_asyncpg(node)
        elif (engine := asyncpg_engine(node, self.model)) is not None:
            self._check_engine(engine)

    def _check_asyncpg(self, call: cst.Call) -> None:
        dsn = call_arg(call, 0, "dsn")
        url = self.model.text_of(dsn.value) if dsn else None
        host, port = self.model.keyword(call, "host"), self.model.keyword(call, "port")
        host_text = self.model.text_of(host)
        port = self.model.value_of(port) or port if port is not None else None
        port_number = int(port.value) if isinstance(port, cst.Integer) else None
        behind = (url is not None and url_is_pgbouncer(url, self.options.pgbouncer_hosts)) or is_pgbouncer(
            host_text, port_number, self.options.pgbouncer_hosts
        )
        if (
            not behind
            or self.model.keyword(call, "statement_cache_size") is not None
            or (url and "statement_cache_size" in url_query(url))
        ):
            return
        fix = FixSpec(
            (Replace(call, with_keyword(call, "statement_cache_size", cst.Integer("0"))),),
            Applicability.SAFE,
            "Add `statement_cache_size=0`",
        )
        self.report(
            call,
            "asyncpg connects to PgBouncer with its statement cache on: prepared statements collide across clients "
            "(`DuplicatePreparedStatementError`, `bind message supplies ...`); add `statement_cache_size=0`",
            fix=fix,
        )

    def _check_engine(self, engine: AsyncpgEngine) -> None:
        if engine.settings or not url_is_pgbouncer(engine.url, self.options.pgbouncer_hosts):
            return  # one of the two set: LDB202 judges the halves
        fix = (
            FixSpec(
                (Replace(engine.call, with_zero_settings(engine, CACHE_SETTINGS)),),
                Applicability.SAFE,
                'Add `connect_args={"statement_cache_size": 0, "prepared_statement_cache_size": 0}`',
            )
            if engine.editable
            else None
        )
        self.report(
            engine.call,
            "SQLAlchemy's asyncpg engine connects to PgBouncer with statement caches on: "
            "prepared statements collide across clients; "
            "set both `statement_cache_size` and `prepared_statement_cache_size` to 0 in `connect_args`",
            fix=fix,
        )
