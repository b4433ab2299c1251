"""Report formats, shaped like ruff's so that anything reading ruff's output reads lintdb's."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from lintdb import __version__, fix_display
from lintdb.catalog import RULES_BY_CODE
from lintdb.diagnostics import Applicability, Diagnostic, Location
from lintdb.docs import DEFAULT_DOCS_URL, REPOSITORY_URL, rule_url
from lintdb.source import SourceText

SNIPPET_CONTEXT = 2  # source lines shown above and below a finding, as ruff shows them


@dataclass(frozen=True)
class Found:
    """A diagnostic with the file it belongs to and that file's text."""

    path: Path
    diagnostic: Diagnostic
    source: SourceText


@dataclass(frozen=True)
class View:
    """What every format may need: the findings, and which fixes the current flags would apply."""

    found: Sequence[Found]
    unsafe_fixes: bool
    docs_url: str = DEFAULT_DOCS_URL

    def url(self, diagnostic: Diagnostic) -> str | None:
        """A diagnostic's documentation: lintdb's rules under the configured base, other tools' as given."""
        if diagnostic.is_syntax_error:
            return None
        rule = RULES_BY_CODE.get(diagnostic.code)
        return rule_url(rule.CODE, rule.NAME, self.docs_url) if rule is not None else diagnostic.url or None

    def applicable(self, diagnostic: Diagnostic) -> bool:
        """Whether `--fix` would apply this diagnostic's fix under the current flags."""
        fix = diagnostic.fix
        minimum = Applicability.UNSAFE if self.unsafe_fixes else Applicability.SAFE
        return fix is not None and fix.applicability >= minimum


def relative(path: Path) -> str:
    """The path as ruff prints it in human formats: relative to the working directory when inside it."""
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def _location(location: Location) -> dict[str, int]:
    return {"column": location.column, "row": location.row}


def _json_object(item: Found, view: View) -> dict[str, Any]:
    d = item.diagnostic
    fix = None
    if d.fix is not None:
        fix = {
            "applicability": d.fix.applicability.label,
            "edits": [
                {
                    "content": e.content,
                    "end_location": _location(item.source.location(e.end)),
                    "location": _location(item.source.location(e.start)),
                }
                for e in d.fix.edits
            ],
            "message": d.fix.title,
        }
    return {
        "cell": None,
        "code": d.code,
        "end_location": _location(d.end_location),
        "filename": str(item.path),
        "fix": fix,
        "location": _location(d.location),
        "message": d.message,
        "name": d.name,
        "noqa_row": None if d.is_syntax_error else d.noqa_row,
        "severity": "error",
        "url": view.url(d),
    }


def render_json(view: View) -> str:
    return json.dumps([_json_object(f, view) for f in view.found], indent=2, ensure_ascii=False) + "\n"


def render_json_lines(view: View) -> str:
    return "".join(json.dumps(_json_object(f, view), ensure_ascii=False) + "\n" for f in view.found)


def _marker(view: View, d: Diagnostic) -> str:
    return "[*] " if view.applicable(d) else ""


def _code(d: Diagnostic) -> str:
    """The code as ruff prints it before a message: `F401 …`, but `invalid-syntax: …`."""
    return f"{d.code}:" if d.is_syntax_error else d.code


def render_concise(view: View) -> str:
    return "".join(
        f"{relative(f.path)}:{f.diagnostic.location.row}:{f.diagnostic.location.column}: "
        f"{_code(f.diagnostic)} {_marker(view, f.diagnostic)}{f.diagnostic.message}\n"
        for f in view.found
    )


def _context(source: SourceText, first: int, last: int) -> tuple[list[int], list[int]]:
    rows = len(source.line_starts) - (1 if source.text.endswith(("\n", "\r")) else 0)
    before = list(range(max(1, first - SNIPPET_CONTEXT), first))
    after = list(range(last + 1, min(rows, last + SNIPPET_CONTEXT) + 1))
    while before and not source.line(before[0]).strip():
        before.pop(0)
    while after and not source.line(after[-1]).strip():
        after.pop()
    return before, after


def _numbered(row: int, width: int, text: str) -> str:
    return f"{row:>{width}} | {text}".rstrip()


def render_full(view: View) -> str:
    """ruff's full format: the finding, its source with two lines of context, the fix as hunks."""
    blocks = []
    for item in view.found:
        d, source = item.diagnostic, item.source
        last_row = min(d.end_location.row, d.location.row + 5)
        before, after = _context(source, d.location.row, last_row)
        width = len(str(max([last_row, *after])))
        pad = " " * width
        lines = [
            f"{_code(d)} {_marker(view, d)}{d.message}",
            f"{pad}--> {relative(item.path)}:{d.location.row}:{d.location.column}",
            f"{pad} |",
        ]
        lines += [_numbered(row, width, source.line(row)) for row in before]
        for row in range(d.location.row, last_row + 1):
            text = source.line(row)
            lines.append(_numbered(row, width, text))
            start = d.location.column - 1 if row == d.location.row else len(text) - len(text.lstrip())
            end = d.end_location.column - 1 if row == d.end_location.row else len(text)
            lines.append(f"{pad} | {' ' * start}{'^' * max(1, end - start)}")
        lines += [_numbered(row, width, source.line(row)) for row in after]
        if after:
            lines.append(f"{pad} |")
        if d.fix is not None:
            lines.append(f"help: {d.fix.title}")
            if d.fix.edits and d.fix.applicability != Applicability.DISPLAY_ONLY:
                lines.extend(fix_display.render(source, d.fix.edits))
                if d.fix.applicability == Applicability.UNSAFE:
                    lines.append("note: This is an unsafe fix and may change runtime behavior")
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


def render_pylint(view: View) -> str:
    return "".join(
        f"{relative(f.path)}:{f.diagnostic.location.row}: [{f.diagnostic.code}] {f.diagnostic.message}\n"
        for f in view.found
    )


def _github_escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def render_github(view: View) -> str:
    out = []
    for f in view.found:
        d = f.diagnostic
        where = (
            f"file={f.path},line={d.location.row},col={d.location.column},"
            f"endLine={d.end_location.row},endColumn={d.end_location.column}"
        )
        text = f"{relative(f.path)}:{d.location.row}:{d.location.column}: {_code(d)} {d.message}"
        if d.fix is not None:
            text += f"\n  help: {d.fix.title}"
        out.append(f"::error title=lintdb ({d.code}),{where}::{_github_escape(text)}\n")
    return "".join(out)


def render_gitlab(view: View) -> str:
    items = []
    for f in view.found:
        d = f.diagnostic
        fingerprint = hashlib.sha256(
            f"{relative(f.path)}:{d.code}:{d.message}:{f.source.line(d.location.row).strip()}".encode()
        ).hexdigest()[:16]
        items.append(
            {
                "check_name": d.code,
                "description": f"{d.code}: {d.message}",
                "severity": "major",
                "fingerprint": fingerprint,
                "location": {
                    "path": relative(f.path),
                    "positions": {
                        "begin": {"line": d.location.row, "column": d.location.column},
                        "end": {"line": d.end_location.row, "column": d.end_location.column},
                    },
                },
            }
        )
    return json.dumps(items, indent=2, ensure_ascii=False) + "\n"


def _sarif_region(start: Location, end: Location) -> dict[str, int]:
    return {"startLine": start.row, "startColumn": start.column, "endLine": end.row, "endColumn": end.column}


def render_sarif(view: View) -> str:
    rules = [
        {
            "id": rule.CODE,
            "name": rule.NAME,
            "shortDescription": {"text": rule.MESSAGE},
            "fullDescription": {"text": rule.documentation()},
            "help": {"text": rule.documentation()},
            "helpUri": rule_url(rule.CODE, rule.NAME, view.docs_url),
            "properties": {"id": rule.CODE, "kind": "lintdb", "name": rule.NAME, "problem.severity": "error"},
        }
        for rule in RULES_BY_CODE.values()
    ]
    results = []
    for f in view.found:
        d = f.diagnostic
        uri = f.path.as_uri()
        result: dict[str, Any] = {
            "level": "error",
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri},
                        "region": _sarif_region(d.location, d.end_location),
                    }
                }
            ],
            "message": {"text": d.message},
            "ruleId": d.code,
        }
        if d.fix is not None and d.fix.edits:
            result["fixes"] = [
                {
                    "description": {"text": d.fix.title},
                    "artifactChanges": [
                        {
                            "artifactLocation": {"uri": uri},
                            "replacements": [
                                {
                                    "deletedRegion": _sarif_region(
                                        f.source.location(e.start), f.source.location(e.end)
                                    ),
                                    "insertedContent": {"text": e.content},
                                }
                                for e in d.fix.edits
                            ],
                        }
                    ],
                }
            ]
        results.append(result)
    sarif = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "lintdb",
                        "informationUri": REPOSITORY_URL,
                        "version": __version__,
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(sarif, indent=2, ensure_ascii=False) + "\n"


def render_junit(view: View) -> str:
    """ruff's JUnit XML: a suite per file (its path as given), a case per finding, 4-space indents."""
    by_file: dict[Path, list[Diagnostic]] = {}
    for f in view.found:
        by_file.setdefault(f.path, []).append(f.diagnostic)
    total = len(view.found)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<testsuites name="lintdb" tests="{max(total, 1)}" skipped="0" failures="{total}" errors="0">',
    ]
    if not by_file:
        out += [
            '    <testsuite name="lintdb" tests="1" skipped="0" errors="0" failures="0" package="org.lintdb">',
            '        <testcase name="No errors found" classname="lintdb"/>',
            "    </testsuite>",
        ]
    for path, diagnostics in by_file.items():
        name = str(path)
        out.append(
            f'    <testsuite name={quoteattr(name)} tests="{len(diagnostics)}" skipped="0" errors="0" '
            f'failures="{len(diagnostics)}" package="org.lintdb">'
        )
        for d in diagnostics:
            out += [
                f"        <testcase name={quoteattr('org.lintdb.' + d.code)} "
                f"classname={quoteattr(name[:-3] if name.endswith('.py') else name)} "
                f'line="{d.location.row}" column="{d.location.column}">',
                "            <properties>",
                '                <property name="severity" value="error"/>',
                "            </properties>",
                f"            <failure message={quoteattr(d.message)}>"
                f"{escape(f'line {d.location.row}, col {d.location.column}, {d.message}')}</failure>",
                "        </testcase>",
            ]
        out.append("    </testsuite>")
    out.append("</testsuites>")
    return "\n".join(out) + "\n"


RENDERERS: dict[str, Callable[[View], str]] = {
    "full": render_full,
    "concise": render_concise,
    "json": render_json,
    "json-lines": render_json_lines,
    "github": render_github,
    "gitlab": render_gitlab,
    "sarif": render_sarif,
    "junit": render_junit,
    "pylint": render_pylint,
}
HUMAN_FORMATS = frozenset({"full", "concise"})


def _fixes(n: int) -> str:
    return f"{n} unsafe fix{'es' if n != 1 else ''} available with `--fix --unsafe-fixes`"


def hidden_fixes(view: View) -> int:
    """Fixes that `--unsafe-fixes` would add to what `--fix` applies."""
    if view.unsafe_fixes:
        return 0
    return sum(1 for f in view.found if f.diagnostic.fix and f.diagnostic.fix.applicability == Applicability.UNSAFE)


def summary(view: View, fixed: int, fix_mode: bool) -> str:
    """ruff's closing lines: the count, what was fixed, and what `--fix` / `--unsafe-fixes` could do."""
    remaining = len(view.found)
    if remaining == 0 and fixed == 0:
        return "All checks passed!\n"
    total = remaining + fixed
    noun = "error" if total == 1 else "errors"
    lines = [f"Found {total} {noun} ({fixed} fixed, {remaining} remaining)." if fixed else f"Found {total} {noun}."]
    applicable = sum(1 for f in view.found if view.applicable(f.diagnostic))
    hidden = hidden_fixes(view)
    if applicable and not fix_mode:
        lines.append(f"[*] {applicable} fixable with `--fix`" + (f" ({_fixes(hidden)})." if hidden else "."))
    elif hidden:
        lines.append(f"{_fixes(hidden)}.")
    return "\n".join(lines) + "\n"


def fixed_line(view: View, fixed: int, would: bool, hidden_elsewhere: int = 0) -> str:
    """ruff's line after `--diff` (``would``) or `--fix-only`: what was (or would be) fixed and what
    `--unsafe-fixes` would add; empty when there is nothing to say."""
    hidden = hidden_fixes(view) + hidden_elsewhere
    noun = f"error{'s' if fixed != 1 else ''}"
    more = f"{hidden} {'additional ' if fixed else ''}fix{'es' if hidden != 1 else ''} available with `--unsafe-fixes`"
    if fixed:
        head = f"Would fix {fixed} {noun}" if would else f"Fixed {fixed} {noun}"
    elif hidden:
        head = "No errors would be fixed" if would else "No errors fixed"
    else:
        return ""
    return head + (f" ({more})" if hidden else "") + ".\n"


def statistics(view: View, output_format: str) -> str:
    """`--statistics`: one line per code (ruff's columns: count, code, `[*]`/`[ ]`, name), or ruff's JSON."""
    counts: dict[str, list[Diagnostic]] = {}
    for f in view.found:
        counts.setdefault(f.diagnostic.code, []).append(f.diagnostic)
    rows = sorted(counts.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    if output_format in ("json", "json-lines"):
        data = [
            {
                "code": None if found[0].is_syntax_error else code,
                "name": found[0].name,
                "count": len(found),
                "fixable": any(view.applicable(d) for d in found),
                "fixable_count": sum(1 for d in found if view.applicable(d)),
            }
            for code, found in rows
        ]
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    count_width = len(str(max((len(found) for _, found in rows), default=0)))
    code_width = max((len(code) for code, found in rows if not found[0].is_syntax_error), default=0)
    return "".join(
        f"{len(found):>{count_width}}\t{'' if found[0].is_syntax_error else code:<{code_width}}\t"
        f"{'[*]' if any(view.applicable(d) for d in found) else '[ ]'} {found[0].name}\n"
        for code, found in rows
    )
