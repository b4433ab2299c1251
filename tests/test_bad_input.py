"""Bad input never gives a traceback: one clear line per problem on stderr, the other files are still
checked, and the exit code is 2. Fixes never corrupt a file."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

import pytest

from lintdb.config import build_settings
from lintdb.engine import FileSettings, SourceError, lint_source
from lintdb.fileio import read_source, write_source
from lintdb.rules.ldb103_sql_in_list_parameter import SqlInListParameter
from tests.test_cli import BAD, FIXED, write

TRIGGER = '\n\nasync def g(con, ids):\n    return await con.fetch("SELECT 1 WHERE a IN $1", ids)\n'


def _errors(result) -> list[str]:  # type: ignore[no-untyped-def]
    assert "Traceback" not in result.stderr
    return result.stderr.splitlines()


def _check_with_good_file(lintdb, tmp_path: Path, *paths: str) -> list[str]:  # type: ignore[no-untyped-def]
    write(tmp_path, "good_then_bad.py", BAD)
    result = lintdb("check", "--output-format", "concise", *(paths or (".",)))
    assert result.returncode == 2
    assert "good_then_bad.py:2:55: LDB103" in result.stdout, "the other files must still be checked"
    return _errors(result)


@pytest.mark.parametrize(
    "source",
    ["type Ids = list[int]\n", "def first[T](xs: list[T]) -> T:\n    return xs[0]\n"],
    ids=["type-alias", "pep695-generic"],
)
def test_newer_syntax_that_libcst_parses_is_checked(lintdb, tmp_path: Path, source: str) -> None:
    write(tmp_path, "new.py", source + TRIGGER)
    result = lintdb("check", "--output-format", "concise", ".")
    assert result.returncode == 1 and _errors(result) == []
    assert "new.py:" in result.stdout and "LDB103" in result.stdout


def test_non_utf8_file_without_cookie(lintdb, tmp_path: Path) -> None:
    (tmp_path / "latin.py").write_bytes("# caf\xe9\n".encode("latin-1") + TRIGGER.encode())
    errors = _check_with_good_file(lintdb, tmp_path)
    assert (
        len(errors) == 1 and errors[0].startswith("lintdb: error: latin.py: cannot decode") and "PEP 263" in errors[0]
    )


def test_an_unreadable_file_alone_never_says_all_checks_passed(lintdb, tmp_path: Path) -> None:
    (tmp_path / "latin.py").write_bytes("# caf\xe9\n".encode("latin-1") + TRIGGER.encode())
    result = lintdb("check", ".")
    assert (result.returncode, result.stdout) == (2, "1 file could not be checked.\n")
    assert result.stderr.startswith("lintdb: error: latin.py: cannot decode")


def test_pep263_cookie_is_honoured_and_kept_by_a_fix(lintdb, tmp_path: Path) -> None:
    path = tmp_path / "latin.py"
    path.write_bytes(("# -*- coding: latin-1 -*-\n# caf\xe9\n" + BAD).encode("latin-1"))
    assert lintdb("check", "--fix", ".").returncode == 0
    assert path.read_bytes() == ("# -*- coding: latin-1 -*-\n# caf\xe9\n" + FIXED).encode("latin-1")


def test_mixed_line_endings_survive_a_fix(lintdb, tmp_path: Path) -> None:
    path = tmp_path / "mixed.py"
    path.write_bytes(b"import os\r\nx = 1\n" + BAD.replace("\n", "\r\n").encode() + b"y = 2\r")
    assert lintdb("check", "--fix", ".").returncode == 0
    assert path.read_bytes() == b"import os\r\nx = 1\n" + FIXED.replace("\n", "\r\n").encode() + b"y = 2\r"


def test_no_trailing_newline_is_kept(lintdb, tmp_path: Path) -> None:
    path = write(tmp_path, "eof.py", BAD.rstrip("\n"))
    assert lintdb("check", "--fix", ".").returncode == 0
    assert path.read_text() == FIXED.rstrip("\n")


def test_empty_file(lintdb, tmp_path: Path) -> None:
    write(tmp_path, "empty.py", "")
    assert lintdb("check", ".").returncode == 0


def test_huge_file_without_trigger_is_fast_and_clean(lintdb, tmp_path: Path) -> None:
    write(tmp_path, "huge.py", "x = 1\n" * 1_750_000)
    assert (tmp_path / "huge.py").stat().st_size > 10_000_000
    assert lintdb("check", ".").returncode == 0


def test_huge_file_with_trigger_is_reported_not_parsed(lintdb, tmp_path: Path) -> None:
    write(tmp_path, "huge.py", "x = 1\n" * 1_750_000 + TRIGGER)
    errors = _check_with_good_file(lintdb, tmp_path)
    assert (
        len(errors) == 1
        and errors[0].startswith("lintdb: error: huge.py: too large to parse")
        and "extend-exclude" in errors[0]
    )


def test_binary_file_named_py(lintdb, tmp_path: Path) -> None:
    (tmp_path / "blob.py").write_bytes(b"\x7fELF\x00\x01\x02 IN $1")
    errors = _check_with_good_file(lintdb, tmp_path)
    assert errors == ["lintdb: error: blob.py: binary file (contains NUL bytes), not Python source"]


def test_unreadable_file(lintdb, tmp_path: Path) -> None:
    if os.geteuid() == 0:
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(tmp_path / "sock.py"))
        try:
            errors = _check_with_good_file(lintdb, tmp_path, ".", "sock.py")
        finally:
            server.close()
        assert len(errors) == 1 and errors[0].startswith("lintdb: error: sock.py: cannot read")
    else:
        write(tmp_path, "secret.py", BAD)
        os.chmod(tmp_path / "secret.py", 0)
        errors = _check_with_good_file(lintdb, tmp_path)
        assert errors == ["lintdb: error: secret.py: cannot read: Permission denied"]


def test_broken_symlink_and_symlink_loop(lintdb, tmp_path: Path) -> None:
    (tmp_path / "dangling.py").symlink_to(tmp_path / "missing.py")
    (tmp_path / "loop_a.py").symlink_to(tmp_path / "loop_b.py")
    (tmp_path / "loop_b.py").symlink_to(tmp_path / "loop_a.py")
    (tmp_path / "dirloop").mkdir()
    (tmp_path / "dirloop" / "again").symlink_to(tmp_path / "dirloop")
    errors = _check_with_good_file(lintdb, tmp_path)
    assert errors[0] == "lintdb: error: dangling.py: no such file (or a broken symbolic link)"
    assert errors[1].startswith("lintdb: error: loop_a.py: cannot read: Too many levels of symbolic links")
    assert errors[2].startswith("lintdb: error: loop_b.py: cannot read: Too many levels of symbolic links")
    assert len(errors) == 3


def test_missing_path_and_directory_named_like_a_file(lintdb, tmp_path: Path) -> None:
    write(tmp_path, "pkg.py/inner.py", BAD)
    result = lintdb("check", "--output-format", "concise", "pkg.py", "nothere.py")
    assert result.returncode == 2
    assert _errors(result) == ["lintdb: error: nothere.py: no such file (or a broken symbolic link)"]
    assert result.stdout.startswith("pkg.py/inner.py:2:55: LDB103")


def test_file_deleted_before_it_is_read(tmp_path: Path) -> None:
    path = write(tmp_path, "gone.py", BAD)
    path.unlink()
    with pytest.raises(SourceError, match="no such file"):
        read_source(path)


def test_file_changed_on_disk_is_not_overwritten(tmp_path: Path) -> None:
    path = write(tmp_path, "race.py", BAD)
    source = read_source(path)
    path.write_text(BAD + "# edited meanwhile\n")
    with pytest.raises(SourceError, match="changed on disk"):
        write_source(source, FIXED)
    assert path.read_text() == BAD + "# edited meanwhile\n"


def test_write_is_atomic_and_leaves_no_temp_file(tmp_path: Path) -> None:
    path = write(tmp_path, "a.py", BAD)
    os.chmod(path, 0o640)
    inode = path.stat().st_ino
    write_source(read_source(path), FIXED)
    assert path.read_text() == FIXED and path.stat().st_ino != inode
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["a.py"]


def test_diff_never_writes(lintdb, tmp_path: Path) -> None:
    path = write(tmp_path, "a.py", BAD)
    before = path.stat().st_mtime_ns
    assert lintdb("check", "--diff", "--unsafe-fixes", ".").returncode == 1
    assert path.read_text() == BAD and path.stat().st_mtime_ns == before


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ('selekt = ["LDB"]\n', "unknown key `selekt`"),
        ('extend-exclude = ["src/[abc"]\n', "invalid glob `src/[abc`"),
        ('ignore = ["LDB1O1"]\n', "unknown rule selector `LDB1O1` in `ignore`"),
        ("select = LDB\n", "invalid TOML"),
        (
            '[lint]\nper-file-ignores = { "tests/*" = "LDB101" }\n',
            "`per-file-ignores` must map glob patterns to lists of rule codes",
        ),
    ],
    ids=["unknown-key", "bad-glob", "bad-code", "bad-toml", "bad-type"],
)
def test_invalid_config(lintdb, tmp_path: Path, config: str, message: str) -> None:
    write(tmp_path, "a.py", BAD)
    write(tmp_path, "lintdb.toml", config)
    result = lintdb("check", ".")
    assert result.returncode == 2
    assert _errors(result) == [f"lintdb: error: {tmp_path / 'lintdb.toml'}: {message}"] or message in result.stderr
    assert len(_errors(result)) == 1


def test_a_crashing_rule_is_contained(monkeypatch: pytest.MonkeyPatch) -> None:
    def visit_Call(self: object, node: object) -> None:  # LibCST picks visitor methods by their name
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(SqlInListParameter, "visit_Call", visit_Call)
    settings: FileSettings = build_settings({}, {"select": ["ALL"]}, Path.cwd(), None).for_file(Path("a.py"))
    source = (
        "import os  # noqa: LDB103\n"
        + 'async def f(con):\n    await con.execute("CREATE TEMP TABLE _t (a int) ON COMMIT DROP")\n\n\n'
        "async def main():\n    import asyncpg\n\n    con = await asyncpg.connect()\n    await f(con)\n"
    )
    source += (
        "async def g():\n    import asyncpg\n    con = await asyncpg.connect()\n"
        '    await con.execute("CREATE TEMP TABLE _t (a int) ON COMMIT DROP")\n'
        '    await con.fetch("SELECT 1 WHERE a IN $1", [1])\n'
    )
    errors: list[str] = []
    diagnostics = lint_source(source, settings, errors)
    assert errors == [
        "internal error in LDB103 (sql-in-list-parameter): ZeroDivisionError: boom; "
        "the other rules still ran (please report this)"
    ]
    assert [d.code for d in diagnostics] == ["LDB101"], "other rules report, and LDB103's noqa is not called unused"
    with pytest.raises(SourceError, match="internal error in LDB103"):
        lint_source(source, settings)
