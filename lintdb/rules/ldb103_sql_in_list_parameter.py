"""LDB103 sql-in-list-parameter."""

from __future__ import annotations

import re

import libcst as cst

from lintdb.cst_helpers import call_arg
from lintdb.diagnostics import Applicability
from lintdb.rule import FixSpec, Invalid, LintRule, TextEdit, Valid
from lintdb.sqltext import SqlString, SqlToken

QUERY_METHODS = frozenset(
    {"execute", "executemany", "fetch", "fetchrow", "fetchval", "fetchmany", "prepare", "cursor", "copy_from_query"}
)
_LIST_CALLS = frozenset({"list", "tuple", "set", "frozenset", "sorted"})
_LIST_NODES = (cst.List, cst.Tuple, cst.Set, cst.ListComp, cst.SetComp)
_LIST_ANNOTATIONS = re.compile(r"^(list|tuple|set|frozenset|List|Tuple|Set|FrozenSet|Sequence|typing\.\w+)\b")


class SqlInListParameter(LintRule):
    """
    ## What it does
    Checks for `IN $n` and `NOT IN $n` in SQL sent to asyncpg, and for `IN ($n)` when the argument
    bound to `$n` is a list, tuple or set. `IN $n` is also checked in SQL given to the project's own
    wrappers (`await fetch_all("... WHERE id IN $1", ids)` with `fetch_all` imported or defined in the
    module): it cannot run whatever the wrapper does.

    ## Why is this bad?
    A query parameter is one value; PostgreSQL has no list parameter. `IN $1` does not parse:
    asyncpg raises `PostgresSyntaxError: syntax error at or near "$1"`. `IN ($1)` parses but compares
    with a single value, so a list argument raises `DataError: invalid input for query argument $1:
    [1, 3] ('list' object cannot be interpreted as an integer)`. Compare with an array instead:
    `= ANY($1)` (and `<> ALL($1)` for `NOT IN`); asyncpg sends a list, tuple or set as an array.

    Note that, like `NOT IN` with a NULL, `<> ALL($1)` matches no rows when the list holds a `None`.

    ## Example
    ```python
    rows = await con.fetch("SELECT id FROM t WHERE id IN $1", ids)
    ```

    Use instead:
    ```python
    rows = await con.fetch("SELECT id FROM t WHERE id = ANY($1)", ids)
    ```

    ## Fix safety
    The fix for `IN $n` / `NOT IN $n` is safe: the original statement can never run. The fix for
    `IN ($n)` is unsafe: it is only offered when the argument is visibly a list, and a caller could
    still pass a scalar elsewhere.

    ## References
    - [asyncpg FAQ: Why do I get PostgresSyntaxError when using expression IN $1?](https://magicstack.github.io/asyncpg/current/faq.html#why-do-i-get-postgressyntaxerror-when-using-expression-in-1)
    - [PostgreSQL: Row and Array Comparisons](https://www.postgresql.org/docs/current/functions-comparisons.html)
    """

    CODE = "LDB103"
    NAME = "sql-in-list-parameter"
    MESSAGE = "`IN $n` cannot take a list parameter; use `= ANY($n)`"
    FIX_TITLE = "Replace with `= ANY($n)` / `<> ALL($n)`"
    FIX_AVAILABILITY = "Sometimes"

    VALID = (
        Valid("""
            async def find(con, a, b):
                return await con.fetch("SELECT id FROM t WHERE id IN ($1, $2) ORDER BY id", a, b)
            """),
        Valid("""
            async def find(con, ids):
                return await con.fetch("SELECT id FROM t WHERE id = any($1::int[]) ORDER BY id", ids)
            """),
        Valid("""
            async def find(con, ids):
                return await con.fetch("SELECT id FROM t WHERE name = 'IN $1' AND id = ANY($1)", ids)
            """),
        Valid("""
            async def find(con, one):
                return await con.fetch("SELECT id FROM t WHERE id IN ($1)", one)
            """),
        Valid("""
            def label(price):
                return f"costs IN ${price}"
            """),
        Valid("""
            from app.db import fetch_all


            async def find(ids):
                return await fetch_all("SELECT id FROM t WHERE id = ANY($1) ORDER BY id", ids)
            """),
        Valid("""
            from app.db import fetch_all


            async def find(ids):
                return await fetch_all("SELECT id FROM t WHERE id IN ($1) ORDER BY id", ids)
            """),
    )
    INVALID = (
        Invalid(
            """
            async def find(con, ids):
                return await con.fetch("SELECT id FROM t WHERE id IN $1 ORDER BY id", ids)
            """,
            positions=[(2, 55)],
            fixed="""
            async def find(con, ids):
                return await con.fetch("SELECT id FROM t WHERE id = ANY($1) ORDER BY id", ids)
            """,
            applicability=Applicability.SAFE,
        ),
        Invalid(
            '''
            async def find_others(con, ids):
                return await con.fetch("""
                    SELECT id FROM t
                    WHERE id NOT IN $1
                    ORDER BY id
                """, ids)
            ''',
            positions=[(4, 18)],
            fixed='''
            async def find_others(con, ids):
                return await con.fetch("""
                    SELECT id FROM t
                    WHERE id <> ALL($1)
                    ORDER BY id
                """, ids)
            ''',
            applicability=Applicability.SAFE,
        ),
        Invalid(
            """
            async def find(con, ids):
                return await con.fetch("SELECT id FROM t WHERE id IN ($1) ORDER BY id", list(ids))
            """,
            positions=[(2, 55)],
            fixed="""
            async def find(con, ids):
                return await con.fetch("SELECT id FROM t WHERE id = ANY($1) ORDER BY id", list(ids))
            """,
            applicability=Applicability.UNSAFE,
        ),
        Invalid(
            """
            QUERY = "SELECT id FROM t " "WHERE id IN $1 ORDER BY id"


            async def find(con, ids: list[int]):
                return await con.fetch(QUERY, ids)
            """,
            positions=[(1, 39)],
            fixed="""
            QUERY = "SELECT id FROM t " "WHERE id = ANY($1) ORDER BY id"


            async def find(con, ids: list[int]):
                return await con.fetch(QUERY, ids)
            """,
            applicability=Applicability.SAFE,
        ),
        Invalid(
            """
            async def find(con, table, ids):
                return await con.fetch(f"SELECT id FROM {table} WHERE id IN $1 ORDER BY id", ids)
            """,
            positions=[(2, 62)],
            fixed="""
            async def find(con, table, ids):
                return await con.fetch(f"SELECT id FROM {table} WHERE id = ANY($1) ORDER BY id", ids)
            """,
            applicability=Applicability.SAFE,
        ),
        Invalid(
            """
            from app.db import fetch_all


            async def find(ids):
                return await fetch_all("SELECT id FROM t WHERE id IN $1 ORDER BY id", ids)
            """,
            positions=[(5, 55)],
            fixed="""
            from app.db import fetch_all


            async def find(ids):
                return await fetch_all("SELECT id FROM t WHERE id = ANY($1) ORDER BY id", ids)
            """,
            applicability=Applicability.SAFE,
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        driver = isinstance(node.func, cst.Attribute) and node.func.attr.value in QUERY_METHODS
        site = self.model.sql_site(node)
        if site is None or site.style != ("driver" if driver else "wrapper") or "$" not in site.sql.text:
            return
        sql = site.sql
        tokens = sql.tokens()
        for index, token in enumerate(tokens):
            if token.name == "IN_P":
                self._check_in(node, sql, tokens, index, driver)

    def _check_in(self, call: cst.Call, sql: SqlString, tokens: list[SqlToken], index: int, driver: bool) -> None:
        """`IN $n` whatever runs it; `IN ($n)` with a list only on a driver method (a wrapper's arguments
        may not be the statement's)."""
        negated = index > 0 and tokens[index - 1].name in ("NOT", "NOT_LA")
        first = tokens[index - 1] if negated else tokens[index]
        rest = [t.name for t in tokens[index + 1 : index + 4]]
        if rest[:1] == ["PARAM"]:
            param = tokens[index + 1]
            last, applicability = param, Applicability.SAFE
        elif (
            driver
            and rest == ["ASCII_40", "PARAM", "ASCII_41"]
            and not negated
            and self._is_list(call, tokens[index + 2], sql)
        ):
            param, last = tokens[index + 2], tokens[index + 3]
            applicability = Applicability.UNSAFE
        else:
            return
        name = sql.text[param.start : param.end]
        written = " ".join(sql.text[first.start : last.end].split())
        replacement = f"<> ALL({name})" if negated else f"= ANY({name})"
        if applicability == Applicability.SAFE:
            message = (
                f"`{written}` is a syntax error in PostgreSQL (a parameter is one value, not a list); "
                f"use `{replacement}`"
            )
        else:
            message = (
                f"`{written}` compares with one value, so a list argument raises "
                f"`DataError: invalid input for query argument {name}`; use `{replacement}`"
            )
        if negated:
            message += " (a NULL in the list makes `<> ALL` match no rows)"
        followed_by_cast = last is param and index + 2 < len(tokens) and tokens[index + 2].name == "TYPECAST"
        span = sql.span(first.start, last.end)
        fix = None
        if span is not None and not followed_by_cast:
            fix = FixSpec((TextEdit(span, replacement),), applicability, f"Replace with `{replacement}`")
        self.report(span or call, message, fix=fix)

    def _is_list(self, call: cst.Call, param: SqlToken, sql: SqlString) -> bool:
        number = int(sql.text[param.start + 1 : param.end])
        method = call.func.attr.value if isinstance(call.func, cst.Attribute) else ""
        arg = call_arg(call, number) if method not in ("executemany", "prepare") else None
        if arg is None:
            return False
        return self._listy(arg.value)

    def _listy(self, value: cst.BaseExpression, follow_names: bool = True) -> bool:
        if isinstance(value, _LIST_NODES):
            return True
        if isinstance(value, cst.Call) and isinstance(value.func, cst.Name):
            return value.func.value in _LIST_CALLS
        if isinstance(value, cst.Name) and follow_names:
            return self._listy_name(value)
        return False

    def _listy_name(self, name: cst.Name) -> bool:
        function = self.model.enclosing_function(name)
        for param in function.params.params if function is not None else ():
            if param.name.value == name.value and param.annotation is not None:
                annotation = cst.Module([]).code_for_node(param.annotation.annotation)
                return bool(_LIST_ANNOTATIONS.match(annotation))
        values = self.model.assigned(name)
        return bool(values) and all(self._listy(v, follow_names=False) for v in values)
