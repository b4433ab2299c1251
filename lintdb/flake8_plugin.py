"""The flake8 plugin (entry point `LDB`): the same engine, reporting through flake8.

flake8 does its own `# noqa`, `--select`/`--ignore` and `per-file-ignores`, so lintdb's suppression
handling (and LDB900) is off here. Fixable findings say which `lintdb check` command fixes them.
"""

from __future__ import annotations

import argparse
import ast
from collections.abc import Iterator, Sequence
from typing import Any

from lintdb import __version__
from lintdb.catalog import RULES_BY_CODE
from lintdb.diagnostics import Applicability
from lintdb.engine import FileSettings, SourceError, lint_source
from lintdb.options import RuleOptions

_CODES = frozenset(code for code in RULES_BY_CODE if code != "LDB900")


class LintdbChecker:
    """A flake8 tree plugin; `tree` is unused (lintdb parses with LibCST, and only triggered files)."""

    name = "lintdb"
    version = __version__
    settings = FileSettings(_CODES, honour_noqa=False)

    def __init__(self, tree: ast.AST, lines: Sequence[str], filename: str) -> None:
        self.lines = lines
        self.filename = filename

    @classmethod
    def add_options(cls, manager: Any) -> None:
        """Rule options, settable as `--lintdb-…` or in flake8's config files."""
        manager.add_option(
            "--lintdb-pgbouncer-hosts",
            default="",
            parse_from_config=True,
            comma_separated_list=True,
            help="Hosts that are PgBouncer (LDB201).",
        )
        manager.add_option(
            "--lintdb-alembic-dialects",
            default="",
            parse_from_config=True,
            comma_separated_list=True,
            help="Dialects your migrations target (LDB303).",
        )
        manager.add_option(
            "--lintdb-alembic-env-fix",
            default="commit",
            parse_from_config=True,
            choices=("commit", "autocommit"),
            help="The fix LDB301 suggests.",
        )
        manager.extend_default_ignore([code for code, rule in RULES_BY_CODE.items() if not rule.DEFAULT_ENABLED])

    @classmethod
    def parse_options(cls, options: argparse.Namespace) -> None:
        """Carry flake8's option values into the rules."""
        cls.settings = FileSettings(
            _CODES,
            RuleOptions(
                pgbouncer_hosts=tuple(h.lower() for h in options.lintdb_pgbouncer_hosts),
                alembic_dialects=tuple(d.lower() for d in options.lintdb_alembic_dialects),
                alembic_env_fix=options.lintdb_alembic_env_fix,
            ),
            honour_noqa=False,
        )

    def run(self) -> Iterator[tuple[int, int, str, type[LintdbChecker]]]:
        """Yield (line, 0-based column, "CODE message", type) as flake8 expects."""
        try:
            diagnostics = lint_source("".join(self.lines), self.settings)
        except SourceError:
            return
        for d in diagnostics:
            hint = ""
            if d.fix is not None and d.fix.edits and d.fix.applicability != Applicability.DISPLAY_ONLY:
                unsafe = " --unsafe-fixes" if d.fix.applicability == Applicability.UNSAFE else ""
                hint = f" (fixable with `lintdb check --fix{unsafe}`)"
            yield d.location.row, d.location.column - 1, f"{d.code} {d.message}{hint}", type(self)
