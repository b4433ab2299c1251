"""Turning a rule's fix (text edits and LibCST node replacements) into text edits of the file."""

from __future__ import annotations

import bisect
from collections.abc import Callable

import libcst as cst

from lintdb.diagnostics import Edit, Fix
from lintdb.fixes import diff_edits
from lintdb.rule import FixSpec, Replace, Span, TextEdit


class _Replacer(cst.CSTTransformer):
    def __init__(self, replacements: dict[int, Replace]) -> None:
        super().__init__()
        self.replacements = replacements
        self.applied: set[int] = set()

    def on_leave(  # type: ignore[override]
        self, original_node: cst.CSTNode, updated_node: cst.CSTNode
    ) -> cst.CSTNode | cst.RemovalSentinel | cst.FlattenSentinel[cst.CSTNode]:
        found = self.replacements.get(id(original_node))
        if found is None:
            return updated_node
        self.applied.add(id(original_node))
        return found.new


def build_fix(
    spec: FixSpec, module: cst.Module, offsets: Callable[[Span], tuple[int, int]], shift: int, code: str
) -> Fix:
    """The text edits of a rule's fix: text edits as given, node replacements by rendering and diffing
    (``shift``: where the module's code starts in the file, when LibCST dropped a leading part; ``code``:
    the module rendered, `module.code`). Each replaced node's top-level statement is transformed and
    rendered alone; the whole module only when that cannot be done exactly."""
    edits = []
    for change in spec.changes:
        if isinstance(change, TextEdit):
            start, end = offsets(change.span)
            edits.append(Edit(start, end, change.content))
    replacements = {id(c.old): c for c in spec.changes if isinstance(c, Replace)}
    if replacements:
        local = _statement_edits(spec, module, offsets, shift, code)
        if local is None:
            local = diff_edits(code, module.visit(_Replacer(replacements)).code)
        edits.extend(Edit(e.start + shift, e.end + shift, e.content) for e in local)
    return Fix(tuple(sorted(edits, key=lambda e: (e.start, e.end))), spec.applicability, spec.title)


def _first_token(statement: cst.BaseStatement) -> cst.CSTNode:
    """The node whose span starts where the statement's text does after its leading lines: its first
    decorator, if any (a decorated definition's own span starts at `def` / `class`)."""
    if isinstance(statement, (cst.FunctionDef, cst.ClassDef)) and statement.decorators:
        return statement.decorators[0]
    return statement


def _statement_edits(
    spec: FixSpec, module: cst.Module, offsets: Callable[[Span], tuple[int, int]], shift: int, code: str
) -> list[Edit] | None:
    """The replacements' edits found by rendering only the top-level statements that hold them (offsets in
    ``code``), or None when that cannot be done exactly: a replaced top-level statement or module, a node
    outside every statement, a rendering that differs from the module's text."""
    body = list(module.body)
    if any(c.old is module or any(c.old is s for s in body) for c in spec.changes if isinstance(c, Replace)):
        return None
    firsts = [offsets(Span(_first_token(statement)))[0] - shift for statement in body]
    held: dict[int, dict[int, Replace]] = {}
    for change in spec.changes:
        if isinstance(change, Replace):
            start = offsets(Span(change.old))[0] - shift
            index = bisect.bisect_right(firsts, start) - 1
            if index < 0:
                return None
            held.setdefault(index, {})[id(change.old)] = change
    edits: list[Edit] = []
    for index, replacements in held.items():
        statement = body[index]
        old = module.code_for_node(statement)
        bare = module.code_for_node(statement.with_changes(leading_lines=())) if statement.leading_lines else old
        begin = firsts[index] - (len(old) - len(bare))
        if code[begin : begin + len(old)] != old:
            return None
        replacer = _Replacer(replacements)
        changed = statement.visit(replacer)
        assert isinstance(changed, cst.CSTNode)  # the statement itself is not replaced (checked above)
        new = module.code_for_node(changed)
        if replacer.applied != replacements.keys():  # a node outside the statement (a comment line before it)
            return None
        edits.extend(Edit(e.start + begin, e.end + begin, e.content) for e in diff_edits(old, new))
    return edits
