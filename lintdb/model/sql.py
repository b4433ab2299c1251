"""The SQL of a call site: driver methods (`execute`, `fetch*`, `prepare`, `cursor`, `copy_*`,
`exec_driver_sql`), SQLAlchemy's `text()`, Alembic's `op.execute`, and the module's own wrappers
whose parameter reaches one of those."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass

import libcst as cst

from lintdb.cst_helpers import call_arg, unwrap_await
from lintdb.model.names import Names
from lintdb.model.tree import Tree, calls_under
from lintdb.model.values import Values
from lintdb.prefilter import HOLE
from lintdb.sqltext import SQLALCHEMY_TEXT, SqlString, statements
from lintdb.triggers import STATEMENT_START

SQL_METHODS = frozenset(
    {
        "execute",
        "executemany",
        "fetch",
        "fetchrow",
        "fetchval",
        "fetchmany",
        "prepare",
        "cursor",
        "copy_from_query",
        "exec_driver_sql",
    }
)
ALEMBIC_EXECUTE = frozenset({"alembic.op.execute"})
# An f-string hole where a query goes (`... AS {query}`, `INSERT INTO t {select}`): it stands for a clause.
_QUERY_HOLE = re.compile(rf"(?i)(\bAS\s+|^\s*|\bINSERT\s+INTO\s+\w+\s+){HOLE}\b(?!\s*[.(])")
SQL_KEYWORDS = ("query", "statement", "sql", "sqltext", "text")
_NOT_WRAPPERS = frozenset({"sqlalchemy", "alembic", *sys.stdlib_module_names})
# `IN $1` (also `IN :ids`, once binds are `$1`): never valid SQL, but the string is SQL all the same.
_IN_PARAMETER = re.compile(r"(?i)\bin\s*(\$\d+)")


@dataclass(frozen=True)
class SqlSite:
    """Where a call takes SQL: the argument that holds it, its text, and how it is written.

    ``style`` is "text" for SQLAlchemy `text()` (binds are `:name`; the SQL may be wrapped by an
    `execute()`), "driver" for SQL a driver gets as it is (asyncpg `$1`, `exec_driver_sql`), "alembic"
    for `op.execute`, "wrapper" for a call of the module's own function that forwards it, or of an
    imported function given a SQL statement first (`query("SELECT ...", ids=ids)`: the project's
    wrappers; which bind style the callee uses is not known)."""

    call: cst.Call
    argument: cst.BaseExpression
    sql: SqlString
    style: str


def with_query_holes(text: str) -> str:
    """The SQL text with each hole that stands for a whole query (`CREATE TEMP TABLE t ON COMMIT DROP AS
    {query}`) written as one (`SELECT NULL`), so the statement around it still parses."""
    return _QUERY_HOLE.sub(lambda m: m.group(1) + "SELECT NULL", text)


def _first_argument(call: cst.Call) -> cst.Arg | None:
    found = call_arg(call, 0)
    if found is not None:
        return found
    return next((a for a in call.args if a.keyword is not None and a.keyword.value in SQL_KEYWORDS), None)


class CallSql:
    """SQL at call sites of one module."""

    def __init__(self, tree: Tree, names: Names, values: Values) -> None:
        self.tree = tree
        self.names = names
        self.values = values
        self._wrappers: dict[str, int] | None = None

    def is_text(self, call: cst.BaseExpression | None) -> bool:
        """Whether ``call`` is SQLAlchemy's `text(...)`."""
        return isinstance(call, cst.Call) and bool(self.names.qualified_names(call.func) & SQLALCHEMY_TEXT)

    def site(self, call: cst.Call) -> SqlSite | None:
        """Where and how ``call`` takes SQL whose text is known, else None."""
        argument = self.sql_argument(call)
        if argument is None:
            return None
        node, style = argument
        value = unwrap_await(node)
        if style != "text" and isinstance(value, cst.Name) and self.is_text(held := self.values.value_of(value)):
            assert held is not None
            value = held
        if style != "text" and self.is_text(value):
            assert isinstance(value, cst.Call)
            inner = _first_argument(value)
            if inner is None:
                return None
            value, style = inner.value, "text"
        sql = self.values.string_of(value)
        return SqlSite(call, value, sql, style) if sql is not None else None

    def sql_argument(self, call: cst.Call) -> tuple[cst.BaseExpression, str] | None:
        """The argument that holds a call's SQL and the call's style, whatever its text."""
        qualified = self.names.qualified_names(call.func)
        if qualified & SQLALCHEMY_TEXT:
            style = "text"
        elif qualified & ALEMBIC_EXECUTE:
            style = "alembic"
        elif isinstance(call.func, cst.Attribute) and call.func.attr.value in SQL_METHODS:
            style = "driver"
        elif isinstance(call.func, cst.Name) and call.func.value in self.wrappers():
            arg = call_arg(call, self.wrappers()[call.func.value])
            return (arg.value, "wrapper") if arg is not None and self._is_statement(arg.value) else None
        elif self._imported(call.func):
            arg = _first_argument(call)
            return (arg.value, "wrapper") if arg is not None and self._is_statement(arg.value) else None
        else:
            return None
        arg = _first_argument(call)
        return (arg.value, style) if arg is not None else None

    def _is_statement(self, value: cst.BaseExpression) -> bool:
        """Whether a wrapper's argument is a SQL statement: PostgreSQL parses it (`IN $1` allowed)."""
        sql = self.values.string_of(value)
        if sql is None or not STATEMENT_START.match(sql.text):
            return False
        return bool(statements(_IN_PARAMETER.sub(r"= ANY(\1)", sql.with_binds_as_params().text)))

    def _imported(self, func: cst.BaseExpression) -> bool:
        """Whether a callee is a name imported into the module (`query` after `from ..db import query`,
        `db.query` after `from . import db`), other than SQLAlchemy's, Alembic's and the standard
        library's functions (`logging.info("SELECT ...")` logs)."""
        root = func
        while isinstance(root, cst.Attribute):
            root = root.value
        if not isinstance(root, cst.Name):
            return False
        binders = self.names.bindings(root)
        if not binders or not all(isinstance(b, cst.ImportAlias) for b in binders):
            return False
        return not any(q.split(".")[0] in _NOT_WRAPPERS for q in self.names.qualified_names(func))

    def sql_of_call(self, call: cst.Call) -> SqlString | None:
        """The SQL text a call runs or builds (see SqlSite)."""
        found = self.site(call)
        return found.sql if found is not None else None

    def wrappers(self) -> dict[str, int]:
        """The module-level functions that forward a parameter to a SQL call: name -> its position."""
        if self._wrappers is None:
            self._wrappers = {}
            for function in self.tree.functions:
                if self.tree.scope(function) is not self.tree.root:
                    continue
                position = self._forwarded(function)
                if position is not None:
                    self._wrappers[function.name.value] = position
        return self._wrappers

    def _forwarded(self, function: cst.FunctionDef) -> int | None:
        params = [p.name.value for p in function.params.params]
        for node in calls_under(function.body):
            found = self.sql_argument(node)
            if found is None or found[1] == "wrapper":
                continue
            value = unwrap_await(found[0])
            if self.is_text(value) and isinstance(value, cst.Call):
                inner = _first_argument(value)
                value = inner.value if inner is not None else value
            if isinstance(value, cst.Name) and value.value in params:
                return params.index(value.value)
        return None
