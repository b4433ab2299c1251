"""LDB202 statement-cache-half-disabled."""

from __future__ import annotations

import libcst as cst

from lintdb.diagnostics import Applicability
from lintdb.engine_args import asyncpg_engine, with_zero_settings
from lintdb.rule import FixSpec, Invalid, LintRule, Replace, Valid
from lintdb.rules.ldb201_pgbouncer_prepared_statements import engine_example

STATEMENT, PREPARED = "statement_cache_size", "prepared_statement_cache_size"

_ROWS = """
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

engine = create_async_engine("postgresql+asyncpg://postgres@127.0.0.1:5432/postgres", pool_size=1, connect_args={{{settings}}})


async def rows():
    async with AsyncSession(engine) as session:
        return (await session.execute(text("SELECT * FROM t ORDER BY id"))).all()
"""


_BUILT = """
from sqlalchemy.ext.asyncio import create_async_engine


def _without_ssl_mode(url):
    if "sslmode=" not in url:
        return url, {{}}
    return url.replace("sslmode=require", ""), {{"ssl": True}}


def make_engine(url):
    url, connect_args = _without_ssl_mode(url)
    connect_args["statement_cache_size"] = 0  # asyncpg behind PgBouncer
{more}    return create_async_engine(url, connect_args=connect_args)
"""


def built_example(more: str = "") -> str:
    """An engine whose `connect_args` a helper returns and the caller completes by subscript (``more``:
    lines after `statement_cache_size` is set); its URL is a parameter, asyncpg by its settings."""
    return _BUILT.format(more=more)


def rows_example(settings: str) -> str:
    """`SELECT *` through a one-connection engine with the given `connect_args` entries."""
    return _ROWS.format(settings=settings)


class StatementCacheHalfDisabled(LintRule):
    """
    ## What it does
    Checks SQLAlchemy asyncpg engines with `statement_cache_size=0` but without
    `prepared_statement_cache_size=0`.

    ## Why is this bad?
    With only `statement_cache_size=0` (what asyncpg's own PgBouncer hint and many posts recommend),
    asyncpg prepares unnamed statements and SQLAlchemy keeps them per pooled connection with the row
    description of their first run. After an `ALTER TABLE` from anywhere else, the same query fails
    on that connection for its whole life (`InternalClientError: the number of columns in the result
    row (3) is different from what was described (2)`), or returns wrong data without an error when
    a column changes type.

    `prepared_statement_cache_size=0` alone is not reported: the design notes saw it collide through
    PgBouncer 1.18, but lintdb's proof (SQLAlchemy 2.1, asyncpg 0.32, 64 concurrent clients) did not.

    ## Example
    ```python
    engine = create_async_engine(url, connect_args={"statement_cache_size": 0})
    ```

    Use instead:
    ```python
    engine = create_async_engine(url, connect_args={"statement_cache_size": 0, "prepared_statement_cache_size": 0})
    ```

    ## Fix safety
    The fix is safe: it turns off the other cache too, which costs a parse per query.

    ## References
    - [SQLAlchemy: asyncpg prepared statement cache](https://docs.sqlalchemy.org/en/20/dialects/postgresql.html#prepared-statement-cache)
    - [asyncpg: Connection statement_cache_size](https://magicstack.github.io/asyncpg/current/api/index.html#asyncpg.connection.connect)
    """

    CODE = "LDB202"
    NAME = "statement-cache-half-disabled"
    MESSAGE = "Only one of asyncpg's two statement caches is disabled"
    FIX_TITLE = "Disable the other cache too"
    FIX_AVAILABILITY = "Always"

    VALID = (
        Valid(rows_example(f'"{STATEMENT}": 0, "{PREPARED}": 0')),
        Valid(rows_example(f'"{PREPARED}": 0')),
        Valid(rows_example('"timeout": 5')),
        Valid(engine_example(f', connect_args={{"{PREPARED}": 0}}')),
        Valid(built_example(f'    connect_args["{PREPARED}"] = 0\n')),
        Valid(built_example("    connect_args.update(extra_settings)\n")),
    )
    INVALID = (
        Invalid(
            rows_example(f'"{STATEMENT}": 0'),
            positions=[(4, 10)],
            fixed=rows_example(f'"{STATEMENT}": 0, "{PREPARED}": 0'),
            applicability=Applicability.SAFE,
        ),
        Invalid(built_example(), positions=[(13, 12)]),
    )

    def visit_Call(self, node: cst.Call) -> None:
        engine = asyncpg_engine(node, self.model)
        if engine is None:
            return
        if STATEMENT not in engine.zeroed or PREPARED in engine.settings:
            return
        message = (
            f"`{STATEMENT}=0` without `{PREPARED}=0`: "
            "SQLAlchemy keeps unnamed prepared statements whose row description goes stale after `ALTER TABLE` "
            "(`the number of columns in the result row (3) is different from what was described (2)`, "
            f'or wrong values); add `"{PREPARED}": 0`'
        )
        fix = (
            FixSpec(
                (Replace(node, with_zero_settings(engine, (PREPARED,))),),
                Applicability.SAFE,
                f'Add `"{PREPARED}": 0` to `connect_args`',
            )
            if engine.editable
            else None
        )
        self.report(node, message, fix=fix)
