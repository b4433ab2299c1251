"""Rule documentation pages, generated from the rules' docstrings: `python -m lintdb.docs` writes
docs/rules/<CODE>-<name>.md and the index docs/rules/README.md; `--check` only says whether they
are stale (exit 1). JSON and SARIF point their `url` at these pages, under a base URL that the
`docs-url` setting changes.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lintdb.catalog import RuleInfo
    from lintdb.rule import LintRule

# The one place that names where the repository lives (a placeholder until it is published).
REPOSITORY_URL = "https://github.com/lintdb/lintdb"
DEFAULT_DOCS_URL = f"{REPOSITORY_URL}/blob/main/docs/rules/"
DOCS_DIR = Path(__file__).resolve().parent.parent / "docs" / "rules"
REGENERATE = "python -m lintdb.docs"
_AVAILABILITY = {"Always": "Fix is always available.", "Sometimes": "Fix is sometimes available."}


def page_name(code: str, name: str) -> str:
    """The file name of a rule's page."""
    return f"{code}-{name}.md"


def rule_url(code: str, name: str, base: str = DEFAULT_DOCS_URL) -> str:
    """The address of a rule's page under a documentation base URL."""
    return (base if base.endswith("/") else base + "/") + page_name(code, name)


def rule_text(rule: RuleInfo | type[LintRule]) -> str:
    """A rule's documentation as `lintdb rule CODE` prints it and its page holds (ruff's layout)."""
    parts = [f"# {rule.NAME} ({rule.CODE})\n\n"]
    if rule.FIX_AVAILABILITY in _AVAILABILITY:
        parts.append(_AVAILABILITY[rule.FIX_AVAILABILITY] + "\n\n")
    if not rule.DEFAULT_ENABLED:
        parts.append("This rule is not in the default selection; enable it with `extend-select`.\n\n")
    return "".join(parts) + rule.documentation()


def _index(rules: Sequence[type[LintRule]]) -> str:
    lines = [
        "# lintdb rules",
        "",
        f"Generated from the rules' docstrings by `{REGENERATE}`; do not edit by hand.",
        "`lintdb rule CODE` prints the same text.",
        "",
        "| code | name | what it reports | fix | default |",
        "|---|---|---|---|---|",
    ]
    for rule in rules:
        fix = {"Always": "always", "Sometimes": "sometimes"}.get(rule.FIX_AVAILABILITY, "")
        message = rule.MESSAGE.replace("|", "\\|")
        lines.append(
            f"| [{rule.CODE}]({page_name(rule.CODE, rule.NAME)}) | `{rule.NAME}` | {message} "
            f"| {fix} | {'yes' if rule.DEFAULT_ENABLED else 'no'} |"
        )
    return "\n".join(lines) + "\n"


def pages() -> dict[str, str]:
    """Every page's file name and text."""
    from lintdb.rules import RULES

    found = {page_name(rule.CODE, rule.NAME): rule_text(rule) for rule in RULES}
    found["README.md"] = _index(RULES)
    return found


def stale(directory: Path = DOCS_DIR) -> list[str]:
    """The pages that are missing, differ, or belong to no rule."""
    wanted = pages()
    present = {p.name for p in directory.glob("*.md")} if directory.is_dir() else set()
    differ = [n for n, text in wanted.items() if n not in present or (directory / n).read_text("utf-8") != text]
    return sorted(differ + [n for n in present if n not in wanted])


def write(directory: Path = DOCS_DIR) -> None:
    """Write every page and remove pages of rules that no longer exist."""
    directory.mkdir(parents=True, exist_ok=True)
    wanted = pages()
    for old in directory.glob("*.md"):
        if old.name not in wanted:
            old.unlink()
    for name, text in wanted.items():
        (directory / name).write_text(text, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m lintdb.docs [--check] [--directory DIR]`."""
    parser = argparse.ArgumentParser(prog="python -m lintdb.docs", description="Generate the rule pages.")
    parser.add_argument("--check", action="store_true", help="Exit 1 if a page is stale; write nothing.")
    parser.add_argument("--directory", type=Path, default=DOCS_DIR, metavar="DIR", help="Where the pages go.")
    args = parser.parse_args(argv)
    if args.check:
        outdated = stale(args.directory)
        for name in outdated:
            print(f"stale: {args.directory / name}", file=sys.stderr)
        if outdated:
            print(f"regenerate with: {REGENERATE}", file=sys.stderr)
        return 1 if outdated else 0
    write(args.directory)
    return 0


if __name__ == "__main__":
    sys.exit(main())
