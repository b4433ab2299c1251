"""LDB105 record-attribute-access."""

from __future__ import annotations

import libcst as cst

from lintdb.cst_helpers import dotted, python_string, statements
from lintdb.diagnostics import Applicability
from lintdb.flow import walk
from lintdb.rule import FixSpec, Invalid, LintRule, Replace, Valid

RECORD_METHODS = frozenset({"get", "keys", "values", "items"})

_FIRST = """
{imports}


async def first_name(dsn):
    con = await {connect}(dsn{options})
    try:
        row = await con.fetchrow("SELECT id, name FROM t ORDER BY id LIMIT 1")
        return {expression}
    finally:
        await con.close()
"""


def record_example(expression: str, alias: str = "", options: str = "", factory: bool = False) -> str:
    """A function returning ``expression`` computed from an asyncpg Record ``row``; with ``factory``, the
    connection comes from the project's own `connect()` in a file that never imports asyncpg (shape 8)."""
    imports = "from app.db import connect" if factory else "import asyncpg" + (f" as {alias}" if alias else "")
    connect = "connect" if factory else f"{alias or 'asyncpg'}.connect"
    return _FIRST.format(imports=imports, connect=connect, options=options, expression=expression)


_LOOP = """
import asyncpg


async def total(dsn):
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=1)
    try:
        async with pool.acquire() as con:
            result = 0
            for row in await con.fetch("SELECT id FROM t"):
                result += row.{attr} + len(list(row.keys()))
            return result
    finally:
        await pool.close()
"""


class RecordAttributeAccess(LintRule):
    """
    ## What it does
    Checks for attribute access (`row.name`) on asyncpg records: the values of `fetchrow()`, the items of
    `fetch()` and of cursor iteration, in loops and comprehensions.

    ## Why is this bad?
    An asyncpg `Record` is a tuple-like mapping, not an object with attributes: `row.name` raises
    `AttributeError: 'asyncpg.protocol.record.Record' object has no attribute 'name'`. Code moved over
    from SQLAlchemy, whose `Row` does support `row.name`, fails this way at run time only.

    ## Example
    ```python
    row = await con.fetchrow("SELECT id, name FROM t")
    return row.name
    ```

    Use instead:
    ```python
    row = await con.fetchrow("SELECT id, name FROM t")
    return row["name"]
    ```

    Connections and pools created with a `record_class=` (whose class may define attribute access) are
    not checked, nor are `get`, `keys`, `values` and `items`.

    An asyncpg connection is also known by its use: a name the function calls `fetchrow`, `fetchval`,
    `copy_records_to_table` or another method only asyncpg connections have on (with SQL or a table), or
    runs `$1` SQL on, is one even when it comes from the project's own factory (`conn = await
    get_conn()`) in a file that never imports asyncpg; `execute` and `fetch` alone tell nothing (SQLAlchemy,
    `databases`, aiosqlite and psycopg have them too). Files importing a library with asyncpg's method
    names (aiochclient, aio-databases, mautrix, pyodbc, aioodbc, psqlpy) infer nothing.

    ## Fix safety
    The fix is safe: `row["name"]` is how a Record gives its field.

    ## References
    - [asyncpg: Record objects](https://magicstack.github.io/asyncpg/current/api/index.html#record-objects)
    """

    CODE = "LDB105"
    NAME = "record-attribute-access"
    MESSAGE = 'asyncpg Record has no attributes; use `row["column"]`'
    FIX_TITLE = "Subscript the record"
    FIX_AVAILABILITY = "Always"

    VALID = (
        Valid(record_example('row["name"]')),
        Valid(record_example('row.get("name")')),
        Valid(record_example("row.name", options=", record_class=AttrRecord")),
        Valid("""
            from sqlalchemy import text


            async def first_name(session):
                row = (await session.execute(text("SELECT id, name FROM t"))).first()
                return row.name
            """),
        # The project's factory with a record class of its own (shape 8), and a factory's connection used with
        # `execute` only: a SQLAlchemy connection, whose rows do have attributes.
        Valid(record_example("row.name", options=", record_class=AttrRecord", factory=True)),
        Valid("""
            from sqlalchemy import text

            from app.db import get_conn


            async def first_name():
                conn = await get_conn()
                row = (await conn.execute(text("SELECT id, name FROM t ORDER BY id LIMIT 1"))).first()
                return row.name
            """),
    )
    INVALID = (
        Invalid(
            record_example("row.name"),
            positions=[(8, 16)],
            fixed=record_example('row["name"]'),
            applicability=Applicability.SAFE,
        ),
        Invalid(
            record_example("(row.id, row.name)", alias="pg"),
            positions=[(8, 17), (8, 25)],
            fixed=record_example('(row["id"], row["name"])', alias="pg"),
            applicability=Applicability.SAFE,
        ),
        Invalid(
            record_example('[r.name for r in await con.fetch("SELECT name FROM t ORDER BY id") if r.name][0]'),
            positions=[(8, 17), (8, 86)],
            fixed=record_example(
                '[r["name"] for r in await con.fetch("SELECT name FROM t ORDER BY id") if r["name"]][0]'
            ),
            applicability=Applicability.SAFE,
        ),
        # A connection from the project's factory, known by its use (`fetchrow`; shape 8).
        Invalid(
            record_example("row.name", factory=True),
            positions=[(8, 16)],
            fixed=record_example('row["name"]', factory=True),
            applicability=Applicability.SAFE,
        ),
        Invalid(
            _LOOP.format(attr="id"),
            positions=[(10, 27)],
            fixed=_LOOP.format(attr="id").replace("row.id", 'row["id"]'),
            applicability=Applicability.SAFE,
        ),
    )

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node.asynchronous is None:
            return
        for step in walk(statements(node.body)):
            finder = _Attributes()
            step.statement.visit(finder)
            for attribute in finder.found:
                origin = self.model.handle_of(attribute.value, inferred=True)
                if origin is not None and origin.kind == "asyncpg-record":
                    self._report(attribute)
            for comprehension in finder.comprehensions:
                self._check_comprehension(comprehension)

    def _check_comprehension(self, comprehension: cst.BaseComp) -> None:
        """`[r.name for r in await con.fetch(...)]`: the loop variable of a comprehension over records."""
        for_in, records = comprehension.for_in, set()
        origin = self.model.iterated_handle(for_in.iter, inferred=True)
        if origin is not None and origin.kind == "asyncpg-record" and isinstance(for_in.target, cst.Name):
            records.add(for_in.target.value)
        parts = (
            [comprehension.key, comprehension.value]
            if isinstance(comprehension, cst.DictComp)
            else [comprehension.elt]
            if isinstance(comprehension, cst.BaseSimpleComp)
            else []
        )
        inner = _Attributes()
        for part in [*parts, *for_in.ifs]:
            part.visit(inner)
        for attribute in inner.found:
            if dotted(attribute.value) in records:
                self._report(attribute)

    def _report(self, attribute: cst.Attribute) -> None:
        column = attribute.attr.value
        if column in RECORD_METHODS:
            return
        subscript = cst.Subscript(
            attribute.value, [cst.SubscriptElement(cst.Index(cst.SimpleString(python_string(column))))]
        )
        self.report(
            attribute,
            f'`.{column}` on an asyncpg Record raises `AttributeError`; use `["{column}"]`',
            fix=FixSpec((Replace(attribute, subscript),), Applicability.SAFE, f'Replace with `["{column}"]`'),
        )


class _Attributes(cst.CSTVisitor):
    """`name.attr` on a statement's own line(s) (not in nested blocks, functions or lambdas), and the
    comprehensions there (judged separately: their loop variables are their own)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[cst.Attribute] = []
        self.comprehensions: list[cst.BaseComp] = []

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> bool:
        return False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def _comprehension(self, node: cst.BaseComp) -> bool:
        self.comprehensions.append(node)
        return False

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _comprehension

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if isinstance(node.value, cst.Name):
            self.found.append(node)
