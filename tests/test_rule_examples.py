"""Every rule's VALID and INVALID examples, run as tests (Fixit's model, made stricter: a rule that
emits an applicable fix for an example that declares none fails)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from lintdb.config import build_settings
from lintdb.diagnostics import Applicability
from lintdb.engine import FileSettings, fix_source, lint_source, parse
from lintdb.rule import Invalid, LintRule, Valid
from lintdb.rules import RULES

REQUIRED_SECTIONS = ("## What it does", "## Why is this bad?", "## Example", "Use instead:", "## References")


def _settings(options: object) -> FileSettings:
    """The settings of an example: it stands alone, with no project around it (its options say the rest)."""
    settings = build_settings(dict(options), {"select": ["ALL"]}, Path.cwd(), None)  # type: ignore[call-overload]
    return dataclasses.replace(settings.for_file(Path("example.py")), path=None)


def _cases(kind: str) -> list[object]:
    return [
        pytest.param(rule, case, id=f"{rule.CODE}-{kind}-{i}")
        for rule in RULES
        for i, case in enumerate(getattr(rule, kind))
    ]


@pytest.mark.parametrize(("rule", "case"), _cases("VALID"))
def test_valid(rule: type[LintRule], case: Valid) -> None:
    assert lint_source(case.source(), _settings(case.options)) == []


@pytest.mark.parametrize(("rule", "case"), _cases("INVALID"))
def test_invalid(rule: type[LintRule], case: Invalid) -> None:
    settings = _settings(case.options)
    diagnostics = lint_source(case.source(), settings)
    assert [(d.code, d.location.row, d.location.column) for d in diagnostics] == [
        (rule.CODE, r, c) for r, c in case.positions
    ]
    assert all(d.message and d.name == rule.NAME for d in diagnostics)
    applicable = [
        d
        for d in diagnostics
        if d.fix is not None and d.fix.applicability != Applicability.DISPLAY_ONLY and d.fix.edits
    ]
    if case.fixed_source() is None:
        assert not applicable, "the rule offers a fix the example does not expect"
        if case.applicability is not None:
            assert {d.fix.applicability for d in diagnostics if d.fix} == {case.applicability}
        return
    assert case.applicability is not None, "an example with a fix must state its applicability"
    assert {d.fix.applicability for d in applicable} == {case.applicability}
    if case.applicability == Applicability.UNSAFE:
        assert fix_source(case.source(), settings, Applicability.SAFE).text == case.source(), (
            "an unsafe fix was applied by a safe --fix"
        )
    fixed = fix_source(case.source(), settings, case.applicability)
    assert fixed.text == case.fixed_source()
    parse(fixed.text)
    assert [d for d in fixed.diagnostics if d.code == rule.CODE] == []
    assert fix_source(fixed.text, settings, Applicability.UNSAFE).text == fixed.text, "a second --fix changed the file"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.CODE)
def test_rule_has_examples_and_docs(rule: type[LintRule]) -> None:
    assert rule.VALID and rule.INVALID
    docs = rule.documentation()
    for section in REQUIRED_SECTIONS:
        assert section in docs, f"{rule.CODE} docs lack {section!r}"
    if rule.FIX_AVAILABILITY != "None" and any(c.applicability != Applicability.SAFE for c in rule.INVALID):
        assert "## Fix safety" in docs
    assert rule.NAME.lower() == rule.NAME and " " not in rule.NAME
