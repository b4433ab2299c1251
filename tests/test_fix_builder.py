"""A node replacement's edits, found by rendering only its top-level statement, are exactly the edits the
whole module's rendering gives, for every name in sources with comments, decorators, nesting and CRLF."""

from __future__ import annotations

import libcst as cst
import pytest
from libcst.metadata import ByteSpanPositionProvider, MetadataWrapper

from lintdb.diagnostics import Applicability
from lintdb.fix_builder import _Replacer, _statement_edits, build_fix
from lintdb.fixes import apply_edits, diff_edits
from lintdb.rule import FixSpec, Replace, Span
from lintdb.source import SourceText

SOURCES = [
    "import os\n\n# a comment\n\n@decorator(arg)\n# between\ndef f(conn):\n    if conn:\n"
    "        return conn.execute(x)\n",
    "class A:\n    '''doc'''\n\n    async def g(self):\n        async with self.pool.acquire() as c:\n"
    "            await c.fetch(q)  # trailing\n\n\nvalue = call(a, b)\n# footer comment\n",
    "x = 1\r\n\r\n\r\n# lead\r\nfor t in ('a', 'b'):\r\n    op.execute(t)\r\nelse:\r\n    y = x\r\n",
    "if a:  pass\nwhile b: c = d; e = f\n\n\n\ntry:\n    g()\nexcept E as h:\n    raise\n",
]


class _Names(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: list[cst.Name] = []

    def visit_Name(self, node: cst.Name) -> None:
        self.names.append(node)


def _names(module: cst.Module) -> list[cst.Name]:
    visitor = _Names()
    module.visit(visitor)
    return visitor.names


@pytest.mark.parametrize("source", SOURCES)
def test_statement_rendering_gives_the_whole_module_edits(source: str) -> None:
    module = cst.parse_module(source)
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    spans = wrapper.resolve(ByteSpanPositionProvider)
    code = module.code
    to_char = SourceText(code).char_offsets()

    def offsets(span: Span) -> tuple[int, int]:
        where = spans[span.node]
        return to_char(where.start), to_char(where.start + where.length)

    names = _names(module)
    assert len(names) > 5
    for name in names:
        change = Replace(name, name.with_changes(value=name.value + "_renamed"))
        spec = FixSpec((change,), Applicability.SAFE, "rename")
        whole = diff_edits(code, module.visit(_Replacer({id(name): change})).code)
        assert _statement_edits(spec, module, offsets, 0, code) == whole  # None (the fallback) fails too
        fix = build_fix(spec, module, offsets, 0, code)
        assert list(fix.edits) == whole
        assert apply_edits(source, fix.edits).count(name.value + "_renamed") == 1


def test_a_replaced_top_level_statement_is_rendered_with_the_module() -> None:
    source = "a = 1\n# keep\nb = 2\n"
    module = cst.parse_module(source)
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    spans = wrapper.resolve(ByteSpanPositionProvider)

    def offsets(span: Span) -> tuple[int, int]:
        where = spans[span.node]
        return where.start, where.start + where.length

    second = module.body[1]
    change = Replace(second, cst.RemovalSentinel.REMOVE)
    spec = FixSpec((change,), Applicability.SAFE, "remove")
    assert _statement_edits(spec, module, offsets, 0, module.code) is None
    fix = build_fix(spec, module, offsets, 0, module.code)
    assert apply_edits(source, fix.edits) == "a = 1\n"
