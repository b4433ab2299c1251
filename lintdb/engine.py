"""The one engine behind every front end: the cheap stages (lintdb.triggers), one LibCST parse, one batched
traversal of the candidate rules, suppressions, LDB900, and the fix loop. LibCST, pglast and the rules are
imported on first need, so a run whose files all fail the cheap stages never loads them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lintdb.catalog import RULES_BY_CODE
from lintdb.diagnostics import Applicability, Diagnostic, Edit, Fix
from lintdb.fixes import apply_fixes
from lintdb.noqa import Suppressions, parse_suppressions
from lintdb.options import RuleOptions
from lintdb.prefilter import MAX_PARSE_CHARS, FileText
from lintdb.source import SourceText
from lintdb.triggers import candidates

if TYPE_CHECKING:  # LibCST and the rules are imported only for files that reach them
    import libcst as cst

    from lintdb.rule import LintRule, Report, Span

UNUSED_NOQA = "LDB900"
MAX_FIX_ITERATIONS = 100


class SourceError(Exception):
    """A file that cannot be linted (syntax error, undecodable); the message is one line."""


class InvalidSyntax(SourceError):
    """LibCST cannot parse the text; ``row`` and ``column`` (1-based) are where it stopped."""

    def __init__(self, message: str, row: int, column: int) -> None:
        super().__init__(message)
        self.row = row
        self.column = column


@dataclass(frozen=True)
class FileSettings:
    """What applies to one file: enabled rules, their options, and fix policy."""

    codes: frozenset[str]
    options: RuleOptions = field(default_factory=RuleOptions)
    fixable: frozenset[str] = field(default_factory=lambda: frozenset(RULES_BY_CODE))
    safe_overrides: frozenset[str] = frozenset()
    unsafe_overrides: frozenset[str] = frozenset()
    honour_noqa: bool = True
    path: Path | None = None  # the file, for the project context (its env.py, alembic.ini, dependencies)


@dataclass
class FixResult:
    """The outcome of fixing one source text."""

    text: str
    diagnostics: list[Diagnostic]
    fixed: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)


def parse(text: str) -> cst.Module:
    """Parse with LibCST, turning its errors into a one-line SourceError."""
    import libcst as cst

    try:
        return cst.parse_module(text)
    except cst.ParserSyntaxError as error:
        raise InvalidSyntax(
            f"{error.raw_line}:{error.raw_column + 1}: syntax error: {error.message}",
            error.raw_line,
            error.raw_column + 1,
        ) from None
    except (RecursionError, ValueError) as error:
        raise SourceError(f"cannot parse: {error}") from None


def _crash(code: str, error: BaseException) -> str:
    return (
        f"internal error in {code} ({RULES_BY_CODE[code].NAME}): {type(error).__name__}: {error}; "
        "the other rules still ran (please report this)"
    )


def _run_rules(
    text: str, rules: list[type[LintRule]], options: RuleOptions, crashes: dict[str, str], path: Path | None = None
) -> list[tuple[Report, int, int, Fix | None]]:
    """Run the rules in one batched traversal. If that raises, each rule runs alone to find the one at
    fault; a crashing rule is recorded in ``crashes`` and the others' findings are kept."""
    from libcst.metadata import ByteSpanPositionProvider, MetadataWrapper

    from lintdb.fix_builder import build_fix
    from lintdb.model import SemanticModel

    if len(text) > MAX_PARSE_CHARS:
        raise SourceError(
            f"too large to parse ({len(text) / 1e6:.1f} million characters, "
            f"limit {MAX_PARSE_CHARS // 1_000_000} million); exclude it with `extend-exclude`"
        )
    module = parse(text)
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    model = SemanticModel(module, options, path)  # each part is built on a rule's first query, once for all rules
    visitors = [rule(options, module, text, model) for rule in rules]
    try:
        wrapper.visit_batched(visitors)
    except Exception:
        visitors = []
        for rule in rules:
            alone = rule(options, module, text, model)
            try:
                wrapper.visit_batched([alone])
            except Exception as error:
                crashes[rule.CODE] = _crash(rule.CODE, error)
                continue
            visitors.append(alone)
    reports = [r for v in visitors for r in v.reports]
    if not reports:
        return []
    code = module.code  # regenerated only for files with findings: it costs a walk of the whole tree
    # LibCST drops a backslash continuation on line 1 and a lone "\r" at the end; offsets shift by the former.
    shift = 0 if text.startswith(code) else text.find(code)
    if shift < 0:
        raise SourceError("LibCST cannot reproduce this file exactly, so it is not checked; please report this")
    spans = wrapper.resolve(ByteSpanPositionProvider)
    to_char = SourceText(code).char_offsets()

    def offsets(span: Span) -> tuple[int, int]:
        where = spans[span.node]
        start = to_char(where.start) + shift
        if span.start is None:
            return start, to_char(where.start + where.length) + shift
        assert span.end is not None
        return start + span.start, start + span.end

    resolved = []
    for report in reports:
        try:
            start, end = offsets(report.span)
            fix = build_fix(report.fix, module, offsets, shift, code) if report.fix else None
            if fix is not None and not fix.edits:  # ruff's fixes always carry edits; advice goes in the message
                raise AssertionError(f"{report.code} emitted a fix with no edits")
        except Exception as error:
            crashes[report.code] = _crash(report.code, error)
            continue
        resolved.append((report, start, end, fix))
    return [r for r in resolved if r[0].code not in crashes]


def _policy(fix: Fix | None, code: str, settings: FileSettings) -> Fix | None:
    if fix is None or code not in settings.fixable:
        return None
    level = fix.applicability
    if code in settings.safe_overrides and level == Applicability.UNSAFE:
        level = Applicability.SAFE
    elif code in settings.unsafe_overrides and level == Applicability.SAFE:
        level = Applicability.UNSAFE
    return Fix(fix.edits, level, fix.title)


def _diagnostic(
    code: str, message: str, start: int, end: int, fix: Fix | None, source: SourceText, noqa: Suppressions
) -> Diagnostic:
    rule = RULES_BY_CODE[code]
    location = source.location(start)
    return Diagnostic(
        code,
        rule.NAME,
        message,
        start,
        end,
        location,
        source.location(end),
        noqa.noqa_row(location.row),
        fix,
        rule.url(),
    )


def _unused_noqa(
    noqa: Suppressions, used: set[tuple[int, str]], settings: FileSettings, source: SourceText
) -> list[Diagnostic]:
    found = []
    for row, directive in sorted(noqa.lines.items()):
        if directive.codes is None:
            continue
        bad: dict[str, list[str]] = {"unused": [], "non-enabled": [], "unknown": []}
        for code, _, _ in directive.codes:
            if not code.startswith("LDB") or (row, code) in used:
                continue
            kind = "unknown" if code not in RULES_BY_CODE else "non-enabled" if code not in settings.codes else "unused"
            bad[kind].append(code)
        removed = {c for codes in bad.values() for c in codes}
        if not removed:
            continue
        detail = "; ".join(f"{kind}: {', '.join(f'`{c}`' for c in codes)}" for kind, codes in bad.items() if codes)
        kept = [c for c, _, _ in directive.codes if c not in removed]
        if kept:
            edit = Edit(directive.codes[0][1], directive.end, ", ".join(kept))
        elif source.text[directive.end : directive.comment_end].strip():
            noqa_at = source.text.lower().index("noqa", directive.start)
            end = directive.end
            while end < directive.comment_end and source.text[end] == " ":
                end += 1
            edit = Edit(noqa_at, end, "")
        else:
            start = directive.start
            while start > 0 and source.text[start - 1] in " \t":
                start -= 1
            edit = Edit(start, directive.end, "")
        fix = Fix((edit,), Applicability.SAFE, "Remove unused `noqa` directive")
        found.append(
            _diagnostic(
                UNUSED_NOQA,
                f"Unused `noqa` directive ({detail})",
                directive.start,
                directive.end,
                _policy(fix, UNUSED_NOQA, settings),
                source,
                noqa,
            )
        )
    return found


def _crash_errors(crashes: dict[str, str], errors: list[str] | None) -> list[Diagnostic]:
    """Hand rule crashes to the caller's error list, or raise the first when it keeps none."""
    if crashes and errors is None:
        raise SourceError(next(iter(crashes.values())))
    if errors is not None:
        errors.extend(message for message in crashes.values() if message not in errors)
    return []


def candidate_codes(text: str, codes: Collection[str], options: RuleOptions | None = None) -> list[str]:
    """The codes, of ``codes``, whose text triggers fire on ``text`` and whose candidate check passes: the
    rules that can have a finding in it (the others cannot)."""
    return candidates(FileText(text), sorted(codes), options)


def _rule_classes(codes: list[str]) -> list[type[LintRule]]:
    if not codes:
        return []
    from lintdb.rules import RULES_BY_CODE as RULE_CLASSES

    return [RULE_CLASSES[code] for code in codes]


def lint_source(text: str, settings: FileSettings, errors: list[str] | None = None) -> list[Diagnostic]:
    """Every unsuppressed diagnostic of one source text, sorted by position.

    Only candidate rules run (see `candidate_codes`), and a text with none is never parsed by LibCST.
    Raises SourceError for text LibCST cannot parse. A rule that crashes is reported in
    ``errors`` (raised as SourceError when ``errors`` is None) and the other rules' findings are kept.
    """
    view = FileText(text)
    codes = [c for c in sorted(settings.codes) if c != UNUSED_NOQA]
    triggered = _rule_classes(candidates(view, codes, settings.options))
    judge_noqa = UNUSED_NOQA in settings.codes and settings.honour_noqa and "LDB" in text and "noqa" in view.lowered
    if not triggered and not judge_noqa:
        return []
    source = SourceText(text)
    crashes: dict[str, str] = {}
    resolved = _run_rules(text, triggered, settings.options, crashes, settings.path) if triggered else []
    if not resolved and not judge_noqa:
        return _crash_errors(crashes, errors)

    _crash_errors(crashes, errors)
    noqa = parse_suppressions(text, source.line_starts) if settings.honour_noqa else Suppressions()
    used: set[tuple[int, str]] = set()
    diagnostics = []
    for report, start, end, fix in resolved:
        diagnostic = _diagnostic(
            report.code, report.message, start, end, _policy(fix, report.code, settings), source, noqa
        )
        directive = noqa.lines.get(diagnostic.noqa_row)
        if noqa.file_all or report.code in noqa.file_codes:
            continue
        if directive is not None:
            if directive.codes is None:
                continue
            if any(c == report.code for c, _, _ in directive.codes):
                used.add((directive.row, report.code))
                continue
        diagnostics.append(diagnostic)
    if judge_noqa and not noqa.file_all and UNUSED_NOQA not in noqa.file_codes:
        used |= {(row, code) for row in noqa.lines for code in crashes}
        diagnostics.extend(_unused_noqa(noqa, used, settings, source))
    return sorted(diagnostics, key=lambda d: (d.start, d.end, d.code))


def fix_source(text: str, settings: FileSettings, minimum: Applicability) -> FixResult:
    """Apply fixes at ``minimum`` applicability or safer, re-linting until nothing changes (bounded).

    Raises SourceError when a round's output does not parse: the caller leaves the file untouched.
    """
    fixed: Counter[str] = Counter()
    errors: list[str] = []
    diagnostics = lint_source(text, settings, errors)
    for _ in range(MAX_FIX_ITERATIONS):
        fixes = [d for d in diagnostics if d.fix is not None and d.fix.applicability >= minimum and d.fix.edits]
        if not fixes:
            break
        new_text, applied = apply_fixes(text, [(d.code, d.fix) for d in fixes if d.fix is not None])
        if new_text == text:
            break
        try:
            parse(new_text)
        except SourceError as error:
            codes = ", ".join(sorted(applied))
            raise SourceError(
                f"a fix by {codes} produced code that does not parse, so the file was left unchanged ({error}); "
                "please report this"
            ) from None
        new_diagnostics = lint_source(new_text, settings, errors)
        fixed.update(applied)
        text, diagnostics = new_text, new_diagnostics
    return FixResult(text, diagnostics, fixed, errors)


def lint_file_text(text: str, settings: FileSettings, fix: Applicability | None) -> FixResult:
    """Lint, or fix then lint, one text."""
    if fix is None:
        errors: list[str] = []
        return FixResult(text, lint_source(text, settings, errors), errors=errors)
    return fix_source(text, settings, fix)
