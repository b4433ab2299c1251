"""Suppression comments: `# noqa[: CODES]`, file-level `# lintdb|ruff|flake8: noqa[: CODES]`, and where
a `# noqa` must go for a finding inside a multi-line string (ruff's `noqa_row`)."""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass, field

_CODES = r"[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*"
_LINE_NOQA = re.compile(r"#\s*(?i:noqa)(?P<colon>\s*:\s*(?P<codes>" + _CODES + r"))?")
_FILE_NOQA = re.compile(
    r"#\s*(?P<tool>(?i:lintdb|ruff|flake8))\s*:\s*(?i:noqa)(?:\s*:\s*(?P<codes>" + _CODES + r"))?\s*$"
)
_CODE = re.compile(r"[A-Z]+[0-9]+")


@dataclass(frozen=True)
class Directive:
    """A line `# noqa`: its offsets in the source and its codes (None for a blanket `# noqa`)."""

    row: int
    start: int
    end: int
    codes: tuple[tuple[str, int, int], ...] | None
    comment_end: int


@dataclass
class Suppressions:
    """Every suppression in one file, and the row mapping for findings in multi-line strings."""

    lines: dict[int, Directive] = field(default_factory=dict)
    file_all: bool = False
    file_codes: set[str] = field(default_factory=set)
    noqa_rows: dict[int, int] = field(default_factory=dict)

    def noqa_row(self, row: int) -> int:
        """The row a `# noqa` must be on to cover a finding that starts on ``row``."""
        return self.noqa_rows.get(row, row)


def _codes(text: str, base: int) -> tuple[tuple[str, int, int], ...]:
    return tuple((m.group(), base + m.start(), base + m.end()) for m in _CODE.finditer(text))


def parse_suppressions(text: str, line_starts: list[int]) -> Suppressions:
    """Read the comments of a file with Python's tokenizer (so `# noqa` inside strings is ignored)."""
    found = Suppressions()
    previous_row = 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            (row, col), (end_row, _) = token.start, token.end
            if token.type == tokenize.STRING and end_row > row:
                for inner in range(row, end_row):
                    found.noqa_rows[inner] = end_row
            if token.type != tokenize.COMMENT:
                if token.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
                    previous_row = end_row
                continue
            offset = line_starts[row - 1] + col
            own_line = previous_row != row
            whole = _FILE_NOQA.match(token.string)
            if own_line and whole:
                tool = whole.group("tool").lower()
                if whole.group("codes"):
                    found.file_codes.update(c for c, _, _ in _codes(whole.group("codes"), 0))
                elif tool != "ruff":
                    found.file_all = True
                continue
            match = _LINE_NOQA.search(token.string)
            if match and (match.group("codes") or not token.string[match.end() :].lstrip().startswith(":")):
                codes = _codes(match.group("codes"), offset + match.start("codes")) if match.group("codes") else None
                found.lines[row] = Directive(
                    row, offset + match.start(), offset + match.end(), codes, offset + len(token.string)
                )
    except (tokenize.TokenError, SyntaxError):
        pass
    return found
