"""`lintdb check` and `lintdb rule` as a user runs them: exit codes, output, fixes, config, noqa."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

BAD = 'async def find(con, ids):\n    return await con.fetch("SELECT id FROM t WHERE id IN $1", ids)\n'
FIXED = 'async def find(con, ids):\n    return await con.fetch("SELECT id FROM t WHERE id = ANY($1)", ids)\n'
UNSAFE_ONLY = 'async def find(con):\n    return await con.fetch("SELECT id FROM t WHERE id IN ($1)", [1, 2])\n'
CLEAN = "import os\n\nprint(os.sep)\n"


def write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_clean_run_exits_0(lintdb, tmp_path: Path) -> None:
    write(tmp_path, "ok.py", CLEAN)
    result = lintdb("check", ".")
    assert (result.returncode, result.stdout) == (0, "All checks passed!\n")


def test_findings_exit_1_full_and_concise(lintdb, tmp_path: Path) -> None:
    write(tmp_path, "bad.py", BAD)
    full = lintdb("check", ".")
    assert full.returncode == 1
    assert full.stdout.startswith("LDB103 [*] `IN $1` is a syntax error")
    assert "--> bad.py:2:55" in full.stdout
    assert "help: Replace with `= ANY($1)`" in full.stdout
    assert full.stdout.endswith("Found 1 error.\n[*] 1 fixable with `--fix`.\n")
    concise = lintdb("check", "--output-format", "concise", ".")
    assert concise.stdout.splitlines()[0].startswith("bad.py:2:55: LDB103 [*] ")


def test_exit_zero_and_exit_non_zero_on_fix(lintdb, tmp_path: Path) -> None:
    path = write(tmp_path, "bad.py", BAD)
    assert lintdb("check", "--exit-zero", ".").returncode == 0
    result = lintdb("check", "--fix", "--exit-non-zero-on-fix", ".")
    assert result.returncode == 1
    assert path.read_text() == FIXED
    assert "Found 1 error (1 fixed, 0 remaining)." in result.stdout
    assert lintdb("check", "--fix", "--exit-non-zero-on-fix", ".").returncode == 0


def test_fix_exits_0_when_everything_was_fixed(lintdb, tmp_path: Path) -> None:
    path = write(tmp_path, "bad.py", BAD)
    result = lintdb("check", "--fix", ".")
    assert result.returncode == 0
    assert path.read_text() == FIXED


def test_unsafe_fix_needs_the_flag(lintdb, tmp_path: Path) -> None:
    path = write(tmp_path, "bad.py", UNSAFE_ONLY)
    safe = lintdb("check", "--fix", ".")
    assert safe.returncode == 1
    assert path.read_text() == UNSAFE_ONLY
    assert "1 unsafe fix available with `--fix --unsafe-fixes`." in safe.stdout
    assert lintdb("check", "--fix", "--unsafe-fixes", ".").returncode == 0
    assert "= ANY($1)" in path.read_text()


def test_diff_writes_nothing_and_exits_1(lintdb, tmp_path: Path) -> None:
    path = write(tmp_path, "bad.py", BAD)
    result = lintdb("check", "--diff", ".")
    assert result.returncode == 1
    assert '-    return await con.fetch("SELECT id FROM t WHERE id IN $1", ids)' in result.stdout
    assert '+    return await con.fetch("SELECT id FROM t WHERE id = ANY($1)", ids)' in result.stdout
    assert path.read_text() == BAD
    assert result.stdout.endswith("\n\nWould fix 1 error.\n")
    path.write_text(FIXED)
    assert lintdb("check", "--diff", ".").returncode == 0


def test_fix_only_reports_nothing_and_exits_0(lintdb, tmp_path: Path) -> None:
    write(tmp_path, "bad.py", BAD)
    write(tmp_path, "unsafe.py", UNSAFE_ONLY)
    result = lintdb("check", "--fix-only", ".")
    assert result.returncode == 0
    assert result.stdout == "Fixed 1 error (1 additional fix available with `--unsafe-fixes`).\n"
    assert lintdb("check", "--fix-only", "--exit-non-zero-on-fix", ".").returncode == 0


def test_show_fixes_and_statistics(lintdb, tmp_path: Path) -> None:
    write(tmp_path, "bad.py", BAD + BAD.replace("find", "find2"))
    stats = lintdb("check", "--statistics", ".")
    assert stats.stdout == "2\tLDB103\t[*] sql-in-list-parameter\nFound 2 errors.\n[*] 2 fixable with `--fix`.\n"
    shown = lintdb("check", "--fix", "--show-fixes", ".")
    assert "Fixed 2 errors:\n- bad.py:\n    2 × LDB103 (sql-in-list-parameter)\n" in shown.stdout


def test_file_mode_line_endings_and_bom_survive_a_fix(lintdb, tmp_path: Path) -> None:
    path = tmp_path / "crlf.py"
    path.write_bytes(b"\xef\xbb\xbf" + BAD.replace("\n", "\r\n").encode())
    os.chmod(path, 0o750)
    assert lintdb("check", "--fix", ".").returncode == 0
    assert path.read_bytes() == b"\xef\xbb\xbf" + FIXED.replace("\n", "\r\n").encode()
    assert stat.S_IMODE(path.stat().st_mode) == 0o750


def test_stdin(lintdb) -> None:
    result = lintdb("check", "--output-format", "concise", "--stdin-filename", "q.py", "-", stdin=BAD)
    assert result.returncode == 1
    assert result.stdout.startswith("q.py:2:55: LDB103")
    fixed = lintdb("check", "--fix", "-", stdin=BAD)
    assert (fixed.returncode, fixed.stdout) == (0, FIXED)


def test_json_output(lintdb, tmp_path: Path) -> None:
    write(tmp_path, "bad.py", BAD)
    data = json.loads(lintdb("check", "--output-format", "json", ".").stdout)
    assert data == [
        {
            "cell": None,
            "code": "LDB103",
            "end_location": {"column": 60, "row": 2},
            "filename": str(tmp_path / "bad.py"),
            "fix": {
                "applicability": "safe",
                "edits": [
                    {
                        "content": "= ANY($1)",
                        "end_location": {"column": 60, "row": 2},
                        "location": {"column": 55, "row": 2},
                    }
                ],
                "message": "Replace with `= ANY($1)`",
            },
            "location": {"column": 55, "row": 2},
            "message": "`IN $1` is a syntax error in PostgreSQL (a parameter is one value, not a list); "
            "use `= ANY($1)`",
            "name": "sql-in-list-parameter",
            "noqa_row": 2,
            "severity": "error",
            "url": "https://github.com/lintdb/lintdb/blob/main/docs/rules/LDB103-sql-in-list-parameter.md",
        }
    ]
    write(tmp_path, "bad.py", CLEAN)
    assert lintdb("check", "--output-format", "json", ".").stdout == "[]\n"


def test_machine_formats(lintdb, tmp_path: Path) -> None:
    write(tmp_path, "bad.py", BAD)
    github = lintdb("check", "--output-format", "github", ".").stdout
    assert github.startswith(
        f"::error title=lintdb (LDB103),file={tmp_path / 'bad.py'},line=2,col=55,endLine=2,endColumn=60::"
        "bad.py:2:55: LDB103 "
    )
    gitlab = json.loads(lintdb("check", "--output-format", "gitlab", ".").stdout)
    assert gitlab[0]["check_name"] == "LDB103" and gitlab[0]["location"]["positions"]["begin"] == {
        "line": 2,
        "column": 55,
    }
    assert lintdb("check", "--output-format", "pylint", ".").stdout.startswith("bad.py:2: [LDB103] ")
    lines = lintdb("check", "--output-format", "json-lines", ".").stdout.splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["code"] == "LDB103"
    junit = lintdb("check", "--output-format", "junit", ".").stdout
    assert f'<testcase name="org.lintdb.LDB103" classname="{tmp_path / "bad"}" line="2" column="55">' in junit
    sarif = json.loads(lintdb("check", "--output-format", "sarif", ".").stdout)
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"][0]["ruleId"] == "LDB103"


def test_output_file(lintdb, tmp_path: Path) -> None:
    write(tmp_path, "bad.py", BAD)
    result = lintdb("check", "--output-format", "json", "-o", "report.json", "bad.py")
    assert result.returncode == 1 and result.stdout == ""
    assert json.loads((tmp_path / "report.json").read_text())[0]["code"] == "LDB103"


def test_noqa_and_unused_noqa(lintdb, tmp_path: Path) -> None:
    write(tmp_path, "a.py", BAD.replace("ids)\n", "ids)  # noqa: LDB103\n"))
    write(tmp_path, "b.py", BAD.replace("ids)\n", "ids)  # noqa\n"))
    write(tmp_path, "c.py", "# lintdb: noqa: LDB103\n" + BAD)
    write(tmp_path, "d.py", "# ruff: noqa: LDB103\n" + BAD)
    write(tmp_path, "e.py", "# flake8: noqa\n" + BAD)
    write(tmp_path, "f.py", CLEAN.replace("sep)", "sep)  # noqa: LDB101"))
    result = lintdb("check", "--output-format", "concise", ".")
    assert result.stdout.splitlines()[:-2] == ["f.py:3:16: LDB900 [*] Unused `noqa` directive (unused: `LDB101`)"]
    lintdb("check", "--fix", ".")
    assert (tmp_path / "f.py").read_text() == CLEAN


def test_noqa_on_multiline_string_goes_on_its_last_line(lintdb, tmp_path: Path) -> None:
    source = (
        'async def f(con, ids):\n    return await con.fetch("""\n'
        '        SELECT id FROM t WHERE id IN $1\n    """, ids)\n'
    )
    write(tmp_path, "m.py", source)
    data = json.loads(lintdb("check", "--output-format", "json", ".").stdout)
    assert (data[0]["location"]["row"], data[0]["noqa_row"]) == (3, 4)
    write(tmp_path, "m.py", source.replace("ids)\n", "ids)  # noqa: LDB103\n"))
    assert lintdb("check", ".").returncode == 0


def test_add_noqa(lintdb, tmp_path: Path) -> None:
    path = write(tmp_path, "bad.py", BAD)
    result = lintdb("check", "--add-noqa", ".")
    assert result.returncode == 0 and "Added 1 noqa directive." in result.stderr
    assert path.read_text() == BAD.replace("ids)\n", "ids)  # noqa: LDB103\n")
    assert lintdb("check", ".").returncode == 0


def test_select_ignore_specificity_and_per_file_ignores(lintdb, tmp_path: Path) -> None:
    write(tmp_path, "bad.py", BAD)
    assert lintdb("check", "--ignore", "LDB1", ".").returncode == 0
    assert lintdb("check", "--select", "LDB3", ".").returncode == 0
    assert lintdb("check", "--ignore", "LDB1", "--extend-select", "LDB103", ".").returncode == 1
    assert lintdb("check", "--select", "ALL", "--ignore", "LDB103", ".").returncode == 0
    assert lintdb("check", "--per-file-ignores", "bad.py:LDB103", ".").returncode == 0
    assert lintdb("check", "--per-file-ignores", "!bad.py:LDB103", ".").returncode == 1


def test_config_file_closest_wins_and_extend(lintdb, tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", '[tool.lintdb]\nignore = ["LDB103"]\n')
    write(tmp_path, "pkg/bad.py", BAD)
    write(tmp_path, "other/bad.py", BAD)
    write(
        tmp_path,
        "other/lintdb.toml",
        'extend = "../pyproject.toml"\n[lint]\nper-file-ignores = { "nothing.py" = ["LDB101"] }\n',
    )
    write(tmp_path, "strict/bad.py", BAD)
    write(tmp_path, "strict/.lintdb.toml", 'select = ["LDB"]\n')
    result = lintdb("check", "--output-format", "concise", ".")
    assert [line.split(":")[0] for line in result.stdout.splitlines()[:-2]] == ["strict/bad.py"]


def test_config_errors_exit_2_and_name_the_file(lintdb, tmp_path: Path) -> None:
    write(tmp_path, "bad.py", BAD)
    write(tmp_path, "lintdb.toml", 'selekt = ["LDB"]\n')
    result = lintdb("check", ".")
    assert result.returncode == 2
    assert result.stderr == f"lintdb: error: {tmp_path / 'lintdb.toml'}: unknown key `selekt`\n"
    write(tmp_path, "lintdb.toml", 'select = ["LDB999"]\n')
    assert "unknown rule selector `LDB999` in `select`" in lintdb("check", ".").stderr
    assert lintdb("check", "--select", "E501", ".").returncode == 2


def test_rule_options_reach_rules(lintdb, tmp_path: Path) -> None:
    migration = (
        "from alembic import op\n\n\ndef upgrade():\n"
        '    with op.batch_alter_table("foo") as batch_op:\n        batch_op.drop_column("bar")\n'
    )
    write(tmp_path, "versions/0002.py", migration)
    assert lintdb("check", ".").returncode == 1
    write(tmp_path, "lintdb.toml", 'alembic-dialects = ["postgresql"]\n')
    assert lintdb("check", ".").returncode == 0


def test_exclude_gitignore_and_force_exclude(lintdb, tmp_path: Path) -> None:
    write(tmp_path, "venv/bad.py", BAD)
    write(tmp_path, "build/bad.py", BAD)
    write(tmp_path, ".gitignore", "build/\n")
    (tmp_path / ".git").mkdir()
    write(tmp_path, "skipped/bad.py", BAD)
    write(tmp_path, "lintdb.toml", 'extend-exclude = ["skipped"]\n')
    assert lintdb("check", ".").returncode == 0
    assert lintdb("check", "skipped/bad.py").returncode == 1
    assert lintdb("check", "--force-exclude", "skipped/bad.py").returncode == 0


def test_cache_skips_clean_files_until_they_change(lintdb, tmp_path: Path) -> None:
    clean_twin = BAD.replace("IN $1", "=  $1")  # same size as BAD, no finding
    path = write(tmp_path, "ok.py", clean_twin)
    assert lintdb("check", ".").returncode == 0
    assert len(list((tmp_path / ".lintdb_cache").rglob("*.json"))) == 1
    stat_before = path.stat()
    path.write_text(BAD)
    os.utime(path, ns=(stat_before.st_atime_ns, stat_before.st_mtime_ns))
    assert lintdb("check", ".").returncode == 0, "same mtime, size and mode: the cached verdict is used (as in ruff)"
    assert lintdb("check", "--no-cache", ".").returncode == 1
    os.utime(path)
    assert lintdb("check", ".").returncode == 1
    assert len(list((tmp_path / ".lintdb_cache").rglob("*.json"))) == 1, "the same settings reuse one cache file"


def test_rule_command(lintdb) -> None:
    text = lintdb("rule", "LDB301")
    assert text.returncode == 0
    assert text.stdout.startswith(
        "# migrations-never-committed (LDB301)\n\nFix is always available.\n\n## What it does\n"
    )
    data = json.loads(lintdb("rule", "LDB103", "--output-format", "json").stdout)
    assert (data["code"], data["name"], data["fix_availability"]) == ("LDB103", "sql-in-list-parameter", "Sometimes")
    every = json.loads(lintdb("rule", "--all", "--output-format", "json").stdout)
    assert [r["code"] for r in every] == sorted(r["code"] for r in every)
    assert lintdb("rule", "LDB000").returncode == 2


def test_version(lintdb) -> None:
    from lintdb import __version__

    assert lintdb("--version").stdout == f"lintdb {__version__}\n"
