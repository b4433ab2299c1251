"""What names and attributes hold, string texts, dicts and keyword arguments."""

from __future__ import annotations

import libcst as cst

from lintdb.prefilter import HOLE
from tests.model_support import find, model_of


def test_strings_through_names_concatenation_formatting_and_environment() -> None:
    model = model_of("""
        import os

        TABLE = "t"
        URL = os.environ.get("DATABASE_URL", "postgresql+asyncpg://h:6432/db")
        HOST = os.getenv("HOST", default="pgbouncer")

        def run(con, name):
            sql = "SELECT * FROM " + TABLE + " WHERE a = %s AND b = %(b)s AND c = '100%%'" % (1, 2)
            other = "SELECT {} FROM {t} WHERE x = '{{}}'".format(name, t=TABLE)
            fancy = f"SELECT {name} FROM t"
            con.execute(sql)
            con.execute(other)
            con.execute(fancy)
            con.execute(URL)
            con.execute(HOST)
        """)

    def text(code: str) -> str | None:
        found = model.string_of(find(model, code, cst.Name, -1))
        return None if found is None else found.text

    assert text("sql") == f"SELECT * FROM t WHERE a = {HOLE} AND b = {HOLE} AND c = '100%'"
    assert text("other") == f"SELECT {HOLE} FROM {HOLE} WHERE x = '{{}}'"
    assert text("fancy") == f"SELECT {HOLE} FROM t"
    assert text("URL") == "postgresql+asyncpg://h:6432/db"
    assert text("HOST") == "pgbouncer"


def test_string_spans_map_back_to_the_source() -> None:
    model = model_of("""
        QUERY = "SELECT id " + "FROM t"
        """)
    found = model.string_of(find(model, '"SELECT id " + "FROM t"', cst.BinaryOperation))
    assert found is not None and found.text == "SELECT id FROM t"
    span = found.span(10, 14)
    assert span is not None and span.start == 1 and span.end == 5


def test_assignments_class_attributes_settings_and_for_tuples() -> None:
    model = model_of("""
        from pydantic_settings import BaseSettings

        class Settings(BaseSettings):
            database_url: str = "postgresql+asyncpg://db/app"

        settings = Settings()

        class Repo:
            def __init__(self, url):
                self.url = "sqlite+aiosqlite:///x"

            def go(self):
                return self.url

        def many():
            for url in ("a", "b"):
                use(url)
            again = 1
            again = 2
            use(again)

        use(settings.database_url)
        use(Settings().database_url)
        """)
    assert model.text_of(find(model, "settings.database_url", cst.Attribute)) == "postgresql+asyncpg://db/app"
    assert model.text_of(find(model, "Settings().database_url", cst.Attribute)) == "postgresql+asyncpg://db/app"
    assert model.text_of(find(model, "self.url", cst.Attribute, 1)) == "sqlite+aiosqlite:///x"
    loop = model.values_of(find(model, "url", cst.Name, -1))
    assert [model.text_of(v) for v in loop] == ["a", "b"]
    assert model.value_of(find(model, "url", cst.Name, -1)) is None
    assert model.value_of(find(model, "again", cst.Name, -1)) is None


def test_keyword_through_spread_dicts() -> None:
    model = model_of("""
        OPTS = {"isolation_level": "AUTOCOMMIT", **dict(pool_size=5)}

        create_engine("u", **OPTS)
        create_engine("u", **dict(echo=True))
        create_engine("u", connect_args=dict(statement_cache_size=0))
        """)
    first, second, third = (
        find(model, c, cst.Call)
        for c in (
            'create_engine("u", **OPTS)',
            'create_engine("u", **dict(echo=True))',
            'create_engine("u", connect_args=dict(statement_cache_size=0))',
        )
    )
    assert model.text_of(model.keyword(first, "isolation_level")) == "AUTOCOMMIT"
    pool = model.keyword(first, "pool_size")
    assert isinstance(pool, cst.Integer) and pool.value == "5"
    echo = model.keyword(second, "echo")
    assert isinstance(echo, cst.Name) and echo.value == "True"
    assert model.keyword(second, "missing") is None
    items = model.dict_of(model.keyword(third, "connect_args"))
    assert items is not None and list(items) == ["statement_cache_size"]


def test_dicts_completed_by_subscript_and_values_unpacked_from_a_helper() -> None:
    model = model_of("""
        def split(url):
            if "?" not in url:
                return url, {}
            return url, {"ssl": True}

        def make(url):
            url, args = split(url)
            use(args)
            args["statement_cache_size"] = 0
            use(args)

        def changed(url):
            url, args = split(url)
            args["statement_cache_size"] = 0
            args.update(more)
            use(args)

        def unknown(url):
            url, args = other(url)
            args["statement_cache_size"] = 0
            use(args)

        def literal():
            a, b = "x", {"echo": True}
            use(b)
        """)
    before = model.dict_of(find(model, "args", cst.Name, 1))
    assert before is not None and list(before) == ["ssl"]
    after = model.dict_of(find(model, "args", cst.Name, 3))
    assert after is not None and list(after) == ["ssl", "statement_cache_size"]
    assert model.dict_of(find(model, "args", cst.Name, 7)) is None
    assert model.dict_of(find(model, "args", cst.Name, -1)) is None
    items = model.dict_of(find(model, "b", cst.Name, -1))
    assert items is not None and list(items) == ["echo"]


def test_pydantic_field_defaults() -> None:
    model = model_of("""
        from pydantic import BaseModel, Field

        class Settings(BaseModel):
            url: str = Field(default="postgresql+asyncpg://db/app", alias="DATABASE_URL")
            other: str = Field("sqlite+aiosqlite:///x")
            computed: str = Field(default_factory=make)

        settings = Settings()
        use(settings.url, settings.other, settings.computed)
        """)
    assert model.text_of(find(model, "settings.url", cst.Attribute)) == "postgresql+asyncpg://db/app"
    assert model.text_of(find(model, "settings.other", cst.Attribute)) == "sqlite+aiosqlite:///x"
    assert model.text_of(find(model, "settings.computed", cst.Attribute)) is None
