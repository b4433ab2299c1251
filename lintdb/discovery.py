"""Which files to check: ruff's walk (default excludes, `.gitignore`, explicit paths, `--force-exclude`)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pathspec

from lintdb.config import ConfigResolver

INCLUDE_SUFFIXES = (".py", ".pyi", ".pyw")
_IGNORE_FILES = (".gitignore", ".ignore")


@dataclass(frozen=True)
class _Ignore:
    base: Path
    spec: pathspec.PathSpec  # type: ignore[type-arg]

    def matches(self, path: Path, is_dir: bool) -> bool:
        try:
            relative = path.relative_to(self.base).as_posix()
        except ValueError:
            return False
        return self.spec.match_file(relative + "/" if is_dir else relative)


def _read_ignores(directory: Path) -> list[_Ignore]:
    found = []
    names = [*_IGNORE_FILES, ".git/info/exclude"] if (directory / ".git").is_dir() else list(_IGNORE_FILES)
    for name in names:
        file = directory / name
        try:
            lines = file.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        found.append(_Ignore(directory, pathspec.PathSpec.from_lines("gitwildmatch", lines)))
    return found


def _parent_ignores(directory: Path) -> list[_Ignore]:
    """Ignore files of the directories above ``directory`` up to the enclosing git repository's root."""
    chain: list[Path] = []
    for folder in directory.parents:
        chain.append(folder)
        if (folder / ".git").exists():
            break
    else:
        return []
    return [ignore for folder in reversed(chain) for ignore in _read_ignores(folder)]


def discover(paths: list[Path], resolver: ConfigResolver, force_exclude: bool | None) -> Iterator[Path]:
    """Absolute paths of the files to check, each once, in a stable order.

    Explicitly named files are always checked unless they are excluded and `--force-exclude` is on,
    as in ruff; files found by walking directories must be Python files that nothing excludes.
    """
    seen: set[Path] = set()
    for given in paths:
        path = Path(os.path.abspath(given))
        settings = resolver.for_directory(path if path.is_dir() else path.parent)
        forced = settings.force_exclude if force_exclude is None else force_exclude
        if forced and (
            _excluded_with_parents(path, settings.root, settings.excluded)
            or _ignored_by_parents(path, settings.respect_gitignore)
        ):
            continue
        if path.is_dir():
            inherited = _parent_ignores(path) + _read_ignores(path) if settings.respect_gitignore else []
            files = _walk(path, resolver, inherited)
        else:
            files = iter([path])
        for file in files:
            if file not in seen:
                seen.add(file)
                yield file


def _excluded_with_parents(path: Path, root: Path, excluded: Callable[[Path], bool]) -> bool:
    """Whether the path, or a directory between it and the project root, is excluded."""
    for candidate in (path, *path.parents):
        if candidate == root or root not in candidate.parents:
            return excluded(candidate) if candidate == path else False
        if excluded(candidate):
            return True
    return False


def _ignored_by_parents(path: Path, respect_gitignore: bool) -> bool:
    if not respect_gitignore:
        return False
    return any(ignore.matches(path, path.is_dir()) for ignore in _parent_ignores(path))


def _walk(directory: Path, resolver: ConfigResolver, ignores: list[_Ignore]) -> Iterator[Path]:
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError:
        return
    settings = resolver.for_directory(directory)
    for entry in entries:
        path = Path(entry.path)
        is_dir = entry.is_dir(follow_symlinks=False)
        if settings.excluded(path) or (settings.respect_gitignore and any(i.matches(path, is_dir) for i in ignores)):
            continue
        if is_dir:
            nested = ignores + _read_ignores(path) if settings.respect_gitignore else ignores
            yield from _walk(path, resolver, nested)
        elif path.suffix in INCLUDE_SUFFIXES:
            yield path
