"""The issue's acceptance run: every rule's examples as files in a directory, checked with the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

from lintdb.diagnostics import Applicability
from lintdb.rules import RULES


def _options_toml(options: dict[str, object]) -> str:
    return "".join(f"{key} = {json.dumps(value)}\n" for key, value in options.items())


def _write_examples(root: Path, kind: str) -> dict[Path, object]:
    files = {}
    for rule in RULES:
        for index, case in enumerate(getattr(rule, kind)):
            folder = root / f"{rule.CODE.lower()}_{index}"
            folder.mkdir(parents=True)
            if case.options:
                (folder / "lintdb.toml").write_text('select = ["ALL"]\n' + _options_toml(dict(case.options)))
            path = folder / "example.py"
            path.write_text(case.source())
            files[path] = case
    return files


def test_invalid_examples_are_reported_and_fixed(lintdb, tmp_path: Path) -> None:
    files = _write_examples(tmp_path, "INVALID")
    data = json.loads(lintdb("check", "--select", "ALL", "--output-format", "json", ".").stdout)
    found = sorted((d["filename"], d["code"], d["location"]["row"], d["location"]["column"]) for d in data)
    expected = sorted(
        (str(path), path.parent.name[:6].upper(), row, column)
        for path, case in files.items()
        for row, column in case.positions
    )
    assert found == expected
    lintdb("check", "--select", "ALL", "--fix", "--unsafe-fixes", ".")
    for path, case in files.items():
        wanted = (
            case.fixed_source()
            if case.fixed_source() is not None and case.applicability != Applicability.DISPLAY_ONLY
            else case.source()
        )
        assert path.read_text() == wanted, path
    before = {path: path.read_text() for path in files}
    second = lintdb("check", "--select", "ALL", "--fix", "--unsafe-fixes", ".")
    assert " fixed, " not in second.stdout
    assert {path: path.read_text() for path in files} == before


def test_valid_examples_report_nothing(lintdb, tmp_path: Path) -> None:
    _write_examples(tmp_path, "VALID")
    result = lintdb("check", "--select", "ALL", ".")
    assert (result.returncode, result.stdout) == (0, "All checks passed!\n")
