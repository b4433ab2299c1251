"""`lintdb check --with-ruff`: run the installed `ruff check` on the same paths and merge its findings
into lintdb's output and exit code. ruff cannot load Python rules, so the two run side by side."""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lintdb.diagnostics import Applicability, Diagnostic, Edit, Fix, Location
from lintdb.output import Found
from lintdb.source import SourceText

_APPLICABILITY = {
    "safe": Applicability.SAFE,
    "unsafe": Applicability.UNSAFE,
    "displayonly": Applicability.DISPLAY_ONLY,
    "display-only": Applicability.DISPLAY_ONLY,
}


class RuffMissing(Exception):
    """ruff is not installed."""


@dataclass
class RuffResult:
    """What ruff reported: findings, its exit code, and its SARIF runs when SARIF was asked for."""

    found: list[Found] = field(default_factory=list)
    exit_code: int = 0
    sarif_runs: list[Any] = field(default_factory=list)
    diff: str = ""
    stderr: str = ""
    fixed: dict[str, Counter[str]] = field(default_factory=dict)  # per file as ruff prints it
    names: dict[str, str] = field(default_factory=dict)
    would_fix: int = 0  # under `--diff`: what ruff's diff fixes, and the unsafe fixes it leaves out
    hidden: int = 0


_WOULD_FIX = re.compile(
    r"\n?(?:Would fix (\d+) errors?|No errors would be fixed)"
    r"(?: \((\d+) (?:additional )?fix(?:es)? available with `--unsafe-fixes`\))?\.\n\Z"
)


_CONCISE = ("--output-format", "concise")
_FIXED_FILE = re.compile(r"^- (.+):$")
_FIXED_CODE = re.compile(r"^ +(\d+) × (\S+) \((.+)\)$")


def _fixes_listed(stdout: str, result: RuffResult) -> None:
    """Read what ruff fixed from its `--show-fixes` listing (`- file:` then `    N × CODE (name)`)."""
    current: Counter[str] | None = None
    for line in stdout.splitlines():
        if (file := _FIXED_FILE.match(line)) is not None:
            current = result.fixed.setdefault(file.group(1), Counter())
        elif current is not None and (code := _FIXED_CODE.match(line)) is not None:
            current[code.group(2)] += int(code.group(1))
            result.names[code.group(2)] = code.group(3)


def _command() -> list[str]:
    if importlib.util.find_spec("ruff") is not None:
        return [sys.executable, "-m", "ruff"]
    found = shutil.which("ruff")
    if found is None:
        raise RuffMissing("`--with-ruff` needs ruff: pip install ruff")
    return [found]


def _flags(args: argparse.Namespace, fix: bool, unsafe: bool) -> list[str]:
    flags = ["--fix"] if fix and not args.diff else []
    flags += ["--unsafe-fixes"] if unsafe else []
    flags += ["--diff"] if args.diff else []
    for flag in ("no_cache", "exit_zero", "exit_non_zero_on_fix", "isolated"):
        if getattr(args, flag):
            flags.append("--" + flag.replace("_", "-"))
    if args.force_exclude is not None:
        flags.append("--force-exclude" if args.force_exclude else "--no-force-exclude")
    return flags


def _location(data: dict[str, int] | None, source: SourceText) -> int:
    if not data:
        return 0
    row = min(max(data["row"], 1), len(source.line_starts))
    return min(source.line_starts[row - 1] + data["column"] - 1, len(source.text))


def _found(item: dict[str, Any], texts: dict[str, SourceText]) -> Found:
    filename = item.get("filename") or ""
    if filename not in texts:
        try:
            texts[filename] = SourceText(Path(filename).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            texts[filename] = SourceText("")
    source = texts[filename]
    start, end = _location(item.get("location"), source), _location(item.get("end_location"), source)
    fix = None
    if item.get("fix"):
        edits = tuple(
            Edit(_location(e.get("location"), source), _location(e.get("end_location"), source), e["content"])
            for e in item["fix"]["edits"]
        )
        fix = Fix(
            edits,
            _APPLICABILITY.get(item["fix"]["applicability"], Applicability.DISPLAY_ONLY),
            item["fix"].get("message") or "",
        )
    code = item.get("code") or item.get("name") or "invalid-syntax"
    diagnostic = Diagnostic(
        code,
        item.get("name") or code,
        item["message"],
        start,
        end,
        Location(*_row_col(item.get("location"))),
        Location(*_row_col(item.get("end_location"))),
        item.get("noqa_row") or 1,
        fix,
        item.get("url") or "",
    )
    return Found(Path(filename), diagnostic, source)


def _row_col(data: dict[str, int] | None) -> tuple[int, int]:
    return (data["row"], data["column"]) if data else (1, 1)


def fix_with_ruff(args: argparse.Namespace, paths: list[str], unsafe: bool) -> RuffResult:
    """Let ruff apply its fixes first (lintdb then checks the files as ruff left them); what it fixed,
    or exit code 2 and its error."""
    done = subprocess.run(
        [*_command(), "check", *_flags(args, True, unsafe), "--show-fixes", "--quiet", *_CONCISE, *paths],
        capture_output=True,
        text=True,
    )
    if done.returncode == 2:
        return RuffResult(exit_code=2, stderr=done.stderr)
    result = RuffResult()
    _fixes_listed(done.stdout, result)
    return result


def report_with_ruff(args: argparse.Namespace, paths: list[str], unsafe: bool, sarif: bool) -> RuffResult:
    """ruff's findings on the files as they are now (or its diff, under `--diff`)."""
    if args.diff:
        done = subprocess.run(
            [*_command(), "check", *_flags(args, False, unsafe), *paths], capture_output=True, text=True
        )
        result = RuffResult(exit_code=done.returncode, diff=done.stdout, stderr=done.stderr)
        closing = _WOULD_FIX.search(done.stdout)
        if closing is not None:  # lintdb prints one closing line for both tools
            result.diff = done.stdout[: closing.start()]
            result.would_fix, result.hidden = int(closing.group(1) or 0), int(closing.group(2) or 0)
        return result
    flags = [f for f in _flags(args, False, unsafe) if f != "--exit-non-zero-on-fix"]
    done = subprocess.run(
        [*_command(), "check", *flags, "--output-format", "sarif" if sarif else "json", *paths],
        capture_output=True,
        text=True,
    )
    result = RuffResult(exit_code=done.returncode, stderr=done.stderr)
    if done.returncode == 2 or not done.stdout.strip():
        return result
    data = json.loads(done.stdout)
    if sarif:
        result.sarif_runs = data.get("runs", [])
    else:
        texts: dict[str, SourceText] = {}
        result.found = [_found(item, texts) for item in data]
    return result
