"""`lintdb check`: configuration from the command line, the run, and the report with ruff's exit codes."""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from lintdb.catalog import RULES_BY_CODE
from lintdb.cli import LIST_FLAGS, code_list
from lintdb.config import ConfigError, ConfigResolver, Settings, config_options, validate
from lintdb.diagnostics import Applicability
from lintdb.discovery import discover
from lintdb.engine import SourceError
from lintdb.fileio import decode
from lintdb.output import HUMAN_FORMATS, RENDERERS, Found, View, fixed_line, relative, statistics, summary
from lintdb.progress import Progress
from lintdb.ruff_bridge import RuffMissing, RuffResult, fix_with_ruff, report_with_ruff
from lintdb.runner import Mode, Outcome, check_paths, check_text
from lintdb.source import SourceText
from lintdb.watch import snapshot, stamp, wait_for_change


def _cli_config(args: argparse.Namespace) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for flag, _, _ in LIST_FLAGS:
        given = getattr(args, flag.replace("-", "_"))
        if given is not None:
            values[flag] = [code for group in given for code in group]
    for flag in ("fix", "unsafe_fixes", "show_fixes", "force_exclude", "respect_gitignore"):
        if getattr(args, flag) is not None:
            values[flag.replace("_", "-")] = getattr(args, flag)
    if args.output_format:
        values["output-format"] = args.output_format
    if args.cache_dir:
        values["cache-dir"] = str(args.cache_dir.resolve())
    if args.per_file_ignores:
        ignores: dict[str, list[str]] = {}
        for pair in args.per_file_ignores:
            pattern, _, codes = pair.rpartition(":")
            if not pattern:
                raise ConfigError(f"command line: `--per-file-ignores {pair}` must be GLOB:CODES")
            ignores.setdefault(pattern, []).extend(code_list(codes))
        values["per-file-ignores"] = ignores
    return validate(values, "command line")


def _diff(outcome: Outcome) -> str:
    name = relative(outcome.path)
    lines = difflib.unified_diff(
        outcome.original.splitlines(keepends=True), outcome.text.splitlines(keepends=True), name, name
    )
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


def _stdin(args: argparse.Namespace, resolver: ConfigResolver, mode: Mode) -> list[Outcome] | None:
    name = args.stdin_filename.resolve() if args.stdin_filename else Path.cwd() / "-"
    settings = resolver.for_directory(name.parent)
    forced = settings.force_exclude if args.force_exclude is None else args.force_exclude
    if args.stdin_filename and forced and settings.excluded(name):
        return None
    try:
        text, _ = decode(sys.stdin.buffer.read())
    except SourceError as error:
        return [Outcome(name, errors=[str(error)])]
    return [check_text(name, text, settings.for_file(name), Mode(mode.fix, False, mode.add_noqa))]


def check_command(args: argparse.Namespace) -> int:
    try:
        config_file, overrides = config_options(args.config or [])
        cli = {**overrides, **_cli_config(args)}
        resolver = ConfigResolver(cli, config_file, args.isolated)
        settings = resolver.default()
    except ConfigError as error:
        print(f"lintdb: error: {error}", file=sys.stderr)
        return 2
    fix = settings.fix or args.fix_only or args.diff
    unsafe = settings.unsafe_fixes
    level = (Applicability.UNSAFE if unsafe else Applicability.SAFE) if fix else None
    mode = Mode(level, write=not args.diff, add_noqa=args.add_noqa)
    from_stdin = [str(p) for p in args.paths] == ["-"]
    ruff: RuffResult | None = None
    paths = [str(p) for p in args.paths]
    if args.with_ruff and from_stdin:
        print("lintdb: error: `--with-ruff` does not read standard input", file=sys.stderr)
        return 2
    try:
        ruff_fixes = fix_with_ruff(args, paths, unsafe) if args.with_ruff and fix and not args.diff else None
        if ruff_fixes is not None and ruff_fixes.exit_code == 2:
            ruff = ruff_fixes
        if from_stdin:
            found_outcomes = _stdin(args, resolver, mode)
            if found_outcomes is None:
                if fix:
                    sys.stdout.write(sys.stdin.read())
                return 0
            outcomes = found_outcomes
        else:
            files = list(discover(list(args.paths), resolver, args.force_exclude))
            if not files:
                print("warning: No Python files found under the given path(s)", file=sys.stderr)
            progress = Progress(sys.stderr, settings.output_format in HUMAN_FORMATS and not (args.quiet or args.silent))
            try:
                outcomes = check_paths(files, resolver, mode, not args.no_cache, progress)
            finally:
                progress.close()
        if args.with_ruff and ruff is None:
            ruff = report_with_ruff(args, paths, unsafe, settings.output_format == "sarif")
            if ruff_fixes is not None:
                ruff.fixed, ruff.names = ruff_fixes.fixed, ruff_fixes.names
    except ConfigError as error:
        print(f"lintdb: error: {error}", file=sys.stderr)
        return 2
    except RuffMissing as error:
        print(f"lintdb: error: {error}", file=sys.stderr)
        return 2
    code = _report(args, settings, fix, from_stdin, outcomes, ruff)
    if ruff is not None:
        sys.stderr.write(ruff.stderr)
        return max(code, ruff.exit_code)
    return code


def _report(
    args: argparse.Namespace,
    settings: Settings,
    fix: bool,
    from_stdin: bool,
    outcomes: list[Outcome],
    ruff: RuffResult | None = None,
) -> int:
    errors = [o for o in outcomes if o.errors]
    for outcome in errors:
        for error in outcome.errors:
            print(f"lintdb: error: {relative(outcome.path)}: {error}", file=sys.stderr)
    fixed = {relative(o.path): o.fixed for o in outcomes if sum(o.fixed.values())}
    names = {code: rule.NAME for code, rule in RULES_BY_CODE.items()}
    if ruff is not None:
        for name, counts in ruff.fixed.items():
            fixed[name] = fixed.get(name, Counter()) + counts
        names.update(ruff.names)
    fixed_total = sum(sum(counts.values()) for counts in fixed.values())
    found = [Found(o.path, d, SourceText(o.text)) for o in outcomes for d in o.diagnostics]
    if ruff is not None:
        broken = {f.path for f in ruff.found if f.diagnostic.is_syntax_error}
        found = [f for f in found if not (f.diagnostic.is_syntax_error and f.path in broken)]  # ruff's say more
        found = sorted(found + ruff.found, key=lambda f: (str(f.path), f.diagnostic.start, f.diagnostic.code))
    output_format, show_fixes = settings.output_format, settings.show_fixes
    view = View(found, settings.unsafe_fixes, settings.docs_url)
    out: list[str] = []
    human = output_format in HUMAN_FORMATS
    listing = _fixes_listing(fixed, names, fixed_total) if show_fixes and human and fixed_total else ""
    if args.add_noqa:
        added = sum(o.noqa_added for o in outcomes)
        print(f"Added {added} noqa directive{'s' if added != 1 else ''}.", file=sys.stderr)
        return 2 if errors else 0
    if args.diff:
        out.extend(_diff(o) for o in outcomes if o.text != o.original and not o.errors)
        if ruff is not None:
            out.append(ruff.diff)
        extra = (ruff.would_fix, ruff.hidden) if ruff is not None else (0, 0)
        closing = fixed_line(view, fixed_total + extra[0], True, extra[1])  # stdout, after a blank line, as ruff
        out.append(("\n" if any(out) and closing else "") + closing)
    elif from_stdin and fix:
        sys.stdout.write(outcomes[0].text)
        if not args.fix_only and found:
            sys.stderr.write(RENDERERS[output_format](view))
    elif args.statistics:
        out.append(statistics(view, output_format))
        if human and not args.quiet and found:
            out.append(summary(view, fixed_total, fix))
    elif args.fix_only:
        if human and not args.silent:
            out += [listing, fixed_line(view, fixed_total, would=False)]
    elif output_format == "sarif" and ruff is not None:
        sarif = json.loads(RENDERERS["sarif"](view))
        sarif["runs"].extend(ruff.sarif_runs)
        out.append(json.dumps(sarif, indent=2, ensure_ascii=False) + "\n")
    elif human and args.watch:
        closing = summary(view, fixed_total, fix).splitlines()[0]
        out.append(f"[{stamp()}] {closing} Watching for file changes.\n\n{RENDERERS[output_format](view)}")
    else:
        out.append(RENDERERS[output_format](view))
        if human:
            if found and output_format == "full" and (listing or not args.quiet):
                out.append("\n")
            out.append(listing)
            if not args.quiet:
                out.append(summary(view, fixed_total, fix) if found or not errors else _unchecked(len(errors)))
    text = "".join(out)
    if not args.silent:
        if args.output_file:
            args.output_file.write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
    return _exit_code(args, bool(errors), bool(found), fixed_total, any(o.text != o.original for o in outcomes))


def _fixes_listing(fixed: dict[str, Counter[str]], names: dict[str, str], total: int) -> str:
    """`--show-fixes`: ruff's listing, each file once with its codes under it, then a blank line."""
    out = [f"\nFixed {total} error{'s' if total != 1 else ''}:\n"]
    for name, counts in sorted(fixed.items()):
        out.append(f"- {name}:\n")
        out.extend(f"    {n} × {code} ({names.get(code, code)})\n" for code, n in sorted(counts.items()) if n)
    return "".join(out) + "\n"


def _unchecked(files: int) -> str:
    """The closing line when nothing was found but some files could not be read: never "All checks passed!"."""
    return f"{files} file{'s' if files != 1 else ''} could not be checked.\n"


def _exit_code(args: argparse.Namespace, errors: bool, remaining: bool, fixed: int, changed: bool) -> int:
    """ruff's exit logic: 2 for errors; `--diff` 1 iff a fix would apply; `--fix-only` 0 unless
    `--exit-non-zero-on-fix` and something was fixed; otherwise 1 for remaining findings (unless
    `--exit-zero`) or for fixes with `--exit-non-zero-on-fix`."""
    if errors:
        return 2
    if args.diff:
        return 1 if changed else 0
    if args.fix_only:
        return 1 if args.exit_non_zero_on_fix and fixed else 0
    if remaining and not args.exit_zero:
        return 1
    return 1 if args.exit_non_zero_on_fix and fixed else 0


def watch(args: argparse.Namespace) -> int:
    """ruff's watch mode: a header, the findings, then again after every change until Ctrl-C."""
    if [str(p) for p in args.paths] == ["-"]:
        print("lintdb: error: `--watch` does not read standard input", file=sys.stderr)
        return 2
    clear = "\x1b[H\x1b[2J\x1b[3J" if sys.stdout.isatty() else ""
    message = "Starting linter in watch mode..."
    try:
        while True:
            before = snapshot(args.paths)
            sys.stdout.write(f"{clear}[{stamp()}] {message}\n\n")
            check_command(args)
            sys.stdout.flush()
            wait_for_change(args.paths, before)
            message = "File change detected..."
    except KeyboardInterrupt:
        return 0
