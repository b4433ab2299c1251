"""A fix never leaves an import it made unused: `ruff check --select F401` (the real ruff) finds no
unused import in a fixed example that it did not find before the fix, for every rule's examples."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import libcst as cst
import pytest

from lintdb.api import fix_text
from lintdb.cst_fixes import drop_unused_imports
from lintdb.rule import Invalid, Replace
from lintdb.rules import RULES

RUFF = (sys.executable, "-m", "ruff", "check", "--isolated", "--no-cache", "--select", "F401")


def _unused_imports(tmp_path: Path, source: str) -> list[str]:
    path = tmp_path / "example.py"
    path.write_text(source, encoding="utf-8")
    done = subprocess.run(
        [*RUFF, "--output-format", "json", str(path)],
        capture_output=True,
        text=True,
    )
    assert done.returncode in (0, 1), done.stderr
    return sorted(d["message"] for d in json.loads(done.stdout))


FIXED_EXAMPLES = [
    pytest.param(case, id=f"{rule.CODE}-{i}")
    for rule in RULES
    for i, case in enumerate(rule.INVALID)
    if isinstance(case, Invalid) and case.fixed_source() is not None
]


@pytest.mark.parametrize("case", FIXED_EXAMPLES)
def test_no_new_unused_import_after_any_fix(tmp_path: Path, case: Invalid) -> None:
    before = _unused_imports(tmp_path, case.source())
    new = set(_unused_imports(tmp_path, case.fixed_source() or "")) - set(before)
    assert not new, f"the fix left unused: {sorted(new)}"


def test_ldb203s_fix_removes_the_create_engine_import_it_made_unused(tmp_path: Path) -> None:
    source = (
        "from sqlalchemy import create_engine, text\n\n"
        'engine = create_engine("postgresql+asyncpg://app@db/app")\n'
        'query = text("SELECT 1")\n'
    )
    fixed = fix_text(source, tmp_path / "app.py", config={}, unsafe=True)
    assert fixed == (
        "from sqlalchemy import text\n"
        "from sqlalchemy.ext.asyncio import create_async_engine\n\n"
        'engine = create_async_engine("postgresql+asyncpg://app@db/app")\n'
        'query = text("SELECT 1")\n'
    )
    assert _unused_imports(tmp_path, fixed) == []


def _apply(source: str, old: str, new: str) -> str:
    module = cst.parse_module(source)
    target = next(
        s.body[0].value  # type: ignore[attr-defined]
        for s in module.body
        if isinstance(s, cst.SimpleStatementLine) and module.code_for_node(s).startswith(old)
    )
    changes = drop_unused_imports(module, [Replace(target, cst.parse_expression(new))])

    class Apply(cst.CSTTransformer):
        def on_leave(self, original, updated):  # type: ignore[no-untyped-def]
            for change in changes:
                if isinstance(change, Replace) and change.old is original:
                    return change.new
            return updated

    return module.visit(Apply()).code


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "from m import (\n    a,\n    b,\n)\nfrom n import c\nx = a()\n",
            "from m import (\n    b,\n)\nfrom n import c\nx = c()\n",
        ),
        ("import m as a; import os\nx = a()\n", "import os\nx = c()\n"),
        ("import a.b\nx = a()\n", "x = c()\n"),
        ("from m import a\nx = a()\ny = a\n", "from m import a\nx = c()\ny = a\n"),
        ("from m import a\n__all__ = ['a']\nx = a()\n", "from m import a\n__all__ = ['a']\nx = c()\n"),
        ("from m import a, z\nx = a()\n", "from m import z\nx = c()\n"),
    ],
    ids=["parenthesized", "semicolon", "dotted", "still-used", "all-exports", "unused-before-is-kept"],
)
def test_drop_unused_imports(source: str, expected: str) -> None:
    assert _apply(source, "x = ", "c()") == expected
