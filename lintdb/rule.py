"""The base class of every rule and the example types that double as tests."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

import libcst as cst

from lintdb.diagnostics import Applicability
from lintdb.docs import rule_url
from lintdb.options import RuleOptions

if TYPE_CHECKING:
    from lintdb.model import SemanticModel


@dataclass(frozen=True)
class Span:
    """A stretch of source named by a node, optionally narrowed to code points relative to its start."""

    node: cst.CSTNode
    start: int | None = None
    end: int | None = None


@dataclass(frozen=True)
class TextEdit:
    """Replace a span of the source with new text."""

    span: Span
    content: str


@dataclass(frozen=True)
class Replace:
    """Replace a node with another node (LibCST renders it with the file's own style)."""

    old: cst.CSTNode
    new: cst.CSTNode | cst.FlattenSentinel[cst.BaseStatement] | cst.RemovalSentinel


@dataclass(frozen=True)
class FixSpec:
    """A fix as a rule describes it: text edits and node replacements, applied together."""

    changes: tuple[TextEdit | Replace, ...]
    applicability: Applicability
    title: str


@dataclass(frozen=True)
class Report:
    """A finding before positions are resolved."""

    code: str
    span: Span
    message: str
    fix: FixSpec | None


def _dedent(code: str) -> str:
    return textwrap.dedent(code.lstrip("\n"))


@dataclass(frozen=True)
class Valid:
    """Code the rule must leave alone (near-misses included)."""

    code: str
    options: Mapping[str, object] = field(default_factory=dict)

    def source(self) -> str:
        """The example's text, dedented."""
        return _dedent(self.code)


@dataclass(frozen=True)
class Invalid:
    """Code the rule must flag at ``positions`` (1-based row, column), and what its fix produces.

    ``fixed`` is the text after applying every fix at ``applicability`` or safer; an example whose
    rule offers a fix must state both, and an example with ``fixed=None`` must get no applicable fix.
    """

    code: str
    positions: Sequence[tuple[int, int]]
    fixed: str | None = None
    applicability: Applicability | None = None
    options: Mapping[str, object] = field(default_factory=dict)

    def source(self) -> str:
        """The example's text, dedented."""
        return _dedent(self.code)

    def fixed_source(self) -> str | None:
        """The expected fixed text, dedented."""
        return None if self.fixed is None else _dedent(self.fixed)


class LintRule(cst.BatchableCSTVisitor):
    """A rule: a LibCST visitor run in one batched traversal with every other enabled rule.

    Subclasses set the class attributes below, keep their documentation (ruff's template) as the
    class docstring, and list their examples in VALID and INVALID.
    """

    CODE: ClassVar[str]
    NAME: ClassVar[str]
    MESSAGE: ClassVar[str]
    FIX_TITLE: ClassVar[str | None] = None
    FIX_AVAILABILITY: ClassVar[str] = "None"
    DEFAULT_ENABLED: ClassVar[bool] = True
    VALID: ClassVar[Sequence[Valid]] = ()
    INVALID: ClassVar[Sequence[Invalid]] = ()

    def __init__(self, options: RuleOptions, module: cst.Module, text: str, model: SemanticModel) -> None:
        super().__init__()
        self.options = options
        self.module = module
        self.text = text  # the file's text: `module.code` would regenerate it with a walk of the whole tree
        self.model = model  # the file's semantic model, shared with the other rules
        self.reports: list[Report] = []

    def report(
        self,
        node: cst.CSTNode | Span,
        message: str | None = None,
        *,
        fix: FixSpec | None = None,
    ) -> None:
        """Record a finding at a node (or a narrower span of one)."""
        span = node if isinstance(node, Span) else Span(node)
        self.reports.append(Report(self.CODE, span, message or self.MESSAGE, fix))

    def qualified(self, node: cst.CSTNode) -> set[str]:
        """The qualified names an expression may stand for (`pg.connect` -> `asyncpg.connect` after
        `import asyncpg as pg`): the model's import map."""
        return self.model.qualified_names(node)

    @classmethod
    def url(cls) -> str:
        """The rule's documentation page (docs/rules/, under the default base URL)."""
        return rule_url(cls.CODE, cls.NAME)

    @classmethod
    def documentation(cls) -> str:
        """The rule's documentation in ruff's template."""
        return textwrap.dedent(cls.__doc__ or "").strip() + "\n"
