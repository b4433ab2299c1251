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

from lintdb import __version__
from lintdb.catalog import RULES_BY_CODE
from lintdb.diagnostics import Applicability, Diagnostic, Location
from lintdb.fixes import apply_edits
from lintdb.source import SourceText


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


def _json_object(item: Found) -> dict[str, Any]:
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
        "noqa_row": d.noqa_row,
        "severity": "error",
        "url": d.url,
    }


def render_json(view: View) -> str:
    return json.dumps([_json_object(f) for f in view.found], indent=2, ensure_ascii=False) + "\n"


def render_json_lines(view: View) -> str:
    return "".join(json.dumps(_json_object(f), ensure_ascii=False) + "\n" for f in view.found)


def _marker(view: View, d: Diagnostic) -> str:
    return "[*] " if view.applicable(d) else ""


def render_concise(view: View) -> str:
    return "".join(
        f"{relative(f.path)}:{f.diagnostic.location.row}:{f.diagnostic.location.column}: "
        f"{f.diagnostic.code} {_marker(view, f.diagnostic)}{f.diagnostic.message}\n"
        for f in view.found
    )


def _fix_diff(item: Found, gutter: int) -> list[str]:
    d = item.diagnostic
    assert d.fix is not None
    first = item.source.location(d.fix.edits[0].start).row
    last = item.source.location(d.fix.edits[-1].end).row
    fixed = SourceText(apply_edits(item.source.text, d.fix.edits))
    new_last = last + (len(fixed.line_starts) - len(item.source.line_starts))
    lines = [f"{row:>{gutter}} - {item.source.line(row)}" for row in range(first, last + 1)]
    lines += [f"{row:>{gutter}} + {fixed.line(row)}" for row in range(first, new_last + 1)]
    return lines


def render_full(view: View) -> str:
    blocks = []
    for item in view.found:
        d = item.diagnostic
        last_row = min(d.end_location.row, d.location.row + 5)
        gutter = len(str(last_row + 10))
        pad = " " * gutter
        lines = [
            f"{d.code} {_marker(view, d)}{d.message}",
            f"{pad}--> {relative(item.path)}:{d.location.row}:{d.location.column}",
            f"{pad} |",
        ]
        for row in range(d.location.row, last_row + 1):
            text = item.source.line(row)
            lines.append(f"{row:>{gutter}} | {text}")
            start = d.location.column - 1 if row == d.location.row else len(text) - len(text.lstrip())
            end = d.end_location.column - 1 if row == d.end_location.row else len(text)
            lines.append(f"{pad} | {' ' * start}{'^' * max(1, end - start)}")
        lines.append(f"{pad} |")
        if d.fix is not None:
            lines.append(f"help: {d.fix.title}")
            if d.fix.edits and d.fix.applicability != Applicability.DISPLAY_ONLY:
                lines.extend(_fix_diff(item, gutter))
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
        text = f"{relative(f.path)}:{d.location.row}:{d.location.column}: {d.code} {d.message}"
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
            "helpUri": rule.url(),
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
                        "informationUri": "https://lintdb.dev",
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
    by_file: dict[Path, list[Diagnostic]] = {}
    for f in view.found:
        by_file.setdefault(f.path, []).append(f.diagnostic)
    total = len(view.found)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<testsuites name="lintdb" tests="{max(total, 1)}" failures="{total}" errors="0">',
    ]
    if not by_file:
        out += [
            '  <testsuite name="lintdb" tests="1" disabled="0" errors="0" failures="0" package="org.lintdb">',
            '    <testcase name="No errors found" classname="lintdb"/>',
            "  </testsuite>",
        ]
    for path, diagnostics in by_file.items():
        name = relative(path)
        out.append(
            f'  <testsuite name={quoteattr(name)} tests="{len(diagnostics)}" disabled="0" errors="0" '
            f'failures="{len(diagnostics)}" package="org.lintdb">'
        )
        for d in diagnostics:
            out.append(
                f"    <testcase name={quoteattr('org.lintdb.' + d.code)} "
                f"classname={quoteattr(name[:-3] if name.endswith('.py') else name)} "
                f'line="{d.location.row}" column="{d.location.column}">'
            )
            detail = escape(f"line {d.location.row}, col {d.location.column}, {d.message}")
            out.append(f"      <failure message={quoteattr(d.message)}>{detail}</failure>")
            out.append("    </testcase>")
        out.append("  </testsuite>")
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


def summary(view: View, fixed: int, fix_mode: bool) -> str:
    """ruff's closing lines: the count, what was fixed, and what `--fix` / `--unsafe-fixes` could do."""
    remaining = len(view.found)
    if remaining == 0 and fixed == 0:
        return "All checks passed!\n"
    total = remaining + fixed
    noun = "error" if total == 1 else "errors"
    lines = [f"Found {total} {noun} ({fixed} fixed, {remaining} remaining)." if fixed else f"Found {total} {noun}."]
    applicable = sum(1 for f in view.found if view.applicable(f.diagnostic))
    hidden = (
        0
        if view.unsafe_fixes
        else sum(1 for f in view.found if f.diagnostic.fix and f.diagnostic.fix.applicability == Applicability.UNSAFE)
    )
    hint = f" ({hidden} hidden fixes can be enabled with the `--unsafe-fixes` option)" if hidden else ""
    if applicable and not fix_mode:
        lines.append(f"[*] {applicable} fixable with the `--fix` option{hint}.")
    elif hidden:
        lines.append(f"No fixes available{hint}.")
    return "\n".join(lines) + "\n"
