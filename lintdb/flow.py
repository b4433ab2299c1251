"""Walking a function's statements in order, with the `with` statements that enclose each."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import libcst as cst

from lintdb.cst_helpers import children


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


def _in_source_order(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The node's children as LibCST visits them: in source order, where the two node types that declare
    their fields otherwise (`a if test else b`, an `except` clause's body before its type) are put right."""
    if isinstance(node, cst.IfExp):
        return [node.body, node.test, node.orelse]
    if isinstance(node, (cst.ExceptHandler, cst.ExceptStarHandler)):
        return [n for n in (node.type, node.name, node.body) if n is not None]
    return list(children(node))


def _calls(root: cst.CSTNode, into_blocks: bool) -> list[cst.Call]:
    found: list[cst.Call] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)) or (
            not into_blocks and isinstance(node, cst.IndentedBlock)
        ):
            continue
        if isinstance(node, cst.Call):
            found.append(node)
        stack.extend(reversed(_in_source_order(node)))
    return found


def calls_in(statement: cst.CSTNode) -> list[cst.Call]:
    """Calls on a statement's own line(s) in source order (the header of a compound statement)."""
    return _calls(statement, into_blocks=False)


def all_calls(node: cst.CSTNode) -> list[cst.Call]:
    """Every call under a node, nested blocks included, nested functions and classes excluded."""
    return _calls(node, into_blocks=True)
