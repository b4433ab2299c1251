"""Walking a function's statements in order, with the `with` statements that enclose each."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import libcst as cst


@dataclass(frozen=True)
class Step:
    """A statement, the suite (body tuple) that holds it, and the `with` statements around it."""

    statement: cst.BaseStatement
    suite: Sequence[cst.BaseStatement]
    withs: tuple[cst.With, ...]


def _block(suite: cst.BaseSuite | None) -> list[Sequence[cst.BaseStatement]]:
    return [suite.body] if isinstance(suite, cst.IndentedBlock) else []


def suites(statement: cst.BaseStatement) -> list[Sequence[cst.BaseStatement]]:
    """The statement lists directly inside a compound statement (nested functions and classes excluded)."""
    if isinstance(statement, cst.If):
        orelse = statement.orelse
        return _block(statement.body) + (
            suites(orelse) if isinstance(orelse, cst.If) else _block(orelse.body if orelse else None)
        )
    if isinstance(statement, (cst.For, cst.While)):
        return _block(statement.body) + _block(statement.orelse.body if statement.orelse else None)
    if isinstance(statement, cst.With):
        return _block(statement.body)
    if isinstance(statement, (cst.Try, cst.TryStar)):
        found = _block(statement.body)
        for handler in statement.handlers:
            found += _block(handler.body)
        found += _block(statement.orelse.body if statement.orelse else None)
        return found + _block(statement.finalbody.body if statement.finalbody else None)
    if isinstance(statement, cst.Match):
        return [body for case in statement.cases for body in _block(case.body)]
    return []


def walk(body: Sequence[cst.BaseStatement], withs: tuple[cst.With, ...] = ()) -> Iterator[Step]:
    """Every statement under ``body`` in source order, nested functions and classes excluded."""
    for statement in body:
        yield Step(statement, body, withs)
        inner = (*withs, statement) if isinstance(statement, cst.With) else withs
        for suite in suites(statement):
            yield from walk(suite, inner)


class _Calls(cst.CSTVisitor):
    def __init__(self, into_blocks: bool) -> None:
        super().__init__()
        self.into_blocks = into_blocks
        self.calls: list[cst.Call] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> bool:
        return self.into_blocks

    def visit_Call(self, node: cst.Call) -> None:
        self.calls.append(node)


def calls_in(statement: cst.CSTNode) -> list[cst.Call]:
    """Calls on a statement's own line(s) in source order (the header of a compound statement)."""
    finder = _Calls(into_blocks=False)
    statement.visit(finder)
    return finder.calls


def all_calls(node: cst.CSTNode) -> list[cst.Call]:
    """Every call under a node, nested blocks included, nested functions and classes excluded."""
    finder = _Calls(into_blocks=True)
    node.visit(finder)
    return finder.calls
