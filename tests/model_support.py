"""Building a semantic model from a small source, and finding its nodes by their code."""

from __future__ import annotations

import textwrap
from typing import TypeVar

import libcst as cst

from lintdb.model import SemanticModel
from lintdb.model.tree import children

N = TypeVar("N", bound=cst.CSTNode)


def model_of(source: str) -> SemanticModel:
    """The model of a dedented source."""
    return SemanticModel(cst.parse_module(textwrap.dedent(source).lstrip("\n")))


def find(model: SemanticModel, code: str, kind: type[N], nth: int = 0) -> N:
    """The ``nth`` node of ``kind`` (in source order) whose code is ``code``."""
    found: list[N] = []
    stack: list[cst.CSTNode] = [model.module]
    while stack:
        node = stack.pop()
        if isinstance(node, kind) and model.module.code_for_node(node).strip() == code:
            found.append(node)
        stack.extend(reversed(list(children(node))))
    return found[nth]
