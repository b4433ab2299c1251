"""Reading Alembic migrations: `op.*` calls, batch blocks, and the SQL given to `op.execute`."""

from __future__ import annotations

import libcst as cst

from lintdb.cst_helpers import call_arg, string_value
from lintdb.prefilter import HOLE
from lintdb.rule import LintRule

COLUMN = frozenset({"sqlalchemy.Column", "sqlalchemy.schema.Column", "sqlalchemy.sql.schema.Column"})


def is_op(rule: LintRule, call: cst.Call, name: str) -> bool:
    """Whether a call is `alembic.op.<name>(...)` (under any import alias)."""
    return f"alembic.op.{name}" in rule.qualified(call.func)


def resolved(rule: LintRule, expr: cst.BaseExpression) -> cst.BaseExpression:
    """What a name or attribute holds when the model can tell, else the expression itself."""
    if isinstance(expr, (cst.Name, cst.Attribute)):
        return rule.model.value_of(expr) or expr
    return expr


def name_text(rule: LintRule, expr: cst.BaseExpression) -> str:
    """A table or column name: the string it holds, else its source text."""
    value = string_value(resolved(rule, expr))
    return value if value is not None else cst.Module([]).code_for_node(expr)


def batch_table(rule: LintRule, node: cst.With) -> tuple[str, str] | None:
    """(alias, table) for `with op.batch_alter_table("<table>") as <alias>:`."""
    item = node.items[0]
    call = item.item
    if (
        isinstance(call, cst.Call)
        and is_op(rule, call, "batch_alter_table")
        and item.asname is not None
        and isinstance(item.asname.name, cst.Name)
    ):
        table_arg = call_arg(call, 0, "table_name")
        if table_arg is not None:
            return item.asname.name.value, name_text(rule, table_arg.value)
    return None


def batch_method(call: cst.Call, batches: dict[str, str], name: str) -> str | None:
    """The table of `<alias>.<name>(...)` on a batch alias in ``batches``."""
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value == name and isinstance(func.value, cst.Name):
        return batches.get(func.value.value)
    return None


def is_bind(rule: LintRule, expr: cst.BaseExpression) -> bool:
    """Whether an expression is `op.get_bind()` (or a name assigned it)."""
    value = resolved(rule, expr)
    return isinstance(value, cst.Call) and is_op(rule, value, "get_bind")


def on_bind(rule: LintRule, call: cst.Call) -> bool:
    """Whether a call is `op.get_bind().execute(...)` or `.exec_driver_sql(...)`."""
    func = call.func
    return (
        isinstance(func, cst.Attribute)
        and func.attr.value in ("execute", "exec_driver_sql")
        and is_bind(rule, func.value)
    )


def is_execute(rule: LintRule, call: cst.Call) -> bool:
    """Whether a call runs SQL on the migration's connection (`op.execute`, or `execute` on its bind)."""
    return is_op(rule, call, "execute") or on_bind(rule, call)


def execute_sql(rule: LintRule, call: cst.Call) -> str | None:
    """The SQL text of `op.execute(...)` or `op.get_bind().execute(...)` / `.exec_driver_sql(...)` (a
    literal, `text("...")`, a name holding one: the model's `sql_of_call`); None when the call is
    neither, or its SQL is not known in full (an f-string hole)."""
    if not is_execute(rule, call):
        return None
    sql = rule.model.sql_of_call(call)
    return sql.text if sql is not None and HOLE not in sql.text else None


def op_name(rule: LintRule, call: cst.Call) -> str | None:
    """The local name of `alembic.op` in `op.x(...)` or `op.get_bind().x(...)`."""
    func = call.func
    if not isinstance(func, cst.Attribute):
        return None
    inner = resolved(rule, func.value)
    if isinstance(inner, cst.Call) and is_op(rule, inner, "get_bind"):
        return op_name(rule, inner)
    if isinstance(func.value, (cst.Name, cst.Attribute)) and any(
        q.startswith("alembic.op.") for q in rule.qualified(func)
    ):
        return cst.Module([]).code_for_node(func.value)
    return None
