"""`lintdb check --watch`: check, then check again whenever a Python or TOML file under the given paths
changes (polling modification times; no dependency on a file-system notification library)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from pathlib import Path

from lintdb.config import DEFAULT_EXCLUDE

POLL_SECONDS = 0.5
_WATCHED = (".py", ".pyi", ".toml")


def stamp() -> str:
    """The time as ruff's watch mode prints it."""
    return time.strftime("%H:%M:%S %p")


def snapshot(paths: Iterable[Path]) -> dict[str, tuple[int, int]]:
    """Modification time and size of every watched file under ``paths`` (default excludes skipped)."""
    found: dict[str, tuple[int, int]] = {}
    for root in paths:
        walk = [(str(root.parent), [], [root.name])] if root.is_file() else os.walk(root)
        for folder, dirs, files in walk:
            dirs[:] = [d for d in dirs if d not in DEFAULT_EXCLUDE]
            for name in files:
                if name.endswith(_WATCHED):
                    path = os.path.join(folder, name)
                    try:
                        info = os.stat(path)
                    except OSError:
                        continue
                    found[path] = (info.st_mtime_ns, info.st_size)
    return found


def wait_for_change(paths: list[Path], before: dict[str, tuple[int, int]]) -> None:
    """Return once the snapshot of ``paths`` differs from ``before``."""
    while snapshot(paths) == before:
        time.sleep(POLL_SECONDS)
