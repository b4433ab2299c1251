"""`lintdb server`: a Language Server (pygls) that publishes diagnostics on open and change (debounced)
and offers one quick fix per diagnostic plus "fix all" (safe fixes)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import unquote, urlparse

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer

from lintdb import __version__
from lintdb.api import check_source, fix_text
from lintdb.config import ConfigError
from lintdb.diagnostics import Applicability, Diagnostic, Edit
from lintdb.engine import InvalidSyntax, SourceError
from lintdb.source import SourceText
from lintdb.syntax import syntax_diagnostic

DEBOUNCE_SECONDS = 0.3
FIX_ALL = "source.fixAll.lintdb"

server = LanguageServer("lintdb", __version__)
_pending: dict[str, asyncio.Task[None]] = {}


def _path(uri: str) -> Path:
    parsed = urlparse(uri)
    return Path(unquote(parsed.path)) if parsed.scheme == "file" else Path("untitled.py")


def _position(source: SourceText, offset: int) -> lsp.Position:
    """LSP positions count UTF-16 code units; lintdb's count code points."""
    location = source.location(offset)
    prefix = source.text[source.line_starts[location.row - 1] : offset]
    return lsp.Position(line=location.row - 1, character=len(prefix.encode("utf-16-le")) // 2)


def _range(source: SourceText, start: int, end: int) -> lsp.Range:
    return lsp.Range(start=_position(source, start), end=_position(source, end))


def _lint(text: str, uri: str) -> tuple[SourceText, list[Diagnostic]]:
    source = SourceText(text)
    try:
        return source, check_source(text, _path(uri))
    except InvalidSyntax as error:
        return source, [syntax_diagnostic(text, error)]
    except (SourceError, ConfigError):
        return source, []


def _lsp_diagnostic(source: SourceText, d: Diagnostic) -> lsp.Diagnostic:
    return lsp.Diagnostic(
        range=_range(source, d.start, d.end),
        message=d.message,
        severity=lsp.DiagnosticSeverity.Error if d.is_syntax_error else lsp.DiagnosticSeverity.Warning,
        code=d.code,
        code_description=lsp.CodeDescription(href=d.url) if d.url else None,
        source="lintdb",
    )


def _publish(uri: str) -> None:
    document = server.workspace.get_text_document(uri)
    source, diagnostics = _lint(document.source, uri)
    server.text_document_publish_diagnostics(
        lsp.PublishDiagnosticsParams(
            uri=uri, diagnostics=[_lsp_diagnostic(source, d) for d in diagnostics], version=document.version
        )
    )


def _schedule(uri: str) -> None:
    previous = _pending.pop(uri, None)
    if previous is not None:
        previous.cancel()

    async def later() -> None:
        await asyncio.sleep(DEBOUNCE_SECONDS)
        _pending.pop(uri, None)
        _publish(uri)

    _pending[uri] = asyncio.ensure_future(later())


@server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
def did_open(params: lsp.DidOpenTextDocumentParams) -> None:
    _publish(params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
def did_change(params: lsp.DidChangeTextDocumentParams) -> None:
    _schedule(params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
def did_save(params: lsp.DidSaveTextDocumentParams) -> None:
    _publish(params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
def did_close(params: lsp.DidCloseTextDocumentParams) -> None:
    server.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[]))


def _text_edits(source: SourceText, edits: tuple[Edit, ...]) -> list[lsp.TextEdit]:
    return [lsp.TextEdit(range=_range(source, e.start, e.end), new_text=e.content) for e in edits]


@server.feature(
    lsp.TEXT_DOCUMENT_CODE_ACTION,
    lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix, lsp.CodeActionKind.SourceFixAll, FIX_ALL]),
)
def code_action(params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
    uri = params.text_document.uri
    source, diagnostics = _lint(server.workspace.get_text_document(uri).source, uri)
    wanted = params.range
    actions = []
    for d in diagnostics:
        if d.fix is None or not d.fix.edits or d.fix.applicability == Applicability.DISPLAY_ONLY:
            continue
        where = _range(source, d.start, d.end)
        if (where.end.line, where.end.character) < (wanted.start.line, wanted.start.character) or (
            where.start.line,
            where.start.character,
        ) > (wanted.end.line, wanted.end.character):
            continue
        unsafe = " (unsafe)" if d.fix.applicability == Applicability.UNSAFE else ""
        actions.append(
            lsp.CodeAction(
                title=f"{d.code}: {d.fix.title}{unsafe}",
                kind=lsp.CodeActionKind.QuickFix,
                diagnostics=[_lsp_diagnostic(source, d)],
                is_preferred=d.fix.applicability == Applicability.SAFE,
                edit=lsp.WorkspaceEdit(changes={uri: _text_edits(source, d.fix.edits)}),
            )
        )
    if any(d.fix and d.fix.edits and d.fix.applicability == Applicability.SAFE for d in diagnostics):
        fixed = fix_text(source.text, _path(uri))
        whole = lsp.TextEdit(range=_range(source, 0, len(source.text)), new_text=fixed)
        safe = [d for d in diagnostics if d.fix and d.fix.edits and d.fix.applicability == Applicability.SAFE]
        actions.append(
            lsp.CodeAction(
                title="lintdb: fix all safe fixes",
                kind=FIX_ALL,
                diagnostics=[_lsp_diagnostic(source, d) for d in safe],
                edit=lsp.WorkspaceEdit(changes={uri: [whole]}),
            )
        )
    return actions


def serve() -> None:
    """Run the server over standard input and output."""
    server.start_io()
