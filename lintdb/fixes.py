"""Text edits: the minimal edits between two texts, and applying fixes and edits to a source text."""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterable, Sequence

from lintdb.diagnostics import Edit, Fix

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def _lines(text: str) -> list[str]:
    return _LINE.findall(text)


def diff_edits(old: str, new: str) -> list[Edit]:
    """Minimal edits that turn ``old`` into ``new``: changed line hunks, trimmed to the changed characters."""
    old_lines, new_lines = _lines(old), _lines(new)
    starts = [0]
    for line in old_lines:
        starts.append(starts[-1] + len(line))
    # The lines both share at the start and at the end are left out of the diff: SequenceMatcher is
    # quadratic on long runs of alike lines, and a fix changes a few lines of a large file.
    same = min(len(old_lines), len(new_lines))
    head = 0
    while head < same and old_lines[head] == new_lines[head]:
        head += 1
    tail = 0
    while tail < same - head and old_lines[-1 - tail] == new_lines[-1 - tail]:
        tail += 1
    edits: list[Edit] = []
    matcher = difflib.SequenceMatcher(
        None, old_lines[head : len(old_lines) - tail], new_lines[head : len(new_lines) - tail], autojunk=False
    )
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        i1, i2, j1, j2 = i1 + head, i2 + head, j1 + head, j2 + head
        start, end = starts[i1], starts[i2]
        before, content = old[start:end], "".join(new_lines[j1:j2])
        prefix = 0
        while prefix < min(len(before), len(content)) and before[prefix] == content[prefix]:
            prefix += 1
        suffix = 0
        while suffix < min(len(before), len(content)) - prefix and before[-1 - suffix] == content[-1 - suffix]:
            suffix += 1
        edits.append(Edit(start + prefix, end - suffix, content[prefix : len(content) - suffix]))
    return edits


def _overlaps(a: Edit, b: Edit) -> bool:
    """Edits touch the same text, or insert at the same point (their order would be ambiguous)."""
    return (
        (a.start < b.end and b.start < a.end)
        or a.start == b.start
        or (a.start == a.end == b.end)
        or (b.start == b.end == a.end)
    )


def apply_fixes(text: str, fixes: Iterable[tuple[str, Fix]]) -> tuple[str, Counter[str]]:
    """Apply (code, fix) pairs left to right, skipping any fix that overlaps one already applied
    (ruff's rule); returns the new text and how many fixes of each code were applied."""
    chosen: list[Edit] = []
    applied: Counter[str] = Counter()
    for code, fix in sorted(fixes, key=lambda f: (f[1].edits[0].start, f[1].edits[0].end) if f[1].edits else (0, 0)):
        if fix.edits and not any(_overlaps(new, old) for new in fix.edits for old in chosen):
            chosen.extend(fix.edits)
            applied[code] += 1
    return apply_edits(text, chosen), applied


def apply_edits(text: str, edits: Sequence[Edit]) -> str:
    """Apply non-overlapping edits sorted by position."""
    out: list[str] = []
    pos = 0
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        out.append(text[pos : edit.start])
        out.append(edit.content)
        pos = edit.end
    out.append(text[pos:])
    return "".join(out)
