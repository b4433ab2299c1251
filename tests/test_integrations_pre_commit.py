"""The hooks in .pre-commit-hooks.yaml, run by the real `pre-commit try-repo` on this working tree."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_cli import BAD, CLEAN, FIXED, write

PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def _try_repo(hook: str, file: str, cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(home),
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(PROJECT), hook, "--files", file],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


def test_check_and_fix_hooks(tmp_path: Path, pre_commit_home: Path) -> None:
    _git("init", "-q", cwd=tmp_path)
    write(tmp_path, "bad.py", BAD)
    write(tmp_path, "clean.py", CLEAN)
    _git("add", ".", cwd=tmp_path)
    check = _try_repo("lintdb", "bad.py", tmp_path, pre_commit_home)
    assert check.returncode == 1, check.stdout + check.stderr
    assert "bad.py:2:55" in check.stdout and "LDB103" in check.stdout
    assert _try_repo("lintdb", "clean.py", tmp_path, pre_commit_home).returncode == 0
    fix = _try_repo("lintdb-fix", "bad.py", tmp_path, pre_commit_home)
    assert fix.returncode == 1 and "files were modified by this hook" in fix.stdout
    assert (tmp_path / "bad.py").read_text() == FIXED
