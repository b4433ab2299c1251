"""Turning a rule's fix (text edits and LibCST node replacements) into text edits of the file."""

from __future__ import annotations

from collections.abc import Callable

import libcst as cst

from lintdb.diagnostics import Edit, Fix
from lintdb.fixes import diff_edits
from lintdb.rule import FixSpec, Replace, Span, TextEdit


class _Replacer(cst.CSTTransformer):
    def __init__(self, replacements: dict[int, Replace]) -> None:
        super().__init__()
        self.replacements = replacements

    def on_leave(  # type: ignore[override]
        self, original_node: cst.CSTNode, updated_node: cst.CSTNode
    ) -> cst.CSTNode | cst.RemovalSentinel | cst.FlattenSentinel[cst.CSTNode]:
        found = self.replacements.get(id(original_node))
        return updated_node if found is None else found.new


def build_fix(
    spec: FixSpec, module: cst.Module, offsets: Callable[[Span], tuple[int, int]], shift: int, code: str
) -> Fix:
    """The text edits of a rule's fix: text edits as given, node replacements by rendering and diffing
    (``shift``: where the module's code starts in the file, when LibCST dropped a leading part; ``code``:
    the module rendered, `module.code`, which costs a walk of the whole tree)."""
    edits = []
    for change in spec.changes:
        if isinstance(change, TextEdit):
            start, end = offsets(change.span)
            edits.append(Edit(start, end, change.content))
    replacements = {id(c.old): c for c in spec.changes if isinstance(c, Replace)}
    if replacements:
        edits.extend(
            Edit(e.start + shift, e.end + shift, e.content)
            for e in diff_edits(code, module.visit(_Replacer(replacements)).code)
        )
    return Fix(tuple(sorted(edits, key=lambda e: (e.start, e.end))), spec.applicability, spec.title)
