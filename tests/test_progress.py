"""Progress on a terminal: `lintdb check` with stderr on a real pseudo-terminal writes one line that it
rewrites and erases; with stderr on a pipe (CI logs), under `CI`, or for a machine format it writes nothing."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

from tests.test_cli import BAD, write

ERASE = "\r\x1b[K"


def _run_with_tty_stderr(cwd: Path, *args: str, **env: str) -> tuple[int, str, str]:
    leader, follower = pty.openpty()
    environment = {k: v for k, v in os.environ.items() if k != "CI"}
    process = subprocess.Popen(
        [sys.executable, "-m", "lintdb", "check", "--no-cache", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=follower,
        text=True,
        env={**environment, "TERM": "xterm", **env},
    )
    os.close(follower)
    stdout, _ = process.communicate(timeout=120)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return process.returncode, stdout, b"".join(chunks).decode()


def _files(tmp_path: Path) -> None:
    for i in range(3):
        write(tmp_path, f"m{i}.py", BAD)


def test_a_terminal_gets_one_updating_line_that_is_erased(tmp_path: Path) -> None:
    _files(tmp_path)
    code, stdout, stderr = _run_with_tty_stderr(tmp_path, "--output-format", "concise", ".")
    assert code == 1 and stdout.count("LDB103") == 3
    assert stderr.startswith(f"{ERASE}lintdb: checked 1 of 3 files")
    assert stderr.endswith(ERASE) and "\n" not in stderr


def test_no_progress_in_ci_for_machine_formats_or_on_a_pipe(lintdb, tmp_path: Path) -> None:
    _files(tmp_path)
    assert _run_with_tty_stderr(tmp_path, ".", CI="true")[2] == ""
    assert _run_with_tty_stderr(tmp_path, "--output-format", "json", ".")[2] == ""
    assert _run_with_tty_stderr(tmp_path, "--quiet", ".")[2] == ""
    assert lintdb("check", "--no-cache", ".").stderr == ""
