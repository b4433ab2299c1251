"""SQL that ends early (`... WHERE`): PostgreSQL's parser names no position ("at end of input"); LDB107
reports it at the last token in every front end instead of failing with an internal error."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.lsp_client import lintdb_server
from tests.test_cli import write
from tests.test_integrations_api_flake8 import flake8

EARLY = 'async def rows(con):\n    return await con.fetch("SELECT * FROM t WHERE")\n'
MESSAGE = "LDB107 PostgreSQL rejects this SQL: syntax error at end of input"


def test_cli_reports_it_at_the_last_token(lintdb, tmp_path: Path) -> None:
    write(tmp_path, "early.py", EARLY)
    result = lintdb("check", "--select", "LDB107", "--output-format", "concise", ".")
    assert (result.returncode, result.stderr) == (1, "")
    assert result.stdout.splitlines()[0] == f"early.py:2:45: {MESSAGE}"


def test_flake8_reports_it(tmp_path: Path) -> None:
    write(tmp_path, "early.py", EARLY)
    result = flake8("--select", "LDB", "early.py", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (1, f"early.py:2:45: {MESSAGE}\n")


async def _published(tmp_path: Path) -> list[tuple[object, int, int, str]]:
    async with lintdb_server(tmp_path) as editor:
        editor.open(tmp_path / "early.py", EARLY)
        first = await editor.next_diagnostics()
        return [(d.code, d.range.start.line, d.range.start.character, d.message) for d in first.diagnostics]


def test_editor_shows_it(tmp_path: Path) -> None:
    [(code, line, character, message)] = asyncio.run(_published(tmp_path))
    assert (code, line, character) == ("LDB107", 1, 44)
    assert message.startswith("PostgreSQL rejects this SQL: syntax error at end of input")
