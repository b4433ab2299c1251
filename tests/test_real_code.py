"""`lintdb check --select ALL --fix --unsafe-fixes` over copies of the installed SQLAlchemy, Alembic and
asyncpg sources: no crash, every file still parses and compiles, and a second run changes nothing."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import alembic
import asyncpg
import sqlalchemy

from lintdb.engine import parse

PACKAGES = [Path(m.__file__).parent for m in (sqlalchemy, alembic, asyncpg) if m.__file__]


def _digest(root: Path) -> dict[Path, str]:
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*.py"))}


def test_fix_run_over_real_packages(lintdb, tmp_path: Path) -> None:
    for package in PACKAGES:
        shutil.copytree(package, tmp_path / package.name, ignore=shutil.ignore_patterns("__pycache__"))
    assert len(list(tmp_path.rglob("*.py"))) > 300
    first = lintdb("check", "--no-cache", "--select", "ALL", "--fix", "--unsafe-fixes", ".")
    assert first.returncode in (0, 1), first.stderr
    assert "Traceback" not in first.stderr and "error" not in first.stderr
    after = _digest(tmp_path)
    for path in after:
        text = path.read_text(encoding="utf-8")
        parse(text)
        compile(text, str(path), "exec")
    second = lintdb("check", "--no-cache", "--select", "ALL", "--fix", "--unsafe-fixes", ".")
    assert second.returncode == first.returncode
    assert _digest(tmp_path) == after
