"""Small LibCST helpers shared by the rules."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Sequence

import libcst as cst


def dotted(node: cst.BaseExpression) -> str | None:
    """`a.b.c` for a Name/Attribute chain, else None."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted(node.value)
        return None if base is None else f"{base}.{node.attr.value}"
    return None


def call_arg(call: cst.Call, index: int | None, keyword: str | None = None) -> cst.Arg | None:
    """The argument at a positional index or with a keyword, if present (None after a `*args`)."""
    position = 0
    for arg in call.args:
        if arg.star:
            if arg.star == "*":
                return None
            continue
        if arg.keyword is not None:
            if keyword is not None and arg.keyword.value == keyword:
                return arg
            continue
        if position == index:
            return arg
        position += 1
    return None


def string_value(node: cst.BaseExpression | None) -> str | None:
    """The value of a plain (non-f, non-bytes) string literal or concatenation of them."""
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def unwrap_await(node: cst.BaseExpression) -> cst.BaseExpression:
    """The awaited expression of `await x`, else the node itself."""
    return node.expression if isinstance(node, cst.Await) else node


def method_call(node: cst.BaseExpression) -> tuple[str, str] | None:
    """(receiver name, method) for `name.method(...)` or `await name.method(...)`."""
    node = unwrap_await(node)
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and isinstance(node.func.value, cst.Name):
        return node.func.value.value, node.func.attr.value
    return None


def statements(suite: cst.BaseSuite) -> Sequence[cst.BaseStatement]:
    """The statements of an indented block (a one-line suite has none that can hold others)."""
    return suite.body if isinstance(suite, cst.IndentedBlock) else ()


def leading_lines(statement: cst.BaseStatement) -> Sequence[cst.EmptyLine]:
    """The comments and blank lines above a statement."""
    lines: Sequence[cst.EmptyLine] = getattr(statement, "leading_lines", ())
    return lines


def with_leading_lines(statement: cst.BaseStatement, lines: Sequence[cst.EmptyLine]) -> cst.BaseStatement:
    """A copy of a statement with other comments and blank lines above it."""
    return statement.with_changes(leading_lines=lines)


def python_string(text: str) -> str:
    """A double-quoted Python string literal for any text (JSON's escapes are valid Python escapes)."""
    return json.dumps(text, ensure_ascii=False)


_TRIVIA = frozenset(
    {
        "lpar",
        "rpar",
        "comma",
        "semicolon",
        "leading_lines",
        "lines_after_decorators",
        "header",
        "footer",
        "newline",
        "trailing_whitespace",
        "equal",
        "colon",
        "dot",
        "operator",
        "asynchronous",
        "star",
        "lbracket",
        "rbracket",
        "lbrace",
        "rbrace",
        "default_comma",
        "whitespace",
    }
)
_FIELDS: dict[type[cst.CSTNode], tuple[str, ...]] = {}


def _fields(kind: type[cst.CSTNode]) -> tuple[str, ...]:
    names = _FIELDS.get(kind)
    if names is None:
        names = tuple(
            f.name for f in dataclasses.fields(kind) if f.name not in _TRIVIA and not f.name.startswith("whitespace")
        )
        _FIELDS[kind] = names
    return names


def children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The nodes directly under ``node`` that can hold code, in source order."""
    for name in _fields(type(node)):
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            yield value
        elif isinstance(value, (tuple, list)):
            for item in value:
                if isinstance(item, cst.CSTNode):
                    yield item
