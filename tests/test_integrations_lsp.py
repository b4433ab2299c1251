"""`lintdb server` driven over stdio by a real LSP client (pygls's), as an editor would."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient

from tests.test_cli import BAD, FIXED

UNSAFE = 'async def find(con):\n    return await con.fetch("SELECT id FROM t WHERE id IN ($1)", [1, 2])\n'


async def _session(tmp_path: Path) -> None:
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
        uri = (tmp_path / "bad.py").as_uri()
        client.text_document_did_open(
            lsp.DidOpenTextDocumentParams(
                lsp.TextDocumentItem(
                    uri=uri, language_id="python", version=1, text=BAD + UNSAFE.replace("find", "find2")
                )
            )
        )
        first = await asyncio.wait_for(published.get(), 30)
        assert (first.uri, first.version) == (uri, 1)
        assert [(d.code, d.range.start.line, d.range.start.character, d.source) for d in first.diagnostics] == [
            ("LDB103", 1, 54, "lintdb"),
            ("LDB103", 3, 54, "lintdb"),
        ]

        whole = lsp.Range(start=lsp.Position(line=0, character=0), end=lsp.Position(line=4, character=0))
        actions = await client.text_document_code_action_async(
            lsp.CodeActionParams(
                lsp.TextDocumentIdentifier(uri), whole, lsp.CodeActionContext(diagnostics=first.diagnostics)
            )
        )
        assert actions is not None
        titles = [a.title for a in actions if isinstance(a, lsp.CodeAction)]
        assert titles == [
            "LDB103: Replace with `= ANY($1)`",
            "LDB103: Replace with `= ANY($1)` (unsafe)",
            "lintdb: fix all safe fixes",
        ]
        quick = actions[0]
        assert (
            isinstance(quick, lsp.CodeAction)
            and quick.kind == lsp.CodeActionKind.QuickFix
            and quick.edit
            and quick.edit.changes
        )
        assert quick.diagnostics is not None and [(d.code, d.range.start.line) for d in quick.diagnostics] == [
            ("LDB103", 1)
        ], "a quick fix names the diagnostic it fixes"
        [edit] = quick.edit.changes[uri]
        assert (edit.range.start.line, edit.range.start.character, edit.range.end.character, edit.new_text) == (
            1,
            54,
            59,
            "= ANY($1)",
        )
        fix_all = actions[2]
        assert isinstance(fix_all, lsp.CodeAction) and fix_all.edit and fix_all.edit.changes
        assert fix_all.edit.changes[uri][0].new_text == FIXED + UNSAFE.replace("find", "find2")

        client.text_document_did_change(
            lsp.DidChangeTextDocumentParams(
                lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
                [lsp.TextDocumentContentChangeWholeDocument(text=FIXED)],
            )
        )
        second = await asyncio.wait_for(published.get(), 30)
        assert (second.version, list(second.diagnostics)) == (2, [])

        client.text_document_did_change(
            lsp.DidChangeTextDocumentParams(
                lsp.VersionedTextDocumentIdentifier(uri=uri, version=3),
                [lsp.TextDocumentContentChangeWholeDocument(text="def f(:\n    pass\n")],
            )
        )
        third = await asyncio.wait_for(published.get(), 30)
        assert [
            (d.code, d.severity, d.range.start.line, d.range.start.character, d.message) for d in third.diagnostics
        ] == [("invalid-syntax", lsp.DiagnosticSeverity.Error, 0, 6, "Invalid syntax")]
    finally:
        await asyncio.wait_for(client.shutdown_async(None), 10)
        client.exit(None)
        await asyncio.wait_for(client.stop(), 10)


def test_language_server_session(tmp_path: Path) -> None:
    asyncio.run(_session(tmp_path))
