"""SQL held in Python strings: extraction with a map back to the source, and pglast's tokens.

A literal, an f-string (holes become placeholders), an implicit concatenation, `+`, `%` and `.format`
(placeholders become holes), or a name the semantic model follows all yield one ``SqlString`` whose
characters map back to source spans.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import libcst as cst
import pglast
from pglast import enums
from pglast import parser as pg_parser

from lintdb.prefilter import HOLE
from lintdb.rule import Span
from lintdb.triggers import SQLALCHEMY_BIND

SQLALCHEMY_TEXT = frozenset({"sqlalchemy.text", "sqlalchemy.sql.text", "sqlalchemy.sql.expression.text"})
_SIMPLE_ESCAPES = {"\\", "'", '"', "a", "b", "f", "n", "r", "t", "v"}
_ESCAPE = re.compile(r"\\(?:\r\n|\n|N\{[^}]*\}|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{1,3}|.)", re.S)


@dataclass(frozen=True)
class _Piece:
    """A run of SQL text from one literal part; ``rel[i]`` is the source offset (relative to
    ``node``'s start) of SQL character ``start + i``, or None for hole placeholders."""

    start: int
    node: cst.CSTNode | None
    raw: str
    rel: tuple[int, ...]


@dataclass(frozen=True)
class SqlToken:
    """A pglast scanner token, with code-point offsets into the SQL text (end exclusive)."""

    name: str
    start: int
    end: int


class SqlString:
    """The SQL text of an expression and the way back from its characters to the source."""

    def __init__(self, text: str, pieces: tuple[_Piece, ...]) -> None:
        self.text = text
        self._pieces = pieces

    def span(self, start: int, end: int) -> Span | None:
        """The source span of SQL text ``[start, end)`` when it is spelled the same in the source."""
        for piece in self._pieces:
            if piece.node is None or not piece.start <= start < end <= piece.start + len(piece.rel):
                continue
            rel_start = piece.rel[start - piece.start]
            rel_end = piece.rel[end - 1 - piece.start] + 1
            if piece.raw[rel_start:rel_end] == self.text[start:end]:
                return Span(piece.node, rel_start, rel_end)
        return None

    def with_binds_as_params(self) -> SqlString:
        """The text with SQLAlchemy `text()` bind parameters (`:name`) written as `$1`, padded to the same
        length so every position still maps to the source."""
        return SqlString(SQLALCHEMY_BIND.sub(lambda m: "$1".ljust(len(m.group(0))), self.text), self._pieces)

    def tokens(self) -> list[SqlToken]:
        """PostgreSQL's own lexer over the text; an unterminated literal gives no tokens."""
        try:
            raw = pg_parser.scan(self.text)
        except pg_parser.ParseError:
            return []
        data = self.text.encode("utf-8")
        if len(data) == len(self.text):
            return [SqlToken(t.name, t.start, t.end + 1) for t in raw]
        to_char = [0] * (len(data) + 1)
        pos = 0
        for index, char in enumerate(self.text):
            for _ in range(len(char.encode("utf-8"))):
                to_char[pos] = index
                pos += 1
        to_char[len(data)] = len(self.text)
        return [SqlToken(t.name, to_char[t.start], to_char[t.end + 1]) for t in raw]


def _decode(body: str, is_raw: bool, fstring: bool) -> tuple[str, list[int]]:
    """Decode a string body, returning the text and each character's offset in ``body``."""
    out: list[str] = []
    rel: list[int] = []
    pos = 0
    while pos < len(body):
        char = body[pos]
        if fstring and body.startswith(("{{", "}}"), pos):
            out.append(char)
            rel.append(pos)
            pos += 2
            continue
        if char == "\\" and not is_raw:
            match = _ESCAPE.match(body, pos)
            assert match is not None
            escape = match.group()
            value = (
                ast.literal_eval('"' + escape + '"')
                if escape[1] in "xuUN01234567" or escape[1] in _SIMPLE_ESCAPES
                else escape
            )
            if escape[1] in "\r\n":
                value = ""
            for part in value:
                out.append(part)
                rel.append(pos)
            pos = match.end()
            continue
        out.append(char)
        rel.append(pos)
        pos += 1
    return "".join(out), rel


def _quote_len(value: str) -> int:
    return 3 if value.startswith(('"""', "'''")) else 1


# What a string text is made of: (anchor node, raw source of the anchor, decoded text, map) per part;
# a hole has no anchor and the text HOLE.
Parts = list[tuple[cst.CSTNode | None, str, str, list[int]]]
# Follows a name or attribute to the expression it holds (the model's value lookup), with a depth.
Resolve = Callable[[cst.BaseExpression, int], "cst.BaseExpression | None"]
_HOLE_PART: tuple[cst.CSTNode | None, str, str, list[int]] = (None, "", HOLE, [])
# `%s`, `%(name)s`, `%5.2f` and `%%` in `"..." % args`; `{}`, `{0}`, `{name!r:>5}`, `{{` in `"...".format()`.
_PERCENT = re.compile(r"%%|%(?:\(\w+\))?[-#0 +]*\d*(?:\.\d+)?[sdifrxXeEgGc]")
_FORMAT = re.compile(r"\{\{|\}\}|\{[^{}]*\}")
MAX_DEPTH = 8


def _substitute(parts: Parts, pattern: re.Pattern[str], escapes: Mapping[str, str]) -> Parts:
    """The parts with each placeholder made a hole and each escape (`%%`, `{{`) its character."""
    out: Parts = []
    for anchor, raw, text, rel in parts:
        if anchor is None:
            out.append((anchor, raw, text, rel))
            continue
        pos = 0
        for match in pattern.finditer(text):
            if match.start() > pos:
                out.append((anchor, raw, text[pos : match.start()], rel[pos : match.start()]))
            token = match.group()
            if token in escapes:
                out.append((anchor, raw, escapes[token], rel[match.start() : match.start() + 1]))
            else:
                out.append(_HOLE_PART)
            pos = match.end()
        if pos < len(text):
            out.append((anchor, raw, text[pos:], rel[pos:]))
    return out


def _parts(node: cst.BaseExpression, resolve: Resolve | None, depth: int) -> Parts:
    """The parts of a string expression; raise ValueError if it is not (only) string text."""
    if depth > MAX_DEPTH:
        raise ValueError("too deep")
    if isinstance(node, cst.SimpleString):
        prefix = node.prefix.lower()
        if "b" in prefix:
            raise ValueError("bytes")
        quote = _quote_len(node.value[len(prefix) :])
        body_start = len(prefix) + quote
        text, rel = _decode(node.value[body_start : len(node.value) - quote], "r" in prefix, False)
        return [(node, node.value, text, [r + body_start for r in rel])]
    if isinstance(node, cst.ConcatenatedString):
        return _parts(node.left, resolve, depth) + _parts(node.right, resolve, depth)
    if isinstance(node, cst.FormattedString):
        prefix = node.prefix.lower()
        if "b" in prefix:
            raise ValueError("bytes")
        found: Parts = []
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                text, rel = _decode(part.value, "r" in prefix, True)
                found.append((part, part.value, text, rel))
            else:
                found.append(_HOLE_PART)
        return found
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
        sides = []
        for side in (node.left, node.right):
            try:
                sides.append(_parts(side, resolve, depth + 1))
            except ValueError:
                sides.append([_HOLE_PART])
        if all(s == [_HOLE_PART] for s in sides):
            raise ValueError("no string in the concatenation")
        return sides[0] + sides[1]
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Modulo):
        return _substitute(_parts(node.left, resolve, depth + 1), _PERCENT, {"%%": "%"})
    if (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value == "format"
        and isinstance(node.func.value, (cst.SimpleString, cst.ConcatenatedString, cst.Name, cst.Attribute))
    ):
        return _substitute(_parts(node.func.value, resolve, depth + 1), _FORMAT, {"{{": "{", "}}": "}"})
    if resolve is not None and isinstance(node, (cst.Name, cst.Attribute, cst.Call)):
        value = resolve(node, depth)
        if value is not None and value is not node:
            return _parts(value, resolve, depth + 1)
    raise ValueError("not a string")


def sql_string(node: cst.BaseExpression, resolve: Resolve | None = None, depth: int = 0) -> SqlString | None:
    """The SQL text of a string expression, or None when it is not (only) string text. ``resolve``
    follows names, attributes and calls such as `os.environ.get(NAME, default)` to what they hold."""
    try:
        parts = _parts(node, resolve, depth)
    except ValueError:
        return None
    pieces: list[_Piece] = []
    texts: list[str] = []
    offset = 0
    for anchor, raw, text, rel in parts:
        pieces.append(_Piece(offset, anchor, raw, tuple(rel)))
        texts.append(text)
        offset += len(text)
    return SqlString("".join(texts), tuple(pieces))


@dataclass(frozen=True)
class TempTable:
    """A `CREATE TEMP TABLE` statement: the table's schema and name (None when a hole), ON COMMIT DROP,
    and IF NOT EXISTS."""

    schema: str | None
    name: str | None
    on_commit_drop: bool
    if_not_exists: bool = False


def statements(sql: str) -> tuple[pglast.ast.RawStmt, ...]:
    """PostgreSQL's parse of the text; a text it rejects has no statements. An f-string hole may stand
    for a whole query (`... ON COMMIT DROP AS {query}`): see clause_holes."""
    try:
        return tuple(pglast.parse_sql(sql))
    except pg_parser.ParseError:
        return clause_holes(sql)


MAX_CLAUSE_HOLES = 4


def clause_holes(sql: str) -> tuple[pglast.ast.RawStmt, ...]:
    """The parse of a text that PostgreSQL rejects with its holes as names, with one hole read as a
    query (`SELECT 1`) instead; () when no such reading parses, or the text has too many holes."""
    pieces = sql.split(HOLE)
    if not 1 < len(pieces) <= MAX_CLAUSE_HOLES + 1:
        return ()
    for index in range(1, len(pieces)):
        text = HOLE.join(pieces[:index]) + "SELECT 1" + HOLE.join(pieces[index:])
        try:
            return tuple(pglast.parse_sql(text))
        except pg_parser.ParseError:
            continue
    return ()


def temp_tables(sql: str) -> list[TempTable]:
    """The temporary tables a SQL text creates."""
    found = []
    for raw in statements(sql):
        stmt = raw.stmt
        if isinstance(stmt, pglast.ast.CreateStmt):
            relation, drop, exists = (
                stmt.relation,
                stmt.oncommit == enums.OnCommitAction.ONCOMMIT_DROP,
                bool(stmt.if_not_exists),
            )
        elif isinstance(stmt, pglast.ast.CreateTableAsStmt) and stmt.into is not None:
            relation, drop, exists = (
                stmt.into.rel,
                stmt.into.onCommit == enums.OnCommitAction.ONCOMMIT_DROP,
                bool(stmt.if_not_exists),
            )
        else:
            continue
        if relation is not None and relation.relpersistence == "t":
            name = None if relation.relname == HOLE else relation.relname
            found.append(TempTable(relation.schemaname, name, drop, exists))
    return found


def dropped_tables(sql: str, if_exists: bool = False) -> list[tuple[str | None, str]]:
    """(schema, table) for each table a `DROP TABLE` statement drops (only `IF EXISTS` ones when asked)."""
    found = []
    for raw in statements(sql):
        stmt = raw.stmt
        if (
            isinstance(stmt, pglast.ast.DropStmt)
            and stmt.removeType == enums.ObjectType.OBJECT_TABLE
            and (stmt.missing_ok or not if_exists)
        ):
            for names in stmt.objects or ():
                parts = [n.sval for n in names]
                found.append((parts[-2] if len(parts) > 1 else None, parts[-1]))
    return found


_PLAIN_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def quote_identifier(schema: str | None, name: str) -> str:
    """`[schema.]name` as SQL, double-quoting any part PostgreSQL would case-fold or not accept bare."""
    return ".".join(p if _PLAIN_IDENTIFIER.match(p) else '"' + p.replace('"', '""') + '"' for p in (schema, name) if p)
