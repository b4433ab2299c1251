"""A cache of files known to be clean, like ruff's: keyed on the file's mtime, size and mode, under a
directory per lintdb version and resolved settings; only clean files are recorded; writes are atomic."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from lintdb import __version__


def file_key(path: Path) -> str | None:
    """What must be unchanged for a cached verdict to hold."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return f"{stat.st_mtime_ns}:{stat.st_size}:{stat.st_mode}"


class Cache:
    """Clean files of one settings hash."""

    def __init__(self, cache_dir: Path, fingerprint: str) -> None:
        digest = hashlib.sha256(fingerprint.encode()).hexdigest()[:16]
        self.dir = cache_dir
        self.file = cache_dir / __version__ / f"{digest}.json"
        try:
            self.clean: dict[str, str] = json.loads(self.file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.clean = {}
        self._changed = False

    def is_clean(self, path: Path) -> bool:
        """Whether the file is recorded clean with the same key."""
        key = self.clean.get(str(path))
        return key is not None and key == file_key(path)

    def record(self, path: Path, clean: bool) -> None:
        """Record the verdict of a file (only clean files are kept)."""
        key = file_key(path) if clean else None
        if key is None:
            self._changed |= self.clean.pop(str(path), None) is not None
        elif self.clean.get(str(path)) != key:
            self.clean[str(path)] = key
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
                json.dump(self.clean, out)
            os.replace(temp, self.file)
        except OSError:
            pass
