"""The `async-session-expire-on-commit` option reaches LDB207 from `[tool.lintdb]` and from flake8."""

from __future__ import annotations

from pathlib import Path

from lintdb.rules.ldb207_async_session_expire_on_commit import (
    AsyncSessionExpireOnCommit as Rule,
)
from tests.test_cli import write
from tests.test_integrations_api_flake8 import flake8

HELPER = Rule.INVALID[2].source()  # a session from the caller: its factory is not visible


CHECK = ("check", "--no-cache", "--select", "LDB207", "--output-format", "concise", ".")


def test_option_from_pyproject(lintdb, tmp_path: Path) -> None:
    write(tmp_path, "helper.py", HELPER)
    flagged = lintdb(*CHECK)
    assert flagged.returncode == 1 and "helper.py:23:12: LDB207 `MissingGreenlet" in flagged.stdout
    write(tmp_path, "pyproject.toml", "[tool.lintdb]\nasync-session-expire-on-commit = false\n")
    assert lintdb(*CHECK).returncode == 0
    write(tmp_path, "pyproject.toml", "[tool.lintdb.lint]\nasync-session-expire-on-commit = false\n")
    assert lintdb(*CHECK).returncode == 0
    write(tmp_path, "pyproject.toml", '[tool.lintdb]\nasync-session-expire-on-commit = "no"\n')
    invalid = lintdb(*CHECK)
    assert invalid.returncode == 2 and "`async-session-expire-on-commit` must be true or false" in invalid.stderr


def test_option_from_flake8(tmp_path: Path) -> None:
    write(tmp_path, "helper.py", HELPER)
    assert "helper.py:23:12: LDB207" in flake8("--select", "LDB207", ".", cwd=tmp_path).stdout
    write(tmp_path, ".flake8", "[flake8]\nlintdb-async-session-expire-on-commit = false\n")
    assert flake8("--select", "LDB207", ".", cwd=tmp_path).returncode == 0
    assert (
        flake8("--select", "LDB207", "--lintdb-async-session-expire-on-commit", "true", ".", cwd=tmp_path).returncode
        == 1
    )
