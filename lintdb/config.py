"""Configuration with ruff's key names and semantics.

`[tool.lintdb]` in pyproject.toml, `lintdb.toml` or `.lintdb.toml`; the closest file to a source file
wins (no merging), `extend` inherits explicitly; lint keys may also sit under `[tool.lintdb.lint]`.
Rule selection follows ruff: layers (config, then command line), `select` resets, more specific
selectors beat less specific ones, `ignore` beats `select` at equal specificity.
"""

from __future__ import annotations

import fnmatch
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

from lintdb.catalog import RULES_BY_CODE
from lintdb.docs import DEFAULT_DOCS_URL
from lintdb.engine import FileSettings
from lintdb.options import RuleOptions
from lintdb.output_formats import OUTPUT_FORMATS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CONFIG_NAMES = (".lintdb.toml", "lintdb.toml", "pyproject.toml")
DEFAULT_EXCLUDE = (
    ".bzr",
    ".direnv",
    ".eggs",
    ".git",
    ".git-rewrite",
    ".hg",
    ".mypy_cache",
    ".nox",
    ".pants.d",
    ".pytype",
    ".ruff_cache",
    ".lintdb_cache",
    ".svn",
    ".tox",
    ".venv",
    "__pypackages__",
    "_build",
    "buck-out",
    "dist",
    "node_modules",
    "venv",
)
_SELECTOR_KEYS = {
    "select",
    "extend-select",
    "ignore",
    "extend-ignore",
    "fixable",
    "unfixable",
    "extend-fixable",
    "extend-safe-fixes",
    "extend-unsafe-fixes",
}
_LIST_KEYS = _SELECTOR_KEYS | {"exclude", "extend-exclude", "pgbouncer-hosts", "alembic-dialects"}
_BOOL_KEYS = {
    "respect-gitignore",
    "force-exclude",
    "fix",
    "unsafe-fixes",
    "show-fixes",
    "async-session-expire-on-commit",
}
_STR_KEYS = {"output-format", "cache-dir", "extend", "alembic-env-fix", "docs-url"}
_TABLE_KEYS = {"per-file-ignores", "extend-per-file-ignores"}
LINT_KEYS = (
    (_LIST_KEYS - {"exclude", "extend-exclude"}) | _TABLE_KEYS | {"alembic-env-fix", "async-session-expire-on-commit"}
)
ALL_KEYS = _LIST_KEYS | _BOOL_KEYS | _STR_KEYS | _TABLE_KEYS
_ENV_FIXES = ("commit", "autocommit")


class ConfigError(Exception):
    """An invalid configuration; the message names the file and the key."""


def _specificity(selector: str) -> int:
    return 0 if selector == "ALL" else len(selector)


def _selects(selector: str, code: str) -> bool:
    return selector == "ALL" or code.startswith(selector)


def validate(raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Check key names, value types and rule selectors; returns the lint keys flattened."""
    flat = dict(raw)
    lint = flat.pop("lint", {})
    if not isinstance(lint, dict):
        raise ConfigError(f"{where}: `lint` must be a table")
    for key, value in lint.items():
        if key not in LINT_KEYS:
            raise ConfigError(f"{where}: unknown key `lint.{key}`")
        flat[key] = value
    for key, value in flat.items():
        if key not in ALL_KEYS:
            raise ConfigError(f"{where}: unknown key `{key}`")
        if key in _LIST_KEYS and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise ConfigError(f"{where}: `{key}` must be a list of strings")
        if key in _BOOL_KEYS and not isinstance(value, bool):
            raise ConfigError(f"{where}: `{key}` must be true or false")
        if key in _STR_KEYS and not isinstance(value, str):
            raise ConfigError(f"{where}: `{key}` must be a string")
        if key in _TABLE_KEYS and not (
            isinstance(value, dict)
            and all(isinstance(v, list) and all(isinstance(c, str) for c in v) for v in value.values())
        ):
            raise ConfigError(f"{where}: `{key}` must map glob patterns to lists of rule codes")
        selectors = (
            value if key in _SELECTOR_KEYS else [c for v in value.values() for c in v] if key in _TABLE_KEYS else []
        )
        for selector in selectors:
            if selector != "ALL" and not any(code.startswith(selector) for code in RULES_BY_CODE):
                raise ConfigError(f"{where}: unknown rule selector `{selector}` in `{key}`")
        if key in _TABLE_KEYS:
            for pattern in value:
                _check_glob(pattern.lstrip("!"), f"{where}: `{key}`")
        if key in ("exclude", "extend-exclude"):
            for pattern in value:
                _check_glob(pattern, f"{where}: `{key}`")
    if flat.get("output-format", "full") not in OUTPUT_FORMATS:
        raise ConfigError(f"{where}: `output-format` must be one of {', '.join(OUTPUT_FORMATS)}")
    if flat.get("alembic-env-fix", "commit") not in _ENV_FIXES:
        raise ConfigError(f'{where}: `alembic-env-fix` must be "commit" or "autocommit"')
    if "extend-ignore" in flat:
        flat["ignore"] = list(flat.get("ignore", [])) + list(flat.pop("extend-ignore"))
    return flat


def config_options(values: Sequence[str]) -> tuple[Path | None, dict[str, Any]]:
    """ruff's `--config`: each value is a config file's path, or a TOML `KEY = VALUE` pair that overrides
    one setting (`lint.select = ["LDB103"]`); returns the file (at most one) and the overrides."""
    file: Path | None = None
    overrides: dict[str, Any] = {}
    for value in values:
        if Path(value).is_file():
            if file is not None:
                raise ConfigError(f"command line: `--config` names two config files: {file} and {value}")
            file = Path(value)
            continue
        try:
            parsed = tomllib.loads(value)
        except tomllib.TOMLDecodeError:
            reason = "no such file" if "=" not in value else "not a TOML `KEY = VALUE` pair"
            raise ConfigError(
                f"command line: `--config {value}` is neither a config file nor a TOML `KEY = VALUE` pair ({reason})"
            ) from None
        for key, setting in validate(parsed, f"command line: `--config {value}`").items():
            overrides[key] = setting
    return file, overrides


def _check_glob(pattern: str, where: str) -> None:
    depth = 0
    for char in pattern:
        depth += char == "["
        depth -= char == "]" and depth > 0
    if depth or not pattern:
        raise ConfigError(f"{where}: invalid glob `{pattern}`")


def read_config_file(path: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The validated keys of one config file, with `extend` resolved (child keys win, extend-* lists add up)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None
    raw = data.get("tool", {}).get("lintdb", {}) if path.name == "pyproject.toml" else data
    values = validate(raw, str(path))
    for key in ("exclude", "extend-exclude"):
        if key in values:
            values[key] = [str(path.parent / p) if not Path(p).is_absolute() and "/" in p else p for p in values[key]]
    for key in _TABLE_KEYS:
        if key in values:
            values[key] = {_anchor(p, path.parent): codes for p, codes in values[key].items()}
    base = values.pop("extend", None)
    if base is None:
        return values
    base_path = (path.parent / base).resolve()
    if base_path in seen:
        raise ConfigError(f"{path}: `extend` forms a cycle through {base_path}")
    inherited = read_config_file(base_path, (*seen, path.resolve()))
    for key, value in values.items():
        if key.startswith("extend-") and key in inherited and isinstance(value, list):
            inherited[key] = list(inherited[key]) + list(value)
        elif key in _TABLE_KEYS and key in inherited:
            inherited[key] = {**inherited[key], **value}
        else:
            inherited[key] = value
    return inherited


def _anchor(pattern: str, root: Path) -> str:
    negated = pattern.startswith("!")
    body = pattern.lstrip("!")
    anchored = body if Path(body).is_absolute() or "/" not in body else str(root / body)
    return ("!" if negated else "") + anchored


def has_lintdb_table(path: Path) -> bool:
    """Whether a pyproject.toml has a `[tool.lintdb]` table (else it is not a lintdb config)."""
    try:
        return "lintdb" in tomllib.loads(path.read_text(encoding="utf-8")).get("tool", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False


def glob_match(pattern: str, path: Path) -> bool:
    """ruff's matching: an anchored pattern against the absolute path, a bare one against the name too."""
    text = path.as_posix()
    return (
        fnmatch.fnmatchcase(text, pattern)
        or fnmatch.fnmatchcase(path.name, pattern)
        or fnmatch.fnmatchcase(text, f"*/{pattern}")
    )


@dataclass(frozen=True)
class Layer:
    """One source of rule selection (a config file, or the command line)."""

    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()


def resolve_codes(layers: Sequence[Layer]) -> frozenset[str]:
    """The enabled codes after applying each layer in order, with ruff's specificity rules."""
    enabled = {code for code, rule in RULES_BY_CODE.items() if rule.DEFAULT_ENABLED}
    for layer in layers:
        entries = [(s, True) for s in (*(layer.select or ()), *layer.extend_select)] + [
            (s, False) for s in layer.ignore
        ]
        for code in RULES_BY_CODE:
            matches = [(_specificity(s), not on, on) for s, on in entries if _selects(s, code)]
            if matches:
                if max(matches)[2]:
                    enabled.add(code)
                else:
                    enabled.discard(code)
            elif layer.select is not None:
                enabled.discard(code)
    return frozenset(enabled)


def _expand(selectors: Sequence[str]) -> frozenset[str]:
    return frozenset(code for code in RULES_BY_CODE for s in selectors if _selects(s, code))


@dataclass(frozen=True)
class Settings:
    """Everything resolved for the files one config file governs."""

    root: Path
    config_file: Path | None
    codes: frozenset[str]
    per_file_ignores: tuple[tuple[str, bool, frozenset[str]], ...] = ()
    fixable: frozenset[str] = frozenset(RULES_BY_CODE)
    safe_overrides: frozenset[str] = frozenset()
    unsafe_overrides: frozenset[str] = frozenset()
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    respect_gitignore: bool = True
    force_exclude: bool = False
    output_format: str = "full"
    cache_dir: Path = Path(".lintdb_cache")
    fix: bool = False
    unsafe_fixes: bool = False
    show_fixes: bool = False
    docs_url: str = DEFAULT_DOCS_URL
    options: RuleOptions = field(default_factory=RuleOptions)

    def for_file(self, path: Path) -> FileSettings:
        """The engine settings for one file, per-file ignores applied."""
        codes = set(self.codes)
        for pattern, negated, ignored in self.per_file_ignores:
            if glob_match(pattern, path) != negated:
                codes -= ignored
        return FileSettings(
            frozenset(codes), self.options, self.fixable, self.safe_overrides, self.unsafe_overrides, path=path
        )

    def fingerprint(self) -> str:
        """A text that is the same for the same settings in every process (sets sorted), for the cache key."""
        return json.dumps(_stable(self), sort_keys=True)

    def excluded(self, path: Path) -> bool:
        """Whether a path matches `exclude` or `extend-exclude`."""
        return any(glob_match(p, path) for p in (*self.exclude, *self.extend_exclude))


def _stable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _stable(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, (set, frozenset)):
        return sorted(_stable(v) for v in value)
    if isinstance(value, (list, tuple)):
        return [_stable(v) for v in value]
    return str(value) if isinstance(value, Path) else value


def build_settings(values: Mapping[str, Any], cli: Mapping[str, Any], root: Path, config_file: Path | None) -> Settings:
    """Settings from a config file's keys with command-line keys on top."""
    layers = [
        Layer(_tuple(values.get("select")), tuple(values.get("extend-select", ())), tuple(values.get("ignore", ())))
    ]
    layers.append(Layer(_tuple(cli.get("select")), tuple(cli.get("extend-select", ())), tuple(cli.get("ignore", ()))))
    merged = {
        **values,
        **{k: v for k, v in cli.items() if k not in ("select", "extend-select", "ignore", "per-file-ignores")},
    }
    ignores = {
        **values.get("per-file-ignores", {}),
        **values.get("extend-per-file-ignores", {}),
        **cli.get("per-file-ignores", {}),
    }
    fixable = _expand(merged.get("fixable", ["ALL"])) | _expand(merged.get("extend-fixable", []))
    cache_dir = Path(merged.get("cache-dir", ".lintdb_cache"))
    return Settings(
        root=root,
        config_file=config_file,
        codes=resolve_codes(layers),
        per_file_ignores=tuple((p.lstrip("!"), p.startswith("!"), _expand(c)) for p, c in ignores.items()),
        fixable=fixable - _expand(merged.get("unfixable", [])),
        safe_overrides=_expand(merged.get("extend-safe-fixes", [])),
        unsafe_overrides=_expand(merged.get("extend-unsafe-fixes", [])),
        exclude=tuple(merged.get("exclude", DEFAULT_EXCLUDE)),
        extend_exclude=tuple(merged.get("extend-exclude", ())),
        respect_gitignore=merged.get("respect-gitignore", True),
        force_exclude=merged.get("force-exclude", False),
        output_format=merged.get("output-format", "full"),
        cache_dir=cache_dir if cache_dir.is_absolute() else root / cache_dir,
        fix=merged.get("fix", False),
        unsafe_fixes=merged.get("unsafe-fixes", False),
        show_fixes=merged.get("show-fixes", False),
        docs_url=merged.get("docs-url", DEFAULT_DOCS_URL),
        options=RuleOptions(
            pgbouncer_hosts=tuple(h.lower() for h in merged.get("pgbouncer-hosts", ())),
            alembic_dialects=tuple(d.lower() for d in merged.get("alembic-dialects", ())),
            alembic_env_fix=merged.get("alembic-env-fix", "commit"),
            async_session_expire_on_commit=merged.get("async-session-expire-on-commit", True),
        ),
    )


def _tuple(value: Sequence[str] | None) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


class ConfigResolver:
    """Finds the closest config file of each directory once, and builds its settings once."""

    def __init__(self, cli: Mapping[str, Any], config_file: Path | None = None, isolated: bool = False) -> None:
        self.cli = cli
        self.isolated = isolated
        self._by_dir: dict[Path, Settings] = {}
        self._by_file: dict[Path | None, Settings] = {}
        self.fixed: Settings | None = None
        if config_file is not None:
            self.fixed = self._settings(config_file.resolve())

    def _settings(self, config_file: Path | None) -> Settings:
        if config_file not in self._by_file:
            values = read_config_file(config_file) if config_file else {}
            root = config_file.parent if config_file else Path.cwd()
            self._by_file[config_file] = build_settings(values, self.cli, root, config_file)
        return self._by_file[config_file]

    def for_directory(self, directory: Path) -> Settings:
        """The settings that govern files in ``directory`` (an absolute path)."""
        if self.fixed is not None:
            return self.fixed
        if self.isolated:
            return self._settings(None)
        found = self._by_dir.get(directory)
        if found is None:
            found = self._settings(self._closest(directory))
            self._by_dir[directory] = found
        return found

    def _closest(self, directory: Path) -> Path | None:
        for folder in (directory, *directory.parents):
            if folder in self._by_dir:
                return self._by_dir[folder].config_file
            for name in CONFIG_NAMES:
                candidate = folder / name
                if candidate.is_file() and (name != "pyproject.toml" or has_lintdb_table(candidate)):
                    return candidate
        return None

    def default(self) -> Settings:
        """The settings for the current directory (used for options that are not per file)."""
        return self.for_directory(Path.cwd())
