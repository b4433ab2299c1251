"""`.ci/run` holds the code to its bar before the tests: ruff check, ruff format --check, mypy --strict,
lintdb on its own code and the rule pages' check, each a step that stops the run when it fails."""

from __future__ import annotations

import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / ".ci" / "run"
CHECKS = (
    ".venv/bin/ruff check lintdb tests benchmarks",
    ".venv/bin/ruff format --check lintdb tests benchmarks",
    ".venv/bin/mypy --strict lintdb",
    ".venv/bin/lintdb check --no-cache .",
    ".venv/bin/python -m lintdb.docs --check",
)


def test_every_check_runs_before_the_tests() -> None:
    steps = [line.removeprefix("step ").strip() for line in SCRIPT.read_text().splitlines() if line.startswith("step ")]
    assert steps[: len(CHECKS)] == list(CHECKS)
    assert steps[-1] == ".venv/bin/python -m pytest"


def test_a_failing_step_stops_the_script(tmp_path: Path) -> None:
    """The script's own prologue (set -euo pipefail and `step`), with a failing step before a marker."""
    text = SCRIPT.read_text()
    prologue = text[: text.index("need=()")] + text[text.index("step() {") : text.index("step .venv")]
    probe = tmp_path / "probe.sh"
    probe.write_text(prologue.replace('cd "$(dirname "$0")/.."', "") + "step false\necho reached\n")
    done = subprocess.run(["bash", str(probe)], capture_output=True, text=True)
    assert done.returncode != 0 and "reached" not in done.stdout and "== false" in done.stdout
