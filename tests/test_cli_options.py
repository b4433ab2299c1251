"""`lintdb check` options as a user meets them: help text for every option, ruff's metavars, `lintdb
server --help`, ruff's `--config KEY=VALUE` overrides and `--watch`, all through the real command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from lintdb.cli import _build_parser
from tests.test_cli import BAD, CLEAN, write


def _subcommand(name: str):  # type: ignore[no-untyped-def]
    parser = _build_parser()
    commands = next(a for a in parser._actions if a.dest == "command")
    return commands.choices[name]  # type: ignore[union-attr]


def test_every_check_option_has_help_and_a_fitting_metavar(lintdb) -> None:
    check = _subcommand("check")
    missing = [a.option_strings or a.dest for a in check._actions if not a.help]
    assert not missing, f"options without help text: {missing}"
    metavars = {a.option_strings[-1]: a.metavar for a in check._actions if a.option_strings}
    assert metavars["--exclude"] == metavars["--extend-exclude"] == "FILE_PATTERN"
    assert metavars["--select"] == metavars["--ignore"] == "RULE_CODE"
    shown = lintdb("check", "--help").stdout
    assert "CODES " not in shown.replace("GLOB:CODES", "")
    assert "--exclude FILE_PATTERN" in shown and "--config CONFIG_OPTION" in shown and "-w, --watch" in shown


def test_server_help_lists_its_options(lintdb) -> None:
    shown = lintdb("server", "--help")
    assert shown.returncode == 0 and "--stdio" in shown.stdout and "Language Server Protocol" in shown.stdout


def test_config_key_value_overrides_and_a_path_still_works(lintdb, tmp_path: Path) -> None:
    write(tmp_path, "app.py", BAD)
    write(tmp_path, "pyproject.toml", '[tool.lintdb]\nignore = ["LDB103"]\n')
    assert lintdb("check", ".").returncode == 0
    overridden = lintdb("check", "--config", 'lint.select=["LDB103"]', "--config", "ignore = []", ".")
    assert overridden.returncode == 1 and "LDB103" in overridden.stdout
    write(tmp_path, "other/lintdb.toml", 'select = ["LDB203"]\n')
    assert lintdb("check", "--config", "other/lintdb.toml", ".").returncode == 0
    both = lintdb("check", "--config", "other/lintdb.toml", "--config", 'extend-select = ["LDB103"]', ".")
    assert both.returncode == 1 and "LDB103" in both.stdout
    bad = lintdb("check", "--config", "missing.toml", ".")
    assert bad.returncode == 2 and "neither a config file nor a TOML `KEY = VALUE` pair" in bad.stderr
    wrong = lintdb("check", "--config", "lint.select = 1", ".")
    assert wrong.returncode == 2 and "`select` must be a list of strings" in wrong.stderr


def _read_until(process: subprocess.Popen[str], text: str, seen: list[str]) -> None:
    deadline = time.monotonic() + 60
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        seen.append(line)
        if text in line:
            return
        assert line or process.poll() is None, "".join(seen)
    raise AssertionError(f"no {text!r} in: {''.join(seen)}")


def test_watch_checks_again_after_a_change(tmp_path: Path) -> None:
    path = write(tmp_path, "app.py", CLEAN)
    process = subprocess.Popen(
        [sys.executable, "-m", "lintdb", "check", "--watch", "--no-cache", "--output-format", "concise", "."],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    seen: list[str] = []
    try:
        _read_until(process, "Starting linter in watch mode...", seen)
        _read_until(process, "All checks passed! Watching for file changes.", seen)
        time.sleep(0.1)
        path.write_text(BAD)
        _read_until(process, "File change detected...", seen)
        _read_until(process, "Found 1 error. Watching for file changes.", seen)
        _read_until(process, "app.py:2:55: LDB103", seen)
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(30) == 0
