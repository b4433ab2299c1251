"""SQL handed to a project's own wrapper reaches the rules even in a file with no `text(` (the real-world
ledger's session-pysogs shape): LDB206 reports `IN :ids` in it."""

from __future__ import annotations

from lintdb.engine import FileSettings, lint_source

SOURCE = """from .db import query


def rooms(ids):
    return query("SELECT token FROM rooms WHERE id IN :ids", ids=ids)
"""


def test_in_list_through_an_imported_wrapper_is_reported() -> None:
    found = lint_source(SOURCE, FileSettings(frozenset({"LDB206"})))
    assert [(d.code, d.location.row) for d in found] == [("LDB206", 5)]
