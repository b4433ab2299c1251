"""The second, still cheap, text test: a trigger counts only outside docstrings.

Library code explains its API with examples in docstrings (`text("SELECT ...")`,
`isolation_level="AUTOCOMMIT"`); matching those would send whole modules to LibCST for nothing.
Python's own parser finds the docstrings at a fraction of LibCST's cost.
"""

from __future__ import annotations

import ast
import warnings

_DOCUMENTED = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)


def without_docstrings(text: str) -> str:
    """The text with the lines of every docstring emptied (unchanged when Python cannot parse it:
    LibCST will then report the error)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return text
    lines = text.splitlines(keepends=True)
    emptied = False
    for node in ast.walk(tree):
        if isinstance(node, _DOCUMENTED) and node.body:
            first = node.body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
                and first.end_lineno
            ):
                for index in range(first.lineno - 1, first.end_lineno):
                    lines[index] = "\n"
                emptied = True
    return "".join(lines) if emptied else text
