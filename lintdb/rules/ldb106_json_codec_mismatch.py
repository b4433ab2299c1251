"""LDB106 json-codec-mismatch."""

from __future__ import annotations

import libcst as cst

from lintdb.cst_helpers import dotted, statements, string_value
from lintdb.diagnostics import Applicability
from lintdb.flow import calls_in, walk
from lintdb.model import Handle
from lintdb.rule import FixSpec, Invalid, LintRule, Replace, Valid

JSON_LOADS = frozenset({"json.loads"})
ARGUMENT_METHODS = frozenset({"execute", "executemany", "fetch", "fetchrow", "fetchval"})

_BORROWED = """
import json

from sqlalchemy import text


async def settings(session):
    await session.execute(text("SELECT 1"))
    raw = await (await session.connection()).get_raw_connection()
    driver = raw.driver_connection
    row = await driver.fetchrow("SELECT doc FROM t WHERE id = 1")
    return {expression}
"""
_PLAIN = """
import json

import asyncpg


async def settings(dsn):
    con = await asyncpg.connect(dsn)
    try:
        await con.execute("INSERT INTO t (id, doc) VALUES ($1, $2)", 2, {argument})
        row = await con.fetchrow("SELECT doc FROM t WHERE id = 1")
        return {expression}
    finally:
        await con.close()
"""
_POOL_WITH_CODECS = """
import json

import asyncpg


async def json_codecs(con):
    for name in ("json", "jsonb"):
        await con.set_type_codec(name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def settings(dsn):
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=1, init=json_codecs)
    try:
        async with pool.acquire() as con:
            await con.execute("INSERT INTO t (id, doc) VALUES ($1, $2)", 2, {"k": 2})
            row = await con.fetchrow("SELECT doc FROM t WHERE id = 1")
            return row["doc"]["k"]
    finally:
        await pool.close()
"""


def borrowed_example(expression: str) -> str:
    """Reads a jsonb value through a connection borrowed from SQLAlchemy."""
    return _BORROWED.format(expression=expression)


def plain_example(argument: str, expression: str) -> str:
    """Writes and reads jsonb values through a plain asyncpg connection."""
    return _PLAIN.format(argument=argument, expression=expression)


class JsonCodecMismatch(LintRule):
    """
    ## What it does
    Checks json handling that only works with the other kind of asyncpg connection: `json.loads(row[...])`
    on a connection borrowed from SQLAlchemy, and, on a plain asyncpg connection without an `init=`
    (that could register json codecs), dict arguments to queries and `row["col"]["key"]` lookups.

    ## Why is this bad?
    A plain asyncpg connection has no json codec: json and jsonb values arrive as `str`, and a dict
    argument raises `DataError: invalid input for query argument $2: {'k': 2} (expected str, got
    dict)`; `row["doc"]["k"]` raises `TypeError: string indices must be integers`. SQLAlchemy
    registers json codecs on every connection it opens, so the raw connection under a session returns
    dicts, and `json.loads(row["doc"])` raises `TypeError: the JSON object must be str, bytes or
    bytearray, not dict`. Code moved between the two breaks at run time.

    ## Example
    ```python
    driver = raw.driver_connection
    row = await driver.fetchrow("SELECT doc FROM t")
    return json.loads(row["doc"])
    ```

    Use instead:
    ```python
    return row["doc"]
    ```

    On a plain connection, register the codecs:
    ```python
    async def json_codecs(con):
        for name in ("json", "jsonb"):
            await con.set_type_codec(name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")

    pool = await asyncpg.create_pool(dsn, init=json_codecs)
    ```

    Connections known only by their use (from the project's own factory, in a file that never imports
    asyncpg) are not judged: the factory may register json codecs.

    ## Fix safety
    The fixes are display-only: dropping `json.loads` is right only if every connection that reaches
    this code is SQLAlchemy's, and where to register codecs is a project decision.

    ## References
    - [asyncpg: Example: automatic JSON conversion](https://magicstack.github.io/asyncpg/current/usage.html#example-automatic-json-conversion)
    - [SQLAlchemy: asyncpg json/jsonb codecs](https://docs.sqlalchemy.org/en/20/dialects/postgresql.html#module-sqlalchemy.dialects.postgresql.asyncpg)
    """

    CODE = "LDB106"
    NAME = "json-codec-mismatch"
    MESSAGE = "json values are decoded differently on this connection"
    FIX_TITLE = "Use the value as the connection returns it"
    FIX_AVAILABILITY = "Sometimes"

    VALID = (
        Valid(borrowed_example('row["doc"]')),
        Valid(plain_example('json.dumps({"k": 2})', 'json.loads(row["doc"])')),
        Valid(_POOL_WITH_CODECS),
        # A connection from the project's factory, known to be asyncpg's only by its use (shape 8): the factory
        # may register json codecs (most do), so a dict argument is not judged.
        Valid("""
            from app.db import get_conn


            async def settings():
                conn = await get_conn()
                await conn.execute("INSERT INTO t (id, doc) VALUES ($1, $2)", 2, {"k": 2})
                return await conn.fetchval("SELECT doc FROM t WHERE id = 2")
            """),
    )
    INVALID = (
        Invalid(
            borrowed_example('json.loads(row["doc"])'), positions=[(11, 12)], applicability=Applicability.DISPLAY_ONLY
        ),
        Invalid(plain_example('{"k": 2}', 'json.loads(row["doc"])'), positions=[(9, 73)]),
        Invalid(plain_example('json.dumps({"k": 2})', 'row["doc"]["k"]'), positions=[(11, 16)]),
    )

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node.asynchronous is None:
            return
        codecs: set[str] = set()
        for step in walk(statements(node.body)):
            for call in calls_in(step.statement):
                self._check_call(call, codecs)
            finder = _Subscripts()
            step.statement.visit(finder)
            for outer in finder.found:
                self._check_lookup(outer, codecs)

    def _connection(self, origin: Handle | None, where: cst.CSTNode) -> Handle | None:
        """The connection a record came from."""
        if origin is None or origin.kind != "asyncpg-record" or origin.connection is None:
            return None
        return self.model.handles_at(where).get(origin.connection)

    def _plain_without_codecs(self, connection: Handle | None, name: str | None, codecs: set[str]) -> bool:
        return (
            connection is not None
            and connection.kind == "asyncpg-connection"
            and not connection.init
            and name not in codecs
        )

    def _check_call(self, call: cst.Call, codecs: set[str]) -> None:
        if (
            self.qualified(call.func) & JSON_LOADS
            and call.args
            and isinstance(value := call.args[0].value, cst.Subscript)
        ):
            connection = self._connection(self.model.handle_of(value.value), call)
            if connection is not None and connection.kind == "borrowed-asyncpg":
                fix = FixSpec(
                    (Replace(call, value),),
                    Applicability.DISPLAY_ONLY,
                    "Drop `json.loads()`: the value is already decoded",
                )
                self.report(
                    call,
                    "`json.loads()` on a value from a connection borrowed from SQLAlchemy, which decodes json itself: "
                    "it raises `TypeError: the JSON object must be str, bytes or bytearray, not dict`",
                    fix=fix,
                )
            return
        if not isinstance(call.func, cst.Attribute):
            return
        receiver, method = call.func.value, call.func.attr.value
        name = dotted(receiver)
        if method == "set_type_codec" and call.args and string_value(call.args[0].value) in ("json", "jsonb") and name:
            codecs.add(name)
        if method not in ARGUMENT_METHODS or not self._plain_without_codecs(
            self.model.handle_of(receiver), name, codecs
        ):
            return
        for arg in call.args[1:]:
            if arg.keyword is None and (
                isinstance(arg.value, cst.Dict)
                or (isinstance(arg.value, cst.Call) and dotted(arg.value.func) == "dict")
            ):
                self.report(
                    arg,
                    "a dict argument on an asyncpg connection without json codecs raises "
                    "`DataError: ... (expected str, got dict)`; pass `json.dumps(...)` or register codecs with `init=`",
                )

    def _check_lookup(self, outer: cst.Subscript, codecs: set[str]) -> None:
        inner = outer.value
        if (
            not isinstance(inner, cst.Subscript)
            or len(outer.slice) != 1
            or not isinstance(outer.slice[0].slice, cst.Index)
        ):
            return
        if string_value(outer.slice[0].slice.value) is None:
            return
        origin = self.model.handle_of(inner.value)
        connection = self._connection(origin, outer)
        name = origin.connection if origin is not None else None
        if self._plain_without_codecs(connection, name, codecs):
            self.report(
                outer,
                "a json value from an asyncpg connection without json codecs is a `str`: a key lookup raises "
                "`TypeError: string indices must be integers`; `json.loads()` it or register codecs with `init=`",
            )


class _Subscripts(cst.CSTVisitor):
    """`x[...][...]` on a statement's own line(s)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[cst.Subscript] = []

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> bool:
        return False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Subscript(self, node: cst.Subscript) -> None:
        if isinstance(node.value, cst.Subscript):
            self.found.append(node)
