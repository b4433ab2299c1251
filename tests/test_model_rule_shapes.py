"""Shapes the rules find (or correctly leave) since they run on the semantic model: f-string URLs,
`dict(...)` connect_args, SQL held in a function's own variables, helpers called inside transactions."""

from __future__ import annotations

import textwrap

import pytest

from lintdb.engine import FileSettings, lint_source


def _found(code: str, source: str) -> list[tuple[int, int, bool]]:
    text = textwrap.dedent(source).lstrip("\n")
    return [
        (d.location.row, d.location.column, d.fix is not None)
        for d in lint_source(text, FileSettings(frozenset({code})))
        if d.code == code
    ]


@pytest.mark.parametrize(
    ("code", "source", "expected"),
    [
        (
            "LDB203",
            """
            from sqlalchemy import create_engine

            def make(user, host):
                return create_engine(f"postgresql+asyncpg://{user}@{host}/app")
            """,
            [(4, 12, True)],
        ),
        (
            "LDB204",
            """
            from sqlalchemy.ext.asyncio import create_async_engine

            def make(host):
                return create_async_engine(f"postgresql+asyncpg://{host}/app?async_fallback=true")
            """,
            [(4, 12, False)],
        ),
        (
            "LDB201",
            """
            import asyncpg

            async def make(user):
                return await asyncpg.connect(f"postgresql://{user}@pgbouncer:6432/app")
            """,
            [(4, 18, True)],
        ),
        (
            "LDB202",
            """
            from sqlalchemy.ext.asyncio import create_async_engine

            engine = create_async_engine(
                "postgresql+asyncpg://db/app", connect_args=dict(statement_cache_size=0)
            )
            """,
            [(3, 10, False)],  # connect_args is not a literal dict in the call: no fix is offered
        ),
        (
            "LDB107",
            """
            import asyncpg

            TABLE = "t"

            async def load(con):
                return await con.fetch("SELECT id FROM " + TABLE + " WHER id = 1")
            """,
            [(6, 63, False)],  # `WHER` is taken as an alias: PostgreSQL stops at `id`,
        ),
    ],
)
def test_newly_resolved_shapes(code: str, source: str, expected: list[tuple[int, int, bool]]) -> None:
    assert _found(code, source) == expected


def test_helper_called_only_inside_a_transaction_is_not_reported() -> None:
    source = """
        import asyncpg

        async def stage(con: asyncpg.Connection):
            await con.execute("CREATE TEMP TABLE _t (id int) ON COMMIT DROP")
            async for row in con.cursor("SELECT 1"):
                print(row)

        async def main(dsn):
            con = await asyncpg.connect(dsn)
            async with con.transaction():
                await stage(con)
        """
    assert _found("LDB104", source) == []
    also_outside = source + "\n\n        async def other(con):\n            await stage(con)\n"
    assert _found("LDB104", also_outside) == [(5, 22, True)]
