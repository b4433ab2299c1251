"""lintdb's output next to ruff's (the installed one), format by format: for a file with only LDB
findings lintdb prints what ruff prints for a file with only ruff findings, line for line, once the
file names, codes, messages and positions are set aside. Also `--with-ruff --fix`: one count and one
`--show-fixes` listing for both tools; and fixes far apart shown as separate hunks."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.test_cli import BAD, UNSAFE_ONLY, write

# Two lines, one finding on line 2 with a safe fix that rewrites the line (LDB103 / ruff's F541).
RUFF_SAFE = 'x = 1\nprint(f"a")\n'
# One finding whose only fix is unsafe (LDB103's `IN ($1)` / ruff's F841).
RUFF_UNSAFE = "def f():\n    x = 1\n"


def _ruff(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", "--select", "F541,F841,F401", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
    )


def _skeleton(text: str, tool: str) -> list[str]:
    """The output with what is specific to the finding replaced by placeholders."""
    out = []
    for line in text.splitlines():
        line = re.sub(r"\b(LDB\d+|F\d+)\b", "CODE", line)
        line = re.sub(r"\((sql-in-list-parameter|f-string-missing-placeholders|unused-variable)\)", "(NAME)", line)
        line = line.replace(f"title={tool} ", "title=TOOL ")
        line = re.sub(r"[^\s,=:]+\.py", "FILE", line)
        line = re.sub(r"(FILE:\d+:)\d+", r"\1COL", line)
        line = re.sub(r"(col|endColumn)=\d+", r"\1=N", line)
        line = re.sub(r"^(CODE (?:\[\*\] )?).*$", r"\1MESSAGE", line)
        line = re.sub(r"^(FILE:\d+:COL: CODE (?:\[\*\] )?).*$", r"\1MESSAGE", line)
        line = re.sub(r"^(FILE:\d+: \[CODE\]) .*$", r"\1 MESSAGE", line)
        if line.startswith("::error "):
            line = re.sub(r"(,line=\d+,col=N,endLine=\d+,endColumn=N::)", r"\1", line)
            line = re.sub(r": CODE .*?(%0A  help: ).*$", r": CODE MESSAGE\1TITLE", line)
        line = re.sub(r"^help: .*$", "help: TITLE", line)
        line = re.sub(r"^(\d+\tCODE\t\[[* ]\]) \S+$", r"\1 NAME", line)
        line = re.sub(r"^(\d+ *[|+-]|\s+[|^-]) .*$", r"\1 SOURCE", line)
        line = re.sub(r"^ *\| +\^+$", "  | CARETS", line)
        out.append(line)
    return out


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    ours, theirs = tmp_path / "lintdb", tmp_path / "ruff"
    write(ours, "app.py", BAD)
    write(theirs, "app.py", RUFF_SAFE)
    return ours, theirs


@pytest.mark.parametrize("output_format", ["full", "concise", "pylint", "github"])
def test_human_and_line_formats_have_ruffs_shape(lintdb, pair: tuple[Path, Path], output_format: str) -> None:
    ours, theirs = pair
    mine = lintdb("check", "--output-format", output_format, "app.py", cwd=ours)
    ruff = _ruff(theirs, "--output-format", output_format, "app.py")
    assert (mine.returncode, ruff.returncode) == (1, 1)
    assert _skeleton(mine.stdout, "lintdb") == _skeleton(ruff.stdout, "ruff"), (mine.stdout, ruff.stdout)


def _keys(value: Any) -> Any:
    """The structure of a JSON value: keys and types, no values."""
    if isinstance(value, dict):
        return {k: _keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_keys(v) for v in value[:1]]
    return type(value).__name__


@pytest.mark.parametrize("output_format", ["json", "gitlab"])
def test_json_formats_have_ruffs_structure(lintdb, pair: tuple[Path, Path], output_format: str) -> None:
    ours, theirs = pair
    mine = json.loads(lintdb("check", "--output-format", output_format, "app.py", cwd=ours).stdout)
    ruff = json.loads(_ruff(theirs, "--output-format", output_format, "app.py").stdout)
    assert _keys(mine) == _keys(ruff)


def test_json_lines_and_sarif_results_have_ruffs_structure(lintdb, pair: tuple[Path, Path]) -> None:
    ours, theirs = pair
    mine = lintdb("check", "--output-format", "json-lines", "app.py", cwd=ours).stdout.splitlines()
    ruff = _ruff(theirs, "--output-format", "json-lines", "app.py").stdout.splitlines()
    assert [_keys(json.loads(line)) for line in mine] == [_keys(json.loads(line)) for line in ruff]
    [mine_result] = json.loads(lintdb("check", "--output-format", "sarif", "app.py", cwd=ours).stdout)["runs"][0][
        "results"
    ]
    [ruff_result] = json.loads(_ruff(theirs, "--output-format", "sarif", "app.py").stdout)["runs"][0]["results"]
    assert set(ruff_result) <= set(mine_result)
    assert _keys(mine_result["locations"]) == _keys(ruff_result["locations"])


def _xml(element: ET.Element) -> Any:
    return (element.tag, sorted(element.attrib), [_xml(child) for child in element])


@pytest.mark.parametrize("source", [None, "finding"])
def test_junit_has_ruffs_elements(lintdb, pair: tuple[Path, Path], source: str | None) -> None:
    ours, theirs = pair
    if source is None:
        write(ours, "app.py", "print(1)\n")
        write(theirs, "app.py", "print(1)\n")
    mine = lintdb("check", "--output-format", "junit", "app.py", cwd=ours).stdout
    ruff = _ruff(theirs, "--output-format", "junit", "app.py").stdout
    assert _xml(ET.fromstring(mine)) == _xml(ET.fromstring(ruff))
    assert [len(line) - len(line.lstrip()) for line in mine.splitlines()] == [
        len(line) - len(line.lstrip()) for line in ruff.splitlines()
    ]


def test_statistics_with_ruffs_closing_lines(lintdb, pair: tuple[Path, Path]) -> None:
    ours, theirs = pair
    mine = lintdb("check", "--statistics", "app.py", cwd=ours).stdout
    ruff = _ruff(theirs, "--statistics", "app.py").stdout
    assert _skeleton(mine, "lintdb") == _skeleton(ruff, "ruff")
    assert mine.splitlines()[-2:] == ruff.splitlines()[-2:] == ["Found 1 error.", "[*] 1 fixable with `--fix`."]
    mine_json = json.loads(lintdb("check", "--statistics", "--output-format", "json", "app.py", cwd=ours).stdout)
    ruff_json = json.loads(_ruff(theirs, "--statistics", "--output-format", "json", "app.py").stdout)
    assert _keys(mine_json) == _keys(ruff_json)


def test_hidden_fix_hint_is_ruffs_wording(lintdb, pair: tuple[Path, Path]) -> None:
    ours, theirs = pair
    write(ours, "app.py", UNSAFE_ONLY)
    write(theirs, "app.py", RUFF_UNSAFE)
    for args in ((), ("--fix",), ("--output-format", "concise")):
        mine = lintdb("check", *args, "app.py", cwd=ours).stdout.splitlines()[-2:]
        ruff = _ruff(theirs, *args, "app.py").stdout.splitlines()[-2:]
        assert mine == ruff == ["Found 1 error.", "1 unsafe fix available with `--fix --unsafe-fixes`."]
    write(ours, "two.py", BAD)
    write(theirs, "two.py", RUFF_SAFE)
    mine = lintdb("check", "--output-format", "concise", ".", cwd=ours).stdout.splitlines()[-1]
    ruff = _ruff(theirs, "--output-format", "concise", ".").stdout.splitlines()[-1]
    assert mine == ruff == "[*] 1 fixable with `--fix` (1 unsafe fix available with `--fix --unsafe-fixes`)."


def test_show_fixes_lists_each_file_once_as_ruff_does(lintdb, tmp_path: Path) -> None:
    ours, theirs = tmp_path / "lintdb", tmp_path / "ruff"
    write(ours, "app.py", BAD + BAD.replace("find", "find2") + UNSAFE_ONLY)
    write(theirs, "app.py", RUFF_SAFE + 'y = 2\nprint(f"b")\n' + RUFF_UNSAFE)
    for output_format in ("full", "concise"):
        mine = lintdb("check", "--fix", "--show-fixes", "--output-format", output_format, "app.py", cwd=ours)
        ruff = _ruff(theirs, "--fix", "--show-fixes", "--output-format", output_format, "app.py")
        assert _skeleton(mine.stdout, "lintdb") == _skeleton(ruff.stdout, "ruff"), (mine.stdout, ruff.stdout)
        assert "Fixed 2 errors:\n- app.py:\n    2 × " in mine.stdout
        write(ours, "app.py", BAD + BAD.replace("find", "find2") + UNSAFE_ONLY)
        write(theirs, "app.py", RUFF_SAFE + 'y = 2\nprint(f"b")\n' + RUFF_UNSAFE)


WITH_RUFF = "import os\nimport sys\n\n\n" + BAD.replace("find", "f").replace("return", "rows =")


def test_with_ruff_fix_counts_and_lists_both_tools_fixes(lintdb, tmp_path: Path) -> None:
    write(tmp_path, "b.py", WITH_RUFF)
    result = lintdb("check", "--with-ruff", "--isolated", "--fix", "--show-fixes", "--output-format", "concise", ".")
    assert result.returncode == 1
    assert result.stdout == (
        "b.py:4:5: F841 Local variable `rows` is assigned to but never used\n"
        "\n"
        "Fixed 3 errors:\n"
        "- b.py:\n"
        "    2 × F401 (unused-import)\n"
        "    1 × LDB103 (sql-in-list-parameter)\n"
        "\n"
        "Found 4 errors (3 fixed, 1 remaining).\n"
        "1 unsafe fix available with `--fix --unsafe-fixes`.\n"
    )


FAR = 1646


def _far_apart(tmp_path: Path) -> Path:
    filler = "".join(f"value_{i} = {i}\n" for i in range(3, FAR))
    return write(
        tmp_path,
        "big.py",
        "from sqlalchemy import create_engine, text\n\n"
        + filler
        + 'engine = create_engine("postgresql+asyncpg://app@db/app")\n'
        + 'query = text("SELECT 1")\n',
    )


def test_a_fix_far_apart_is_two_hunks_in_the_full_format(lintdb, tmp_path: Path) -> None:
    _far_apart(tmp_path)
    out = lintdb("check", "big.py").stdout
    assert len(out.splitlines()) < 40, out[:3000]
    diff = out[out.index("help: ") :].splitlines()[1:]
    assert diff[:4] == [
        "     |",
        "     - from sqlalchemy import create_engine, text",
        "1    + from sqlalchemy import text",
        "2    + from sqlalchemy.ext.asyncio import create_async_engine",
    ]
    assert diff[5] == "-" * 80, "ruff separates hunks with a line of 80 dashes"
    assert diff[6:10] == [
        f"{FAR} | value_{FAR - 1} = {FAR - 1}",
        '     - engine = create_engine("postgresql+asyncpg://app@db/app")',
        f'{FAR + 1} + engine = create_async_engine("postgresql+asyncpg://app@db/app")',
        f'{FAR + 2} | query = text("SELECT 1")',
    ]


def test_diff_hunks_are_diff_us(lintdb, tmp_path: Path) -> None:
    path = _far_apart(tmp_path)
    original = path.read_text()
    result = lintdb("check", "--diff", "--unsafe-fixes", "big.py")
    assert result.returncode == 1 and path.read_text() == original
    assert lintdb("check", "--fix", "--unsafe-fixes", "big.py").returncode == 0
    (tmp_path / "original.py").write_text(original)
    expected = subprocess.run(["diff", "-u", "original.py", "big.py"], cwd=tmp_path, capture_output=True, text=True)
    hunks = [line for line in result.stdout.splitlines() if line.startswith("@@")]
    assert hunks == [line for line in expected.stdout.splitlines() if line.startswith("@@")]
    assert len(hunks) == 2
    diff, closing = result.stdout.rsplit("\n\n", 1)
    assert closing == "Would fix 1 error.\n"
    body = [line for line in diff.splitlines() if not line.startswith(("---", "+++", "@@"))]
    assert body == [line for line in expected.stdout.splitlines() if not line.startswith(("---", "+++", "@@"))]


@pytest.mark.parametrize("flag", ["--diff", "--fix-only"])
def test_diff_and_fix_only_closing_lines_are_ruffs(lintdb, tmp_path: Path, flag: str) -> None:
    ours, theirs = tmp_path / "lintdb", tmp_path / "ruff"
    cases = [  # (lintdb's files, ruff's files): one safe fix and one unsafe; only an unsafe one; nothing
        ({"a.py": BAD, "b.py": UNSAFE_ONLY}, {"a.py": RUFF_SAFE, "b.py": RUFF_UNSAFE}),
        ({"b.py": UNSAFE_ONLY}, {"b.py": RUFF_UNSAFE}),
        ({"c.py": "print(1)\n"}, {"c.py": "print(1)\n"}),
    ]
    for mine_files, ruff_files in cases:
        for root, files in ((ours, mine_files), (theirs, ruff_files)):
            for old in root.glob("*.py"):
                old.unlink()
            for name, text in files.items():
                write(root, name, text)
        mine = lintdb("check", flag, ".", cwd=ours)
        ruff = _ruff(theirs, flag, ".")
        last = [r.stdout.splitlines()[-2:] for r in (mine, ruff)]
        assert last[0] == last[1], (mine, ruff)
        assert mine.returncode == ruff.returncode


def test_with_ruff_diff_has_one_closing_line_for_both_tools(lintdb, tmp_path: Path) -> None:
    path = write(tmp_path, "b.py", WITH_RUFF)
    result = lintdb("check", "--with-ruff", "--isolated", "--diff", ".")
    assert result.returncode == 1 and path.read_text() == WITH_RUFF
    assert "-import os" in result.stdout and "= ANY($1)" in result.stdout
    assert result.stdout.count("Would fix") == 1
    assert result.stdout.endswith("\n\nWould fix 3 errors (1 additional fix available with `--unsafe-fixes`).\n")
