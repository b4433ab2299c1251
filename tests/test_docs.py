"""The rule pages in docs/rules/ exist, match the rules' docstrings, and are where `url` points."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from lintdb.docs import DEFAULT_DOCS_URL, DOCS_DIR, REGENERATE, stale
from lintdb.rules import RULES
from tests.test_cli import BAD, write


def test_rule_pages_are_up_to_date() -> None:
    outdated = stale()
    assert not outdated, f"docs/rules/ is stale ({', '.join(outdated)}): regenerate with `{REGENERATE}`"


def test_check_mode_reports_a_stale_page_and_the_command(tmp_path: Path) -> None:
    docs = tmp_path / "rules"
    assert subprocess.run([sys.executable, "-m", "lintdb.docs", "--directory", str(docs)]).returncode == 0
    assert sorted(p.name for p in docs.iterdir()) == sorted(p.name for p in DOCS_DIR.iterdir())
    page = next(docs.glob("LDB103-*.md"))
    page.write_text(page.read_text() + "edited\n")
    (docs / "LDB999-gone.md").write_text("# gone\n")
    done = subprocess.run(
        [sys.executable, "-m", "lintdb.docs", "--check", "--directory", str(docs)], capture_output=True, text=True
    )
    assert done.returncode == 1
    assert "LDB103-sql-in-list-parameter.md" in done.stderr and "LDB999-gone.md" in done.stderr
    assert f"regenerate with: {REGENERATE}" in done.stderr


def test_every_rule_has_a_page_with_its_documentation_and_an_index_row() -> None:
    index = (DOCS_DIR / "README.md").read_text()
    for rule in RULES:
        page = DOCS_DIR / f"{rule.CODE}-{rule.NAME}.md"
        assert rule.documentation() in page.read_text()
        assert f"[{rule.CODE}]({page.name})" in index


def test_json_url_points_at_the_page_and_docs_url_moves_it(lintdb, tmp_path: Path) -> None:
    write(tmp_path, "bad.py", BAD)
    [finding] = json.loads(lintdb("check", "--output-format", "json", ".").stdout)
    assert finding["url"].startswith(DEFAULT_DOCS_URL)
    assert (DOCS_DIR / finding["url"][len(DEFAULT_DOCS_URL) :]).is_file()
    write(tmp_path, "pyproject.toml", '[tool.lintdb]\ndocs-url = "https://docs.example.com/lintdb"\n')
    [moved] = json.loads(lintdb("check", "--output-format", "json", ".").stdout)
    assert moved["url"] == "https://docs.example.com/lintdb/LDB103-sql-in-list-parameter.md"
    sarif = json.loads(lintdb("check", "--output-format", "sarif", ".").stdout)
    uris = {r["id"]: r["helpUri"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert uris["LDB103"] == moved["url"]
