"""One file's text as the cheap stages see it: lower-cased, with docstrings emptied, and Python's own
`ast` tree (parsed once, on first use, shared by the docstring stage and every rule's candidate check).

Library code explains its API with examples in docstrings (`text("SELECT ...")`,
`isolation_level="AUTOCOMMIT"`); matching those would send whole modules to LibCST for nothing.
Python's own parser finds the docstrings at a fraction of LibCST's cost.
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Iterator
from functools import cached_property
from typing import TypeVar

Node = TypeVar("Node", bound=ast.AST)

# What an f-string hole or a non-literal operand of `+` becomes in a folded string: an identifier, so the
# SQL around it still parses (the SQL rules use the same placeholder).
HOLE = "lintdb_hole"
# Larger texts are not parsed: LibCST would take minutes (the engine reports them instead).
MAX_PARSE_CHARS = 2_000_000


class FileText:
    """A source text and what the stages derive from it, each computed once."""

    def __init__(self, text: str) -> None:
        self.text = text

    @cached_property
    def lowered(self) -> str:
        """The text in lower case (for the gate words)."""
        return self.text.lower()

    @cached_property
    def tree(self) -> ast.Module | None:
        """Python's tree of the text, or None when Python cannot parse it (LibCST then reports why) or the
        text is too large for LibCST (the engine then says so)."""
        if len(self.text) > MAX_PARSE_CHARS:
            return None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return ast.parse(self.text)
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            return None

    @cached_property
    def _index(self) -> dict[type[ast.AST], list[ast.AST]]:
        """Every node of the tree by type, from one walk (Python-level walks are the cost of this stage)."""
        index: dict[type[ast.AST], list[ast.AST]] = {}
        if self.tree is None:
            return index
        pending: list[ast.AST] = [self.tree]
        for node in pending:  # the list grows while it is read: a breadth-first walk without a generator
            index.setdefault(type(node), []).append(node)
            for name in node._fields:
                value = getattr(node, name, None)
                if isinstance(value, list):
                    pending.extend(item for item in value if isinstance(item, ast.AST))
                elif isinstance(value, ast.AST):
                    pending.append(value)
        return index

    def nodes(self, *kinds: type[Node]) -> list[Node]:
        """The tree's nodes of the given types (none when Python cannot parse the text)."""
        found: list[Node] = []
        for kind in kinds:
            found.extend(self._index.get(kind, ()))  # type: ignore[arg-type]
        return found

    @cached_property
    def code(self) -> str:
        """The text with the lines of every docstring emptied."""
        if self.tree is None:
            return self.text
        lines = self.text.splitlines(keepends=True)
        emptied = False
        for body in _documented_bodies(self.tree):
            first = body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
                and first.end_lineno
            ):
                for index in range(first.lineno - 1, first.end_lineno):
                    lines[index] = "\n"
                emptied = True
        return "".join(lines) if emptied else self.text

    @cached_property
    def code_lowered(self) -> str:
        """The docstring-free text in lower case."""
        return self.lowered if self.code is self.text else self.code.lower()

    @cached_property
    def strings(self) -> tuple[str, ...]:
        """Every string value of the code but bare string statements (docstrings, comments in quotes):
        literals, f-strings and `+` concatenations folded into one text, holes as HOLE."""
        return tuple(strings_in(self.tree, skip_statements=True)) if self.tree is not None else ()


def _documented_bodies(tree: ast.Module) -> Iterator[list[ast.stmt]]:
    """The bodies of the module and of every class and function, found through statements only (a walk of
    every expression costs several times more)."""
    yield tree.body
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        statement = pending.pop()
        if isinstance(statement, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            yield statement.body
        pending.extend(inner_statements(statement))


def inner_statements(statement: ast.stmt) -> list[ast.stmt]:
    """The statements directly in a statement's blocks (body, else, finally, handlers, match cases)."""
    found: list[ast.stmt] = []
    for name in ("body", "orelse", "finalbody"):
        block = getattr(statement, name, None)
        if isinstance(block, list):
            found.extend(block)
    for part in (*getattr(statement, "handlers", ()), *getattr(statement, "cases", ())):
        found.extend(part.body)
    return found


def fold(node: ast.expr) -> str | None:
    """The text of a string literal, f-string or `+` concatenation with at least one string operand
    (other operands and f-string holes become HOLE); None for anything else."""
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.JoinedStr):
        return "".join(
            part.value if isinstance(part, ast.Constant) and isinstance(part.value, str) else HOLE
            for part in node.values
        )
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = fold(node.left), fold(node.right)
        if left is None and right is None:
            return None
        return (HOLE if left is None else left) + (HOLE if right is None else right)
    return None


def strings_in(node: ast.AST, skip_statements: bool = False) -> Iterator[str]:
    """The folded strings under ``node``, each concatenation or f-string once (not its parts)."""
    stack = [node]
    while stack:
        current = stack.pop()
        if skip_statements and isinstance(current, ast.Expr) and isinstance(current.value, ast.Constant):
            continue
        if isinstance(current, (ast.Constant, ast.JoinedStr, ast.BinOp)):
            text = fold(current)
            if text is not None:
                yield text
                continue
        stack.extend(ast.iter_child_nodes(current))


def dotted_name(node: ast.expr) -> str | None:
    """`a.b.c` for a Name/Attribute chain of Python's `ast`, else None."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted_name(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None
