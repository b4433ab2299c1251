"""Fixes several rules share."""

from __future__ import annotations

import libcst as cst

from lintdb.cst_helpers import dotted, leading_lines, with_leading_lines
from lintdb.diagnostics import Applicability
from lintdb.flow import Step
from lintdb.rule import FixSpec, Replace


class _Names(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        parts = (dotted(node) or "").split(".")
        self.names.update(".".join(parts[: i + 1]) for i in range(len(parts)) if parts[0])


def mentions(statement: cst.CSTNode, names: set[str]) -> bool:
    """Whether a statement uses any of the (possibly dotted) names."""
    finder = _Names()
    statement.visit(finder)
    return bool(finder.names & names)


def wrap_in_transaction(step: Step, connection: str, names: set[str], applicability: Applicability) -> FixSpec:
    """Wrap ``step``'s statement, and the following statements of its block up to the last that uses
    one of ``names``, in `async with <connection>.transaction():`."""
    suite = list(step.suite)
    first = suite.index(step.statement)
    last = max(i for i in range(first, len(suite)) if i == first or mentions(suite[i], names))
    wrapped = [
        with_leading_lines(s, ()) if i == first else s for i, s in enumerate(suite[first : last + 1], start=first)
    ]
    block = cst.With(
        items=[cst.WithItem(cst.Call(cst.Attribute(cst.parse_expression(connection), cst.Name("transaction"))))],
        body=cst.IndentedBlock(body=wrapped),
        asynchronous=cst.Asynchronous(),
        leading_lines=leading_lines(suite[first]),
    )
    changes = [Replace(suite[first], cst.FlattenSentinel([block]))]
    changes += [Replace(s, cst.RemovalSentinel.REMOVE) for s in suite[first + 1 : last + 1]]
    return FixSpec(tuple(changes), applicability, f"Run the statements inside `async with {connection}.transaction():`")


ImportAnchor = tuple[cst.BaseStatement, bool]


def imported_name(module: cst.Module, sources: frozenset[str], name: str) -> tuple[str | None, ImportAnchor | None]:
    """The local name under which ``name`` is imported from one of ``sources`` and, when it must be
    imported, where (a statement, and whether the import goes before it). (None, None) when the name
    is used for something else."""
    last_import: cst.BaseStatement | None = None
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, (cst.Import, cst.ImportFrom)):
                last_import = statement
            if (
                isinstance(small, cst.ImportFrom)
                and small.module is not None
                and dotted(small.module) in sources
                and not isinstance(small.names, cst.ImportStar)
            ):
                for alias in small.names:
                    if alias.name.value == name:
                        return (
                            alias.asname.name.value
                            if alias.asname and isinstance(alias.asname.name, cst.Name)
                            else name
                        ), None
    if mentions(module, {name}):
        return None, None
    if last_import is not None:
        return name, (last_import, False)
    first = module.body[0] if module.body else None
    return (name, (first, True)) if first is not None else (None, None)


def add_import(anchor: ImportAnchor, statement: str) -> Replace:
    """Insert an import statement after (or before) the anchor statement."""
    at, before = anchor
    new = cst.parse_statement(statement + "\n")
    return Replace(at, cst.FlattenSentinel([new, at] if before else [at, new]))
