"""A cache of each file's diagnostics, like ruff's: keyed on the file's mtime, size and mode and those of
the project files its context and project index are read from, under a directory per lintdb version and
resolved settings; files with findings are kept with their diagnostics, so a warm run reads only the
files it has something to show for; writes are atomic."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from lintdb import __version__
from lintdb.diagnostics import Applicability, Diagnostic, Edit, Fix, Location
from lintdb.model.project import context_files, declaring_root, project_root
from lintdb.model.project_index import project_index


def file_key(path: Path) -> str | None:
    """What must be unchanged for a cached verdict to hold."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return f"{stat.st_mtime_ns}:{stat.st_size}:{stat.st_mode}"


def indexed_sources(root: Path | None) -> tuple[Path, ...]:
    """The indexed modules whose change can change what a file of the project at ``root`` is told: the
    project's own, and those whose URLs name its dialects (the context's other files: `context_files`)."""
    if root is None:
        return ()
    return tuple(dict.fromkeys((*project_index(root).files, *project_index(declaring_root(root)).files)))


def _digest(paths: Iterable[Path]) -> str:
    """The stat keys of ``paths``, digested."""
    keys = [f"{path}={file_key(path)}" for path in paths]
    return hashlib.sha256("\n".join(keys).encode()).hexdigest()[:16]


def _encode(diagnostic: Diagnostic) -> dict[str, Any]:
    return {**asdict(diagnostic), "filename": diagnostic.filename}


def _decode(data: dict[str, Any]) -> Diagnostic:
    fix = data["fix"]
    return Diagnostic(
        data["code"],
        data["name"],
        data["message"],
        data["start"],
        data["end"],
        Location(**data["location"]),
        Location(**data["end_location"]),
        data["noqa_row"],
        None
        if fix is None
        else Fix(tuple(Edit(**edit) for edit in fix["edits"]), Applicability(fix["applicability"]), fix["title"]),
        data["url"],
        data["filename"],
    )


class Cache:
    """Files' diagnostics under one settings hash."""

    def __init__(self, cache_dir: Path, fingerprint: str) -> None:
        digest = hashlib.sha256(fingerprint.encode()).hexdigest()[:16]
        self.dir = cache_dir
        self.file = cache_dir / __version__ / f"{digest}.json"
        try:
            self.entries: dict[str, dict[str, Any]] = json.loads(self.file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.entries = {}
        self._changed = False
        self._projects: dict[Path, str] = {}
        self._indexed: dict[Path | None, str] = {}

    def key(self, path: Path) -> str | None:
        """The file's own stat key and those of the project files its context and project index come from
        (the context's once per directory, the indexed modules' once per project root and run)."""
        own = file_key(path)
        if own is None:
            return None
        directory = path.resolve().parent
        if directory not in self._projects:
            root = project_root(directory)
            if root not in self._indexed:
                self._indexed[root] = _digest(indexed_sources(root))
            self._projects[directory] = f"{_digest(context_files(directory))}{self._indexed[root]}"
        return f"{own}:{self._projects[directory]}"

    def lookup(self, path: Path) -> list[Diagnostic] | None:
        """The file's diagnostics when it is recorded with the same key, else None."""
        entry = self.entries.get(str(path))
        if entry is None or entry.get("key") != self.key(path):
            return None
        try:
            return [_decode(d) for d in entry["diagnostics"]]
        except (KeyError, TypeError, ValueError):
            return None

    def record(self, path: Path, diagnostics: list[Diagnostic] | None) -> None:
        """Record the file's diagnostics, or forget it (None: its outcome is not reusable)."""
        key = self.key(path) if diagnostics is not None else None
        if key is None or diagnostics is None:
            self._changed |= self.entries.pop(str(path), None) is not None
            return
        entry = {"key": key, "diagnostics": [_encode(d) for d in diagnostics]}
        if self.entries.get(str(path)) != entry:
            self.entries[str(path)] = entry
            self._changed = True

    def save(self) -> None:
        """Write atomically; a cache that cannot be written is skipped silently, as ruff does."""
        if not self._changed:
            return
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            tag = self.dir / "CACHEDIR.TAG"
            if not tag.exists():
                tag.write_text("Signature: 8a477f597d28d172789f06886806bc55\n", encoding="utf-8")
                (self.dir / ".gitignore").write_text("*\n", encoding="utf-8")
            handle, temp = tempfile.mkstemp(dir=self.file.parent, suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(self.entries, out)
            os.replace(temp, self.file)
        except OSError:
            pass
