"""SQL that ends early (`... WHERE`): PostgreSQL's parser names no position ("at end of input"); LDB107
reports it at the last token in every front end instead of failing with an internal error."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient

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
    client = LanguageClient("lintdb-test", "1")
    published: asyncio.Queue[lsp.PublishDiagnosticsParams] = asyncio.Queue()

    @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_diagnostics(params: lsp.PublishDiagnosticsParams) -> None:
        published.put_nowait(params)

    await client.start_io(sys.executable, "-m", "lintdb", "server")
    try:
        await client.initialize_async(
            lsp.InitializeParams(capabilities=lsp.ClientCapabilities(), root_uri=tmp_path.as_uri())
        )
        client.initialized(lsp.InitializedParams())
        uri = (tmp_path / "early.py").as_uri()
        client.text_document_did_open(
            lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(uri=uri, language_id="python", version=1, text=EARLY))
        )
        first = await asyncio.wait_for(published.get(), 30)
        return [(d.code, d.range.start.line, d.range.start.character, d.message) for d in first.diagnostics]
    finally:
        await asyncio.wait_for(client.shutdown_async(None), 10)
        client.exit(None)
        await asyncio.wait_for(client.stop(), 10)


def test_editor_shows_it(tmp_path: Path) -> None:
    [(code, line, character, message)] = asyncio.run(_published(tmp_path))
    assert (code, line, character) == ("LDB107", 1, 44)
    assert message.startswith("PostgreSQL rejects this SQL: syntax error at end of input")
