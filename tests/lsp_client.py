"""`lintdb server` over stdio, driven by a real LSP client (pygls's) as an editor would drive it."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient


@dataclass(frozen=True)
class Editor:
    """The client of a running server, and the diagnostics the server has published to it."""

    client: LanguageClient
    published: asyncio.Queue[lsp.PublishDiagnosticsParams]

    def open(self, path: Path, text: str) -> str:
        """Open ``path`` (version 1) with ``text`` in the editor; returns its URI."""
        uri = path.as_uri()
        self.client.text_document_did_open(
            lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(uri=uri, language_id="python", version=1, text=text))
        )
        return uri

    async def next_diagnostics(self) -> lsp.PublishDiagnosticsParams:
        """The next diagnostics the server publishes (30 s at most)."""
        return await asyncio.wait_for(self.published.get(), 30)


@asynccontextmanager
async def lintdb_server(root: Path) -> AsyncIterator[Editor]:
    """Start `python -m lintdb server` on the workspace ``root``, initialize it, and shut it down after."""
    client = LanguageClient("lintdb-test", "1")
    published: asyncio.Queue[lsp.PublishDiagnosticsParams] = asyncio.Queue()

    @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_diagnostics(params: lsp.PublishDiagnosticsParams) -> None:
        published.put_nowait(params)

    await client.start_io(sys.executable, "-m", "lintdb", "server")
    try:
        await client.initialize_async(
            lsp.InitializeParams(capabilities=lsp.ClientCapabilities(), root_uri=root.as_uri())
        )
        client.initialized(lsp.InitializedParams())
        yield Editor(client, published)
    finally:
        await asyncio.wait_for(client.shutdown_async(None), 10)
        client.exit(None)
        await asyncio.wait_for(client.stop(), 10)
