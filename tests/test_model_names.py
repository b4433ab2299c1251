"""Qualified names from the file's import map."""

from __future__ import annotations

import libcst as cst

from tests.model_support import find, model_of


def test_aliases_and_from_imports() -> None:
    model = model_of("""
        import asyncpg as pg
        import sqlalchemy as sa
        import a.b as c
        import os.path
        from sqlalchemy.ext.asyncio import create_async_engine as cae
        from . import text

        pg.connect()
        sa.text("x")
        cae("u")
        c.d()
        os.path.join()
        text("x")
        """)
    assert model.qualified_name(find(model, "pg.connect", cst.Attribute)) == "asyncpg.connect"
    assert model.qualified_name(find(model, "sa.text", cst.Attribute)) == "sqlalchemy.text"
    assert model.qualified_name(find(model, "cae", cst.Name, 1)) == "sqlalchemy.ext.asyncio.create_async_engine"
    assert model.qualified_name(find(model, "c.d", cst.Attribute)) == "a.b.d"
    assert model.qualified_name(find(model, "os.path.join", cst.Attribute)) == "os.path.join"
    assert model.qualified_name(find(model, "text", cst.Name, 1)) is None  # relative import: ignored


def test_function_level_import_and_shadowing() -> None:
    model = model_of("""
        from sqlalchemy import text

        def local():
            from asyncpg import connect
            return connect()

        def shadowed():
            text = str
            return text("x")

        def plain():
            return text("x")
        """)
    assert model.qualified_name(find(model, "connect", cst.Name, 1)) == "asyncpg.connect"
    assert model.qualified_name(find(model, "text", cst.Name, 2)) is None
    assert model.qualified_name(find(model, "text", cst.Name, 3)) == "sqlalchemy.text"


def test_fallback_imports_give_every_name_and_globals_bind_in_the_module() -> None:
    model = model_of("""
        try:
            import ujson as json
        except ImportError:
            import json

        def load():
            global text
            text = 1

        json.loads("1")
        """)
    assert model.qualified_names(find(model, "json.loads", cst.Attribute)) == {"ujson.loads", "json.loads"}
    assert model.qualified_name(find(model, "json.loads", cst.Attribute)) is None
    assert "text" in model.tree.root.bindings
