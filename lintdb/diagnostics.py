"""Value types shared by the engine and every front end: locations, edits, fixes, diagnostics."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

INVALID_SYNTAX = "invalid-syntax"  # ruff's code and name for a file that does not parse


class Applicability(enum.IntEnum):
    """How sure a fix is, with ruff's three levels; higher means safer."""

    DISPLAY_ONLY = 0
    UNSAFE = 1
    SAFE = 2

    @property
    def label(self) -> str:
        """The spelling used in ruff's JSON (``displayonly``, not ``display-only``)."""
        return {0: "displayonly", 1: "unsafe", 2: "safe"}[int(self)]


@dataclass(frozen=True, order=True)
class Location:
    """A 1-based row and 1-based column counted in code points."""

    row: int
    column: int


@dataclass(frozen=True)
class Edit:
    """Replace the text between two offsets (code points, end exclusive) of the source."""

    start: int
    end: int
    content: str


@dataclass(frozen=True)
class Fix:
    """A set of edits that together repair one diagnostic."""

    edits: tuple[Edit, ...]
    applicability: Applicability
    title: str


@dataclass(frozen=True)
class Diagnostic:
    """One finding in one file. ``start``/``end`` are source offsets; rows and columns derive from them."""

    code: str
    name: str
    message: str
    start: int
    end: int
    location: Location
    end_location: Location
    noqa_row: int
    fix: Fix | None = None
    url: str = ""
    filename: str = field(default="", compare=False)

    @property
    def is_syntax_error(self) -> bool:
        """A file that does not parse: no rule, no fix, no `noqa` row or documentation URL."""
        return self.code == INVALID_SYNTAX
