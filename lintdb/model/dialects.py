"""Dialect branches: the `if` tests a migration or a service writes to run code on one database only
(`bind.dialect.name == "sqlite"`, `!= "postgresql"`, `url.startswith("postgres")`, `_is_postgres(url)`,
`is_sqlite`)."""

from __future__ import annotations

import re
from collections.abc import Callable

import libcst as cst

from lintdb.model.tree import Tree

_TEST = re.compile(
    r"""(?:dialect\.name|get_backend_name\(\)|\.drivername|\.name)\s*(==|!=)\s*["'](\w+)["']"""
    r"""|\.startswith\(\s*["'](\w+)"""
    r"""|^_?is_(postgres|sqlite|mysql)\w*(?:\(|$)"""
)


def branch_test(test: cst.BaseExpression) -> tuple[str, bool] | None:
    """(dialect, True) for a test that holds on that dialect only, (dialect, False) for one that holds on
    every other; None for any other test (`and` / `or` / `not` included)."""
    if not isinstance(test, (cst.Comparison, cst.Call, cst.Name)):
        return None
    match = _TEST.search(cst.Module([]).code_for_node(test))
    if match is None:
        return None
    name = match.group(2) or match.group(3) or match.group(4)
    dialect = "postgresql" if name.startswith("postgres") else name
    return dialect, match.group(1) != "!="


def dialect_branch(
    tree: Tree, node: cst.CSTNode, value_of: Callable[[cst.BaseExpression], cst.BaseExpression | None]
) -> tuple[str, bool] | None:
    """The innermost dialect branch ``node`` is in, within its function: (dialect, True) when it runs on
    that dialect only, (dialect, False) when it runs on every other one. A test that is a name holding
    such a comparison (`is_sqlite = bind.dialect.name == "sqlite"`) counts, also under `not`."""
    child, parent = node, tree.parent(node)
    while parent is not None and not isinstance(parent, (cst.FunctionDef, cst.Module)):
        if isinstance(parent, cst.If) and child in (parent.body, parent.orelse):
            found = _tested(parent.test, value_of)
            if found is not None:
                return found[0], found[1] == (child is parent.body)
        if isinstance(parent, cst.IndentedBlock) and child in parent.body:
            for earlier in parent.body[: parent.body.index(child)]:  # `if <test>: return` before it
                if isinstance(earlier, cst.If) and earlier.orelse is None and _leaves(earlier.body):
                    found = _tested(earlier.test, value_of)
                    if found is not None:
                        return found[0], not found[1]
        child, parent = parent, tree.parent(parent)
    return None


def _tested(
    test: cst.BaseExpression, value_of: Callable[[cst.BaseExpression], cst.BaseExpression | None]
) -> tuple[str, bool] | None:
    negated = False
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        test, negated = test.expression, True
    if isinstance(test, cst.Name):
        test = value_of(test) or test
    found = branch_test(test)
    return (found[0], found[1] != negated) if found is not None else None


def _leaves(body: cst.BaseSuite) -> bool:
    """Whether a block ends in `return` or `raise`."""
    if not isinstance(body, cst.IndentedBlock) or not body.body:
        return False
    last = body.body[-1]
    return isinstance(last, cst.SimpleStatementLine) and isinstance(last.body[-1], (cst.Return, cst.Raise))
