"""Offsets, rows and columns of one source text, counted the way LibCST and ruff count them."""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable

from lintdb.diagnostics import Location

_NEWLINE = re.compile(r"\r\n|\r|\n")


class SourceText:
    """A source string with its line starts, to turn offsets into 1-based locations and back."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.line_starts = [0] + [m.end() for m in _NEWLINE.finditer(text)]
        first = _NEWLINE.search(text)
        self.newline = first.group() if first else "\n"

    def char_offsets(self) -> Callable[[int], int]:
        """Turns offsets into the UTF-8 encoding of the text (LibCST's byte spans) into code-point offsets."""
        data = self.text.encode("utf-8")
        if len(data) == len(self.text):
            return lambda offset: offset
        starts = [0]
        for char in self.text:
            starts.append(starts[-1] + len(char.encode("utf-8")))
        return lambda offset: bisect.bisect_left(starts, offset)

    def location(self, offset: int) -> Location:
        """The 1-based row and column of an offset."""
        row = bisect.bisect_right(self.line_starts, offset) - 1
        return Location(row + 1, offset - self.line_starts[row] + 1)

    def line_end(self, row: int) -> int:
        """The offset just before the newline that ends a 1-based row."""
        if row >= len(self.line_starts):
            return len(self.text)
        end = self.line_starts[row]
        while end > self.line_starts[row - 1] and self.text[end - 1] in "\r\n":
            end -= 1
        return end

    def line(self, row: int) -> str:
        """The text of a 1-based row without its newline."""
        return self.text[self.line_starts[row - 1] : self.line_end(row)]
