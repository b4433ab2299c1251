"""Syntax errors as diagnostics, the way ruff reports them: code and name `invalid-syntax`, no fix,
no `noqa_row`, no `url`. Python's own parser words the message and places it (it says more than
LibCST's "expected one of ..." list); LibCST's position is the fallback when only LibCST fails."""

from __future__ import annotations

import ast
import warnings

from lintdb.diagnostics import INVALID_SYNTAX, Diagnostic
from lintdb.engine import InvalidSyntax
from lintdb.source import SourceText


def _python_error(text: str) -> SyntaxError | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text)
    except SyntaxError as error:
        return error
    except (ValueError, MemoryError, RecursionError):
        return None
    return None


def _offset(source: SourceText, row: int, column: int) -> int:
    row = min(max(row, 1), len(source.line_starts))
    start = source.line_starts[row - 1]
    return min(start + max(column, 1) - 1, source.line_end(row))


def syntax_diagnostic(text: str, error: InvalidSyntax) -> Diagnostic:
    """The one `invalid-syntax` diagnostic of a text LibCST could not parse."""
    source = SourceText(text)
    python = _python_error(text)
    if python is not None and python.lineno:
        message = python.msg[:1].upper() + python.msg[1:]
        start = _offset(source, python.lineno, python.offset or 1)
        same_line = python.end_lineno == python.lineno and (python.end_offset or 0) > (python.offset or 0)
        end = _offset(source, python.lineno, python.end_offset or 1) if same_line else start
    else:
        message = "Syntax error (LibCST): " + str(error).split("syntax error: ", 1)[-1].splitlines()[0]
        start = end = _offset(source, error.row, error.column)
    if end == start and end < source.line_end(source.location(start).row):
        end += 1
    location = source.location(start)
    return Diagnostic(INVALID_SYNTAX, INVALID_SYNTAX, message, start, end, location, source.location(end), location.row)
