"""A fix with no edits is never emitted: every rule's examples carry edits or no fix, and a rule that
offers an empty fix is reported as an internal error (its finding dropped) instead of showing `[*]`."""

from __future__ import annotations

import libcst as cst
import pytest

from lintdb.diagnostics import Applicability
from lintdb.engine import FileSettings, lint_source
from lintdb.rule import FixSpec, LintRule
from lintdb.rules import RULES_BY_CODE
from lintdb.rules.ldb101_raw_connection_on_commit_drop import RawConnectionOnCommitDrop

CASES = [(rule, case) for rule in RULES_BY_CODE.values() for case in rule.INVALID]


@pytest.mark.parametrize(("rule", "case"), CASES, ids=[f"{r.CODE}-{i}" for i, (r, _) in enumerate(CASES)])
def test_every_example_fix_has_edits(rule: type[LintRule], case: object) -> None:
    source = case.source()  # type: ignore[attr-defined]
    for diagnostic in lint_source(source, FileSettings(frozenset({rule.CODE}))):
        assert diagnostic.fix is None or diagnostic.fix.edits


class _EmptyFix(RawConnectionOnCommitDrop):
    def visit_Module(self, node: cst.Module) -> None:
        super().visit_Module(node)
        self.report(node, "advice", fix=FixSpec((), Applicability.UNSAFE, "Do something"))


def test_an_empty_fix_is_an_internal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(RULES_BY_CODE, "LDB101", _EmptyFix)
    errors: list[str] = []
    source = RawConnectionOnCommitDrop.INVALID[0].source()
    assert lint_source(source, FileSettings(frozenset({"LDB101"})), errors) == []
    assert errors == [
        "internal error in LDB101 (raw-connection-on-commit-drop): AssertionError: LDB101 emitted a fix with no "
        "edits; the other rules still ran (please report this)"
    ]
