"""The Python API, and the flake8 plugin run through the real `flake8` command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import lintdb
from lintdb.diagnostics import Applicability
from tests.test_cli import BAD, write

MIGRATION = (
    "from alembic import op\n\n\ndef upgrade():\n"
    '    with op.batch_alter_table("foo") as batch_op:\n        batch_op.drop_column("bar")\n'
)


def flake8(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flake8", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_check_source_returns_diagnostics_with_fixes(tmp_path: Path) -> None:
    [d] = lintdb.check_source(BAD, path=tmp_path / "q.py")
    assert (d.code, d.location.row, d.location.column) == ("LDB103", 2, 55)
    assert d.fix is not None and d.fix.applicability == Applicability.SAFE and d.fix.edits[0].content == "= ANY($1)"
    assert lintdb.check_source(MIGRATION, path=tmp_path / "m.py", config={"alembic-dialects": ["postgresql"]}) == []
    assert lintdb.check_source(BAD, path=tmp_path / "q.py", config={"ignore": ["LDB1"]}) == []


def test_flake8_reports_with_zero_based_columns_and_fix_hint(tmp_path: Path) -> None:
    write(tmp_path, "bad.py", BAD)
    result = flake8("--select", "LDB", "bad.py", cwd=tmp_path)
    assert result.returncode == 1
    assert (
        result.stdout
        == "bad.py:2:55: LDB103 `IN $1` is a syntax error in PostgreSQL (a parameter is one value, not a list); "
        "use `= ANY($1)` (fixable with `lintdb check --fix`)\n"
    )


def test_flake8_noqa_extend_ignore_and_per_file_ignores(tmp_path: Path) -> None:
    write(tmp_path, "bad.py", BAD)
    write(tmp_path, "quiet.py", BAD.replace("ids)\n", "ids)  # noqa: LDB103\n"))
    assert [line.split(":")[0] for line in flake8("--select", "LDB", ".", cwd=tmp_path).stdout.splitlines()] == [
        "./bad.py"
    ]
    assert flake8("--select", "LDB", "--extend-ignore", "LDB103", ".", cwd=tmp_path).returncode == 0
    assert flake8("--select", "LDB", "--per-file-ignores", "bad.py:LDB103", ".", cwd=tmp_path).returncode == 0
    assert flake8("--select", "LDB", "--disable-noqa", "quiet.py", cwd=tmp_path).returncode == 1


def test_flake8_rule_options_from_config(tmp_path: Path) -> None:
    write(tmp_path, "versions/0002.py", MIGRATION)
    assert "LDB303" in flake8("--select", "LDB", ".", cwd=tmp_path).stdout
    write(tmp_path, ".flake8", "[flake8]\nlintdb-alembic-dialects = postgresql\n")
    assert flake8("--select", "LDB", ".", cwd=tmp_path).returncode == 0
    assert flake8("--select", "LDB", "--lintdb-alembic-dialects", "sqlite", ".", cwd=tmp_path).returncode == 1


def test_flake8_reads_tool_lintdb_and_its_own_options_override(tmp_path: Path) -> None:
    write(tmp_path, "versions/0002.py", MIGRATION)
    write(tmp_path, "pyproject.toml", '[tool.lintdb]\nalembic-dialects = ["postgresql"]\n')
    assert flake8("--select", "LDB", ".", cwd=tmp_path).returncode == 0, "[tool.lintdb] was not read"
    assert "LDB303" in flake8("--select", "LDB", "--lintdb-alembic-dialects", "sqlite", ".", cwd=tmp_path).stdout
    write(tmp_path, ".flake8", "[flake8]\nlintdb-alembic-dialects = sqlite\n")
    assert "LDB303" in flake8("--select", "LDB", ".", cwd=tmp_path).stdout, "flake8's config overrides"
    (tmp_path / ".flake8").unlink()
    write(tmp_path, "lintdb.toml", 'alembic-dialects = ["sqlite"]\n')
    assert "LDB303" in flake8("--select", "LDB", ".", cwd=tmp_path).stdout, "lintdb.toml is closer than pyproject"
    write(tmp_path, "lintdb.toml", "no-such-key = 1\n")
    broken = flake8("--select", "LDB", ".", cwd=tmp_path)
    assert broken.returncode != 0 and "lintdb: error:" in broken.stderr and "no-such-key" in broken.stderr
