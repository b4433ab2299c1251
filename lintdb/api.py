"""The Python API: lint a string the way `lintdb check` would lint a file."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lintdb.config import ConfigResolver, build_settings, validate
from lintdb.diagnostics import Applicability, Diagnostic
from lintdb.engine import UNUSED_NOQA, FileSettings, fix_source, lint_source, parse


def _settings(path: str | Path, config: Mapping[str, Any] | str | Path | None) -> FileSettings:
    file = Path(path).resolve()
    if isinstance(config, Mapping):
        settings = build_settings(validate(config, "config"), {}, file.parent, None)
    else:
        settings = ConfigResolver({}, Path(config) if config is not None else None).for_directory(file.parent)
    return settings.for_file(file)


def check_source(
    source: str, path: str | Path = "<string>.py", config: Mapping[str, Any] | str | Path | None = None
) -> list[Diagnostic]:
    """Diagnostics (with their fixes) for ``source``, as if it were the file ``path``.

    ``config`` is a mapping of `[tool.lintdb]` keys, a config file's path, or None to find the config
    closest to ``path`` as the command line does. Raises ``lintdb.engine.InvalidSyntax`` (a
    ``lintdb.engine.SourceError`` with ``row`` and ``column``; ``lintdb.syntax.syntax_diagnostic`` turns
    it into ruff's `invalid-syntax` diagnostic) when the source does not parse, whether or not a rule
    would look at it (unlike `lintdb check`, which parses only files that may hold a finding), and
    ``lintdb.config.ConfigError`` for an invalid configuration.
    """
    diagnostics = lint_source(source, _settings(path, config))
    if all(d.code == UNUSED_NOQA for d in diagnostics):
        parse(source)  # no rule parsed it: the documented error must not depend on the prefilter
    return diagnostics


def fix_text(
    source: str,
    path: str | Path = "<string>.py",
    config: Mapping[str, Any] | str | Path | None = None,
    unsafe: bool = False,
) -> str:
    """``source`` with every applicable fix applied, as `lintdb check --fix [--unsafe-fixes]` would."""
    return fix_source(source, _settings(path, config), Applicability.UNSAFE if unsafe else Applicability.SAFE).text
