"""The literal text of a string expression (plain, implicitly concatenated, or an f-string) with a map
from each character back to the node and offset it came from, so a rule can edit a word inside it."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

HOLE = "\x00"  # stands for an f-string `{...}` in the text


@dataclass(frozen=True)
class Piece:
    """A run of literal text: the node that holds it, and where the run starts in that node's code."""

    node: cst.CSTNode
    offset: int
    text: str


@dataclass(frozen=True)
class StringParts:
    """A string expression's text (holes as `HOLE`) and the literal pieces it is made of."""

    text: str
    pieces: tuple[tuple[int, Piece], ...]  # (where the piece starts in `text`, the piece)

    def locate(self, index: int) -> tuple[cst.CSTNode, int] | None:
        """The node and the offset in its code of ``text[index]``, when it is literal text."""
        for start, piece in self.pieces:
            if start <= index < start + len(piece.text):
                return piece.node, piece.offset + index - start
        return None


def _pieces(node: cst.BaseExpression) -> list[Piece | None] | None:
    if isinstance(node, cst.SimpleString):
        if "b" in node.prefix.lower():
            return None
        return [Piece(node, len(node.prefix) + len(node.quote), node.raw_value)]
    if isinstance(node, cst.FormattedString):
        return [Piece(p, 0, p.value) if isinstance(p, cst.FormattedStringText) else None for p in node.parts]
    if isinstance(node, cst.ConcatenatedString):
        left, right = _pieces(node.left), _pieces(node.right)
        return None if left is None or right is None else left + right
    return None


def string_parts(node: cst.BaseExpression) -> StringParts | None:
    """The parts of a string expression, or None for anything else (bytes included)."""
    found = _pieces(node)
    if found is None:
        return None
    text, pieces = "", []
    for piece in found:
        if piece is None:
            text += HOLE
        else:
            pieces.append((len(text), piece))
            text += piece.text
    return StringParts(text, tuple(pieces))
