"""A file lintdb parses and cannot parse is a finding, as in ruff: `invalid-syntax` in every output
format (side by side with ruff's own output for the same file), exit 1, never "All checks passed!"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import lintdb
from lintdb.engine import InvalidSyntax, SourceError
from tests.test_cli import BAD, write
from tests.test_ruff_parity import _ruff

TRIGGER = '\n\nasync def g(con, ids):\n    return await con.fetch("SELECT 1 WHERE a IN $1", ids)\n'
BROKEN = "def f(:\n    pass\n" + TRIGGER


@pytest.mark.parametrize(
    "source",
    [BROKEN, "def f():\n\treturn 1\n        return 2\n" + TRIGGER, "x = (\n" + TRIGGER],
    ids=["bad-signature", "inconsistent-indent", "unclosed-bracket"],
)
def test_a_syntax_error_is_a_finding_and_the_other_files_are_checked(lintdb, tmp_path: Path, source: str) -> None:
    write(tmp_path, "broken.py", source)
    write(tmp_path, "good_then_bad.py", BAD)
    result = lintdb("check", "--output-format", "concise", ".")
    assert (result.returncode, result.stderr) == (1, "")
    lines = result.stdout.splitlines()
    assert lines[0].startswith("broken.py:") and ": invalid-syntax: " in lines[0]
    assert lines[1].startswith("good_then_bad.py:2:55: LDB103 [*] ")
    assert lines[2:] == ["Found 2 errors.", "[*] 1 fixable with `--fix`."]


def test_json_objects_have_ruffs_fields_for_a_syntax_error(lintdb, tmp_path: Path) -> None:
    write(tmp_path, "broken.py", BROKEN)
    ours = json.loads(lintdb("check", "--output-format", "json", "broken.py").stdout)
    theirs = json.loads(_ruff(tmp_path, "--output-format", "json", "broken.py").stdout)
    assert [d["code"] for d in ours] == ["invalid-syntax"]
    assert ours[0]["location"] == theirs[0]["location"] == {"column": 7, "row": 1}
    keep = ("cell", "code", "filename", "fix", "name", "noqa_row", "severity", "url")
    assert {k: ours[0][k] for k in keep} == {k: theirs[0][k] for k in keep}
    assert list(ours[0]) == list(theirs[0])


@pytest.mark.parametrize("output_format", ["concise", "full", "pylint", "github", "gitlab", "junit", "sarif"])
def test_every_format_reports_it_like_ruff(lintdb, tmp_path: Path, output_format: str) -> None:
    write(tmp_path, "broken.py", BROKEN)
    ours = lintdb("check", "--output-format", output_format, "broken.py")
    theirs = _ruff(tmp_path, "--output-format", output_format, "broken.py")
    assert (ours.returncode, theirs.returncode) == (1, 1)
    shapes = {
        "concise": "broken.py:1:7: invalid-syntax: ",
        "full": "invalid-syntax: ",
        "pylint": "broken.py:1: [invalid-syntax] ",
        "github": "::error title={tool} (invalid-syntax),file=",
        "gitlab": '"check_name": "invalid-syntax"',
        "junit": '<testcase name="org.{tool}.invalid-syntax"',
        "sarif": '"ruleId": "invalid-syntax"',
    }
    for tool, out in (("lintdb", ours.stdout), ("ruff", theirs.stdout)):
        assert shapes[output_format].format(tool=tool) in out, (tool, out)
    assert "All checks passed!" not in ours.stdout


def test_the_fix_run_reports_it_and_writes_nothing(lintdb, tmp_path: Path) -> None:
    path = write(tmp_path, "broken.py", BROKEN)
    result = lintdb("check", "--fix", "--output-format", "concise", ".")
    assert result.returncode == 1 and "invalid-syntax" in result.stdout
    assert path.read_text() == BROKEN


def test_a_file_no_rule_would_look_at_is_not_parsed(lintdb, tmp_path: Path) -> None:
    write(tmp_path, "plain.py", "def f(:\n")
    result = lintdb("check", ".")
    assert (result.returncode, result.stdout) == (0, "All checks passed!\n")


def test_api_raises_its_documented_error() -> None:
    with pytest.raises(InvalidSyntax) as raised:
        lintdb.check_source("def f(:\n")
    assert isinstance(raised.value, SourceError) and raised.value.row >= 1
    with pytest.raises(InvalidSyntax):
        lintdb.check_source(BROKEN)
    assert lintdb.check_source("def f():\n    pass\n") == []


def test_with_ruff_reports_the_syntax_error_once_per_tool_message(lintdb, tmp_path: Path) -> None:
    write(tmp_path, "broken.py", BROKEN)
    theirs = json.loads(_ruff(tmp_path, "--output-format", "json", "broken.py").stdout)
    result = lintdb("check", "--with-ruff", "--isolated", "--output-format", "json", "broken.py")
    ours = json.loads(result.stdout)
    assert result.returncode == 1
    assert [(d["code"], d["message"]) for d in ours] == [(d["code"], d["message"]) for d in theirs]
