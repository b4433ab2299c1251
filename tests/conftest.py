"""Shared helpers: running the real `lintdb` command in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def run_lintdb(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run `lintdb` as a user would, returning exit code, stdout and stderr."""
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "lintdb", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.fixture
def lintdb(tmp_path: Path):  # type: ignore[no-untyped-def]
    """`lintdb(*args, stdin=None)` run in a temporary directory."""

    def run(*args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return run_lintdb(*args, cwd=cwd or tmp_path, stdin=stdin)

    return run
