"""The `lintdb` command line: ruff's words and flags; each command's module is imported only when it runs."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from lintdb import __version__
from lintdb.output_formats import OUTPUT_FORMATS


def code_list(value: str) -> list[str]:
    """One comma-separated `--select`-style value as a list of codes."""
    return [v.strip() for v in value.split(",") if v.strip()]


LIST_FLAGS = (
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
    for flag, metavar, text in LIST_FLAGS:
        check.add_argument(f"--{flag}", action="append", type=code_list, metavar=metavar, help=text)
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


def main(argv: Sequence[str] | None = None) -> int:
    """The `lintdb` command."""
    args = _build_parser().parse_args(argv)
    try:
        if args.command == "rule":
            from lintdb.rule_command import rule_command

            return rule_command(args)
        if args.command == "server":
            try:
                from lintdb.server import serve
            except ImportError:
                print("lintdb: error: `lintdb server` needs pygls: pip install 'lintdb[lsp]'", file=sys.stderr)
                return 2
            serve()
            return 0
        from lintdb.check_command import check_command, watch

        return watch(args) if args.watch else check_command(args)
    except Exception as error:  # never a traceback: one line, exit 2
        print(f"lintdb: internal error: {type(error).__name__}: {error} (please report this)", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
