"""A fix shown as ruff's full format shows it: hunks of changed lines, each with one unchanged line of
context around it, numbered as in the fixed file. Edits far apart are separate hunks (an import at the
top and a change at line 1646 are two short hunks, not one as long as the file)."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

from lintdb.diagnostics import Edit
from lintdb.fixes import apply_edits
from lintdb.source import SourceText

CONTEXT = 1


@dataclass(frozen=True)
class DiffLine:
    """`|` unchanged, `-` removed, `+` added; ``row`` is the row in the fixed text (None when removed)."""

    sign: str
    row: int | None
    text: str


def _rows(source: SourceText, edit: Edit) -> tuple[int, int]:
    first = source.location(edit.start).row
    last = source.location(max(edit.start, edit.end - 1)).row
    return first, last


def _row_count(source: SourceText) -> int:
    return len(source.line_starts) - (1 if source.text.endswith(("\n", "\r")) else 0)


def _groups(source: SourceText, edits: Sequence[Edit]) -> list[tuple[int, int, list[Edit]]]:
    """Edits gathered by the rows they touch; groups closer than two contexts apart are merged."""
    groups: list[tuple[int, int, list[Edit]]] = []
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        first, last = _rows(source, edit)
        if groups and first - groups[-1][1] - 1 <= 2 * CONTEXT:
            start, end, members = groups[-1]
            groups[-1] = (start, max(end, last), [*members, edit])
        else:
            groups.append((first, last, [edit]))
    return groups


def hunks(source: SourceText, edits: Sequence[Edit]) -> list[list[DiffLine]]:
    """The hunks of a fix, in order."""
    rows = _row_count(source)
    found: list[list[DiffLine]] = []
    shift = 0  # rows added (or removed) by the hunks above
    for first, last, members in _groups(source, edits):
        top, bottom = max(1, first - CONTEXT), min(max(rows, 1), last + CONTEXT)
        begin = source.line_starts[top - 1]
        end = source.line_starts[bottom] if bottom < len(source.line_starts) else len(source.text)
        region = source.text[begin:end]
        fixed = apply_edits(region, [Edit(e.start - begin, e.end - begin, e.content) for e in members])
        old, new = region.splitlines(), fixed.splitlines()
        new_top = top + shift
        for group in difflib.SequenceMatcher(None, old, new, autojunk=False).get_grouped_opcodes(CONTEXT):
            lines: list[DiffLine] = []
            for tag, i1, i2, j1, j2 in group:
                if tag == "equal":
                    lines += [DiffLine("|", new_top + j, new[j]) for j in range(j1, j2)]
                    continue
                lines += [DiffLine("-", None, old[i]) for i in range(i1, i2)]
                lines += [DiffLine("+", new_top + j, new[j]) for j in range(j1, j2)]
            found.append(lines)
        shift += len(new) - len(old)
    return found


def render(source: SourceText, edits: Sequence[Edit]) -> list[str]:
    """The lines ruff prints under `help:` for a fix (its gutter as wide as the largest row number)."""
    shown = hunks(source, edits)
    if not shown:
        return []
    width = len(str(max((line.row or 0 for hunk in shown for line in hunk), default=1)))
    bar = " " * (width + 1) + "|"
    out = [bar]
    for index, hunk in enumerate(shown):
        if index:
            out.append("-" * 80)
        for line in hunk:
            number = "" if line.row is None else str(line.row)
            out.append(f"{number:<{width}} {line.sign} {line.text}".rstrip())
    out.append(bar)
    return out
