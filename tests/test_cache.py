"""The cache keeps every file's diagnostics: a warm run prints exactly what the cold run printed, in every
output format, without linting again; a changed file or changed settings is checked again; fixing
(`--fix`, `--diff`, `--add-noqa`) re-checks the files it could change."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lintdb import runner
from lintdb.config import OUTPUT_FORMATS, ConfigResolver
from lintdb.runner import Mode, check_paths

BAD = 'async def find(con, ids):\n    return await con.fetch("SELECT id FROM t WHERE id IN $1", ids)\n'
CLEAN = "def f(x):\n    return x\n"
# LDB205 without a fix, LDB206 with a safe one.
UNFIXABLE = (
    'from sqlalchemy import create_engine\n\nengine = create_engine("sqlite://", isolation_level="AUTOCOMMIT")\n'
)


def _tree(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "bad.py").write_text(BAD)
    (tmp_path / "pkg" / "clean.py").write_text(CLEAN)
    return tmp_path


@pytest.mark.parametrize("output_format", OUTPUT_FORMATS)
def test_warm_run_prints_what_the_cold_run_printed(lintdb, tmp_path: Path, output_format: str) -> None:
    _tree(tmp_path)
    cold = lintdb("check", "--output-format", output_format, "--show-fixes", ".")
    assert cold.returncode == 1 and "LDB103" in cold.stdout
    assert list((tmp_path / ".lintdb_cache").rglob("*.json")), "the cold run wrote the cache"
    warm = lintdb("check", "--output-format", output_format, "--show-fixes", ".")
    assert (warm.returncode, warm.stdout, warm.stderr) == (cold.returncode, cold.stdout, cold.stderr)


def test_warm_run_lints_nothing_and_reads_only_files_with_findings(tmp_path: Path, monkeypatch) -> None:
    root = _tree(tmp_path)
    files = sorted(root.rglob("*.py"))
    resolver = ConfigResolver({}, None, True)
    cold = check_paths(files, resolver, Mode(), use_cache=True)
    read: list[Path] = []
    real_read = runner.read_source

    def no_lint(*args: object) -> object:
        raise AssertionError("a cached file was linted again")

    def reading(path: Path) -> object:
        read.append(path)
        return real_read(path)

    monkeypatch.setattr(runner, "lint_file_text", no_lint)
    monkeypatch.setattr(runner, "read_source", reading)
    warm = check_paths(files, resolver, Mode(), use_cache=True)
    assert [(o.path, o.diagnostics) for o in warm] == [(o.path, o.diagnostics) for o in cold]
    assert warm[0].text == cold[0].text == BAD
    assert read == [root / "pkg" / "bad.py"]


def test_changed_file_is_checked_again(lintdb, tmp_path: Path) -> None:
    _tree(tmp_path)
    clean = tmp_path / "pkg" / "clean.py"
    assert lintdb("check", "--output-format", "concise", ".").stdout.count("LDB103") == 1
    clean.write_text(BAD)
    os.utime(clean, ns=(clean.stat().st_atime_ns, clean.stat().st_mtime_ns + 1_000_000_000))
    assert lintdb("check", "--output-format", "concise", ".").stdout.count("LDB103") == 2
    (tmp_path / "pkg" / "bad.py").write_text(CLEAN)
    assert lintdb("check", "--output-format", "concise", ".").stdout.count("LDB103") == 1


def test_changed_settings_are_checked_again(lintdb, tmp_path: Path) -> None:
    _tree(tmp_path)
    assert lintdb("check", ".").returncode == 1
    ignored = lintdb("check", "--ignore", "LDB103", ".")
    assert ignored.returncode == 0, ignored.stdout
    assert lintdb("check", ".").returncode == 1
    assert len(list((tmp_path / ".lintdb_cache").rglob("*.json"))) == 2, "one cache file per settings"


def test_fix_after_a_cached_run_still_fixes(lintdb, tmp_path: Path) -> None:
    _tree(tmp_path)
    assert lintdb("check", ".").returncode == 1
    diff = lintdb("check", "--diff", ".")
    assert "+    return await con.fetch" in diff.stdout and "= ANY($1)" in diff.stdout
    assert lintdb("check", "--fix", ".").returncode == 0
    assert "= ANY($1)" in (tmp_path / "pkg" / "bad.py").read_text()
    assert lintdb("check", ".").returncode == 0


def test_add_noqa_after_a_cached_run_still_adds(lintdb, tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(UNFIXABLE)
    assert lintdb("check", ".").returncode == 1
    added = lintdb("check", "--add-noqa", ".")
    assert added.stderr == "Added 1 noqa directive.\n"
    assert "# noqa: LDB205" in (tmp_path / "app.py").read_text()
    assert lintdb("check", ".").returncode == 0


def test_fix_reuses_a_cached_file_without_applicable_fixes(lintdb, tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(UNFIXABLE)
    cold = lintdb("check", "--fix", "--output-format", "concise", ".")
    warm = lintdb("check", "--fix", "--output-format", "concise", ".")
    assert cold.returncode == 1 and "LDB205" in cold.stdout
    assert (warm.returncode, warm.stdout, warm.stderr) == (cold.returncode, cold.stdout, cold.stderr)


def test_no_cache_neither_reads_nor_writes(lintdb, tmp_path: Path) -> None:
    _tree(tmp_path)
    assert lintdb("check", "--no-cache", ".").returncode == 1
    assert not (tmp_path / ".lintdb_cache").exists()
