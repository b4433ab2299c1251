"""`lintdb server` driven over stdio by a real LSP client (pygls's), as an editor would."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types as lsp

from tests.lsp_client import lintdb_server
from tests.test_cli import BAD, FIXED

UNSAFE = 'async def find(con):\n    return await con.fetch("SELECT id FROM t WHERE id IN ($1)", [1, 2])\n'


async def _session(tmp_path: Path) -> None:
    async with lintdb_server(tmp_path) as editor:
        client = editor.client
        uri = editor.open(tmp_path / "bad.py", BAD + UNSAFE.replace("find", "find2"))
        first = await editor.next_diagnostics()
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
        second = await editor.next_diagnostics()
        assert (second.version, list(second.diagnostics)) == (2, [])

        client.text_document_did_change(
            lsp.DidChangeTextDocumentParams(
                lsp.VersionedTextDocumentIdentifier(uri=uri, version=3),
                [lsp.TextDocumentContentChangeWholeDocument(text="def f(:\n    pass\n")],
            )
        )
        third = await editor.next_diagnostics()
        assert [
            (d.code, d.severity, d.range.start.line, d.range.start.character, d.message) for d in third.diagnostics
        ] == [("invalid-syntax", lsp.DiagnosticSeverity.Error, 0, 6, "Invalid syntax")]


def test_language_server_session(tmp_path: Path) -> None:
    asyncio.run(_session(tmp_path))
