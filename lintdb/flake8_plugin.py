"""The flake8 plugin (entry point `LDB`): the same engine, reporting through flake8.

flake8 does its own `# noqa`, `--select`/`--ignore` and `per-file-ignores`, so lintdb's suppression
handling (and LDB900) is off here. Rule options come from the `[tool.lintdb]` configuration closest
to the working directory (pyproject.toml, lintdb.toml, .lintdb.toml: set once for both front ends);
flake8's `--lintdb-…` options, on its command line or in its config, override them. Fixable findings
say which `lintdb check` command fixes them.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from lintdb import __version__
from lintdb.catalog import RULES_BY_CODE
from lintdb.config import ConfigError, ConfigResolver
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
            default=None,
            parse_from_config=True,
            comma_separated_list=True,
            help="Hosts that are PgBouncer (LDB201).",
        )
        manager.add_option(
            "--lintdb-alembic-dialects",
            default=None,
            parse_from_config=True,
            comma_separated_list=True,
            help="Dialects your migrations target (LDB303).",
        )
        manager.add_option(
            "--lintdb-alembic-env-fix",
            default=None,
            parse_from_config=True,
            choices=("commit", "autocommit"),
            help="The fix LDB301 suggests.",
        )
        manager.add_option(
            "--lintdb-async-session-expire-on-commit",
            default=None,
            parse_from_config=True,
            choices=("true", "false"),
            help="Whether an AsyncSession of unknown factory expires on commit (LDB207).",
        )
        manager.extend_default_ignore([code for code, rule in RULES_BY_CODE.items() if not rule.DEFAULT_ENABLED])

    @classmethod
    def parse_options(cls, options: argparse.Namespace) -> None:
        """The rule options of `[tool.lintdb]`, with flake8's `--lintdb-…` values (when given) on top."""
        try:
            configured = ConfigResolver({}).for_directory(Path.cwd()).options
        except ConfigError as error:
            raise SystemExit(f"lintdb: error: {error}") from None
        hosts, dialects = options.lintdb_pgbouncer_hosts, options.lintdb_alembic_dialects
        cls.settings = FileSettings(
            _CODES,
            RuleOptions(
                pgbouncer_hosts=tuple(h.lower() for h in hosts) if hosts else configured.pgbouncer_hosts,
                alembic_dialects=tuple(d.lower() for d in dialects) if dialects else configured.alembic_dialects,
                alembic_env_fix=options.lintdb_alembic_env_fix or configured.alembic_env_fix,
                async_session_expire_on_commit=(
                    options.lintdb_async_session_expire_on_commit == "true"
                    if options.lintdb_async_session_expire_on_commit
                    else configured.async_session_expire_on_commit
                ),
            ),
            honour_noqa=False,
        )

    def run(self) -> Iterator[tuple[int, int, str, type[LintdbChecker]]]:
        """Yield (line, 0-based column, "CODE message", type) as flake8 expects."""
        try:
            settings = dataclasses.replace(self.settings, path=Path(self.filename))
            diagnostics = lint_source("".join(self.lines), settings)
        except SourceError:
            return
        for d in diagnostics:
            hint = ""
            if d.fix is not None and d.fix.edits and d.fix.applicability != Applicability.DISPLAY_ONLY:
                unsafe = " --unsafe-fixes" if d.fix.applicability == Applicability.UNSAFE else ""
                hint = f" (fixable with `lintdb check --fix{unsafe}`)"
            yield d.location.row, d.location.column - 1, f"{d.code} {d.message}{hint}", type(self)
