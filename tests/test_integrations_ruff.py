"""`lintdb check --with-ruff` with the real ruff: merged output, one exit code, fixes by both tools, and
`# noqa` for both on one line (with `lint.external = ["LDB"]` so ruff leaves LDB codes alone)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_cli import write

SOURCE = 'import os\n\n\nasync def f(con, ids):\n    rows = await con.fetch("SELECT id FROM t WHERE id IN $1", ids)\n'


def test_merged_json_is_one_sorted_array(lintdb, tmp_path: Path) -> None:
    write(tmp_path, "b.py", SOURCE)
    write(tmp_path, "a.py", "import sys\n")
    result = lintdb("check", "--with-ruff", "--output-format", "json", ".")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert [(Path(d["filename"]).name, d["code"], d["location"]["row"]) for d in data] == [
        ("a.py", "F401", 1),
        ("b.py", "F401", 1),
        ("b.py", "F841", 5),
        ("b.py", "LDB103", 5),
    ]
    assert all(list(d) == sorted(d) for d in data)


def test_sarif_has_a_run_per_tool(lintdb, tmp_path: Path) -> None:
    write(tmp_path, "b.py", SOURCE)
    sarif = json.loads(lintdb("check", "--with-ruff", "--output-format", "sarif", ".").stdout)
    assert [run["tool"]["driver"]["name"] for run in sarif["runs"]] == ["lintdb", "ruff"]
    assert [r["ruleId"] for r in sarif["runs"][0]["results"]] == ["LDB103"]


def test_each_tool_applies_its_fixes(lintdb, tmp_path: Path) -> None:
    path = write(tmp_path, "b.py", SOURCE)
    result = lintdb("check", "--with-ruff", "--fix", "--output-format", "concise", ".")
    assert (
        path.read_text()
        == '\n\nasync def f(con, ids):\n    rows = await con.fetch("SELECT id FROM t WHERE id = ANY($1)", ids)\n'
    )
    assert (
        result.returncode == 1
        and result.stdout.splitlines()[0] == "b.py:4:5: F841 Local variable `rows` is assigned to but never used"
    )


def test_noqa_for_both_tools_on_one_line(lintdb, tmp_path: Path) -> None:
    write(tmp_path, "ruff.toml", '[lint]\nextend-select = ["RUF100", "RUF102"]\nexternal = ["LDB"]\n')
    write(tmp_path, "b.py", SOURCE.replace("import os\n", "").replace("ids)\n", "ids)  # noqa: F841, LDB103\n"))
    result = lintdb("check", "--with-ruff", "--output-format", "json", ".")
    assert (result.returncode, result.stdout) == (0, "[]\n")


def test_exit_zero_and_clean_run(lintdb, tmp_path: Path) -> None:
    write(tmp_path, "b.py", SOURCE)
    assert lintdb("check", "--with-ruff", "--exit-zero", ".").returncode == 0
    write(tmp_path, "b.py", "print(1)\n")
    assert lintdb("check", "--with-ruff", ".").stdout == "All checks passed!\n"
