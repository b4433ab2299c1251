"""`lintdb check` and `lintdb rule` with ruff's words, flags, exit codes and output formats."""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lintdb import __version__
from lintdb.catalog import RULES_BY_CODE
from lintdb.config import OUTPUT_FORMATS, ConfigError, ConfigResolver, Settings, config_options, validate
from lintdb.diagnostics import Applicability
from lintdb.discovery import discover
from lintdb.docs import rule_text
from lintdb.engine import SourceError
from lintdb.fileio import decode
from lintdb.output import HUMAN_FORMATS, RENDERERS, Found, View, fixed_line, relative, statistics, summary
from lintdb.progress import Progress
from lintdb.ruff_bridge import RuffMissing, RuffResult, fix_with_ruff, report_with_ruff
from lintdb.runner import Mode, Outcome, check_paths, check_text
from lintdb.source import SourceText
from lintdb.watch import snapshot, stamp, wait_for_change


def _codes(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


_LIST_FLAGS = (
    ("select", "RULE_CODE", "Rules to enable (codes or prefixes, `ALL`), replacing the configured ones."),
    ("extend-select", "RULE_CODE", "Rules to enable on top of the selection."),
    ("ignore", "RULE_CODE", "Rules to disable."),
    ("fixable", "RULE_CODE", "Rules whose fixes may be applied (default `ALL`)."),
    ("unfixable", "RULE_CODE", "Rules whose fixes are never applied."),
    ("extend-fixable", "RULE_CODE", "Rules to add to `fixable`."),
    ("exclude", "FILE_PATTERN", "Files and directories to skip, replacing the default excludes."),
    ("extend-exclude", "FILE_PATTERN", "Files and directories to skip on top of the excludes."),
)


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lintdb", description="A linter for Python database code.")
    parser.add_argument("--version", "-V", action="version", version=f"lintdb {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    check = commands.add_parser("check", help="Check files (like `ruff check`).")
    check.add_argument(
        "paths", nargs="*", default=["."], type=Path, help="Files or directories; `-` reads standard input."
    )
    check.add_argument("--fix", action=argparse.BooleanOptionalAction, default=None, help="Apply fixes.")
    check.add_argument(
        "--unsafe-fixes", action=argparse.BooleanOptionalAction, default=None, help="Include unsafe fixes."
    )
    check.add_argument("--fix-only", action="store_true", help="Apply fixes and report nothing else.")
    check.add_argument("--diff", action="store_true", help="Print the fixes as a diff; write nothing.")
    check.add_argument(
        "--show-fixes", action=argparse.BooleanOptionalAction, default=None, help="List the fixes applied."
    )
    check.add_argument("-e", "--exit-zero", action="store_true", help="Exit 0 even when findings remain.")
    check.add_argument("--exit-non-zero-on-fix", action="store_true", help="Exit 1 when anything was fixed.")
    for flag, metavar, text in _LIST_FLAGS:
        check.add_argument(f"--{flag}", action="append", type=_codes, metavar=metavar, help=text)
    check.add_argument(
        "--per-file-ignores",
        action="append",
        metavar="GLOB:CODES",
        help="Rules to disable for matching files, e.g. `tests/*:LDB103`.",
    )
    check.add_argument("--statistics", action="store_true", help="Count findings per rule.")
    check.add_argument("--add-noqa", action="store_true", help="Add `# noqa` comments for every finding.")
    check.add_argument(
        "--output-format", choices=OUTPUT_FORMATS, metavar="FORMAT", help=f"One of: {', '.join(OUTPUT_FORMATS)}."
    )
    check.add_argument("-o", "--output-file", type=Path, metavar="FILE", help="Write the report to this file.")
    check.add_argument(
        "--config",
        action="append",
        metavar="CONFIG_OPTION",
        help="A config file used for every path, or a TOML `KEY = VALUE` pair that overrides one setting "
        "(e.g. `--config 'lint.select = [\"LDB103\"]'`); repeatable.",
    )
    check.add_argument("--isolated", action="store_true", help="Ignore all config files.")
    check.add_argument("-n", "--no-cache", action="store_true", help="Do not read or write the cache.")
    check.add_argument("--cache-dir", type=Path, metavar="DIR", help="Where the cache goes (default .lintdb_cache).")
    check.add_argument(
        "--force-exclude",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="Apply excludes to paths given explicitly.",
    )
    check.add_argument(
        "--respect-gitignore",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="Skip files that .gitignore, .ignore and .git/info/exclude leave out (default: on).",
    )
    check.add_argument(
        "--stdin-filename", type=Path, metavar="FILENAME", help="The name of the file read from standard input."
    )
    check.add_argument("-w", "--watch", action="store_true", help="Check again whenever a file changes (Ctrl-C stops).")
    check.add_argument(
        "--with-ruff",
        action="store_true",
        help="Also run the installed `ruff check` on the same paths and merge its results.",
    )
    check.add_argument("-q", "--quiet", action="store_true", help="Print findings only.")
    check.add_argument("-s", "--silent", action="store_true", help="Print nothing.")

    server = commands.add_parser(
        "server",
        help="Run the language server over standard input and output.",
        description="The Language Server Protocol over stdio: diagnostics as you type (settings from the "
        "config closest to each file), a quick fix per diagnostic, and `source.fixAll.lintdb`. Needs "
        "`pip install 'lintdb[lsp]'`.",
    )
    server.add_argument("--stdio", action="store_true", help="Talk over stdin/stdout (the default and only way).")

    rule = commands.add_parser("rule", help="Show a rule's documentation (like `ruff rule`).")
    rule.add_argument("code", nargs="?", metavar="CODE", help="A rule code, e.g. LDB103.")
    rule.add_argument("--all", action="store_true", help="Every rule's documentation.")
    rule.add_argument(
        "--output-format", choices=("text", "json"), default="text", metavar="FORMAT", help="text (default) or json."
    )
    return parser


def _cli_config(args: argparse.Namespace) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for flag, _, _ in _LIST_FLAGS:
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
            ignores.setdefault(pattern, []).extend(_codes(codes))
        values["per-file-ignores"] = ignores
    return validate(values, "command line")


def _rule_json(code: str) -> dict[str, Any]:
    rule = RULES_BY_CODE[code]
    return {
        "name": rule.NAME,
        "code": rule.CODE,
        "linter": "lintdb",
        "summary": rule.MESSAGE,
        "message_formats": [rule.MESSAGE],
        "fix": {"Always": "Fix is always available.", "Sometimes": "Fix is sometimes available."}.get(
            rule.FIX_AVAILABILITY, "Fix is not available."
        ),
        "fix_availability": rule.FIX_AVAILABILITY,
        "fix_title": rule.FIX_TITLE,
        "explanation": rule.documentation(),
        "preview": False,
        "default_enabled": rule.DEFAULT_ENABLED,
        "url": rule.url(),
    }


def _rule_command(args: argparse.Namespace) -> int:
    codes = list(RULES_BY_CODE) if args.all else [args.code] if args.code else []
    if not codes:
        print("lintdb: error: give a rule code or --all", file=sys.stderr)
        return 2
    for code in codes:
        if code not in RULES_BY_CODE:
            print(f"lintdb: error: unknown rule code `{code}`", file=sys.stderr)
            return 2
    if args.output_format == "json":
        data = [_rule_json(c) for c in codes]
        print(json.dumps(data if args.all else data[0], indent=2))
    else:
        print("\n".join(rule_text(RULES_BY_CODE[c]) for c in codes), end="")
    return 0


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


def _check_command(args: argparse.Namespace) -> int:
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


def _watch(args: argparse.Namespace) -> int:
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
            _check_command(args)
            sys.stdout.flush()
            wait_for_change(args.paths, before)
            message = "File change detected..."
    except KeyboardInterrupt:
        return 0


def main(argv: Sequence[str] | None = None) -> int:
    """The `lintdb` command."""
    args = _build_parser().parse_args(argv)
    try:
        if args.command == "rule":
            return _rule_command(args)
        if args.command == "server":
            try:
                from lintdb.server import serve
            except ImportError:
                print("lintdb: error: `lintdb server` needs pygls: pip install 'lintdb[lsp]'", file=sys.stderr)
                return 2
            serve()
            return 0
        return _watch(args) if args.watch else _check_command(args)
    except Exception as error:  # never a traceback: one line, exit 2
        print(f"lintdb: internal error: {type(error).__name__}: {error} (please report this)", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
