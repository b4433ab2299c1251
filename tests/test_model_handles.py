"""Database handles and their origins: calls, annotations, attributes, use, execution options."""

from __future__ import annotations

import libcst as cst

from tests.model_support import find, model_of


def _kind(source: str, code: str, nth: int = -1, inferred: bool = False) -> str | None:
    model = model_of(source)
    handle = model.handle_of(find(model, code, cst.Name if "." not in code else cst.Attribute, nth), inferred)
    return None if handle is None else handle.kind


ASYNCPG = """
import asyncpg
import asyncpg as pg

async def main(dsn, conn: asyncpg.Connection, raw, maybe):
    con = await pg.connect(dsn)
    pool = await asyncpg.create_pool(dsn, init=setup)
    async with pool.acquire() as pooled:
        row = await pooled.fetchrow("SELECT 1")
        rows = await con.fetch("SELECT 1")
        stmt = await con.prepare("SELECT 1")
        borrowed = raw.driver_connection
        use(con, pool, pooled, row, rows, stmt, borrowed, conn)
    await maybe.copy_records_to_table("t", records=[])
    use(maybe)
"""


def test_asyncpg_handles_from_calls_annotations_and_attributes() -> None:
    assert _kind(ASYNCPG, "con") == "asyncpg-connection"
    assert _kind(ASYNCPG, "pool") == "asyncpg-pool"
    assert _kind(ASYNCPG, "pooled") == "asyncpg-connection"
    assert _kind(ASYNCPG, "row") == "asyncpg-record"
    assert _kind(ASYNCPG, "rows") == "asyncpg-records"
    assert _kind(ASYNCPG, "stmt") == "asyncpg-statement"
    assert _kind(ASYNCPG, "borrowed") == "borrowed-asyncpg"
    assert _kind(ASYNCPG, "conn") == "asyncpg-connection"
    model = model_of(ASYNCPG)
    assert model.handle_of(find(model, "pooled", cst.Name, -1)).init  # type: ignore[union-attr]


def test_handles_follow_statement_order() -> None:
    source = """
        import asyncpg

        async def main(dsn):
            use(con)
            con = await asyncpg.connect(dsn)
            use(con)
            con = None
            use(con)
        """
    assert _kind(source, "con", 0) is None
    assert _kind(source, "con", 2) == "asyncpg-connection"
    assert _kind(source, "con", 4) is None


def test_handles_inferred_from_use_only_when_asked() -> None:
    assert _kind(ASYNCPG, "maybe") is None
    assert _kind(ASYNCPG, "maybe", inferred=True) == "asyncpg-connection"
    source = """
        async def main(db):
            return await db.execute("UPDATE t SET a = $1", 1)
        """
    assert _kind(source, "db", inferred=True) == "asyncpg-connection"


def test_attributes_set_elsewhere_in_the_module() -> None:
    source = """
        import asyncpg

        class Repo:
            async def start(self, dsn):
                self.con = await asyncpg.connect(dsn)

            async def get(self):
                return await self.con.fetchrow("SELECT 1")

        async def startup(app):
            app.state.pool = await asyncpg.create_pool("dsn")

        async def handler(app):
            return app.state.pool
        """
    assert _kind(source, "self.con") == "asyncpg-connection"
    assert _kind(source, "app.state.pool") == "asyncpg-pool"


def test_sqlalchemy_engines_sessions_and_execution_options() -> None:
    source = """
        from sqlalchemy import create_engine
        from sqlalchemy.orm import sessionmaker
        from alembic import op

        engine = create_engine("postgresql://db").execution_options(isolation_level="AUTOCOMMIT")
        plain = create_engine("postgresql://db")
        plain = plain.execution_options(isolation_level="autocommit")
        Session = sessionmaker(plain)

        def work():
            session = Session()
            with plain.connect() as conn:
                use(engine, plain, session, conn)
            bind = op.get_bind()
            use(bind, op)
        """
    model = model_of(source)
    engine = model.handle_of(find(model, "engine", cst.Name, -1))
    assert engine is not None and engine.kind == "sa-engine" and engine.option("isolation_level") == "AUTOCOMMIT"
    plain = model.handle_of(find(model, "plain", cst.Name, -1))
    assert plain is None  # assigned twice at module level: not one value
    assert _kind(source, "session") == "sa-session"
    assert _kind(source, "conn") == "sa-connection"
    assert _kind(source, "bind") == "migration-connection"
    assert _kind(source, "op") == "alembic-op"


def test_rebinding_an_engine_inside_a_function_keeps_it_an_engine() -> None:
    source = """
        from sqlalchemy import create_engine

        def build():
            engine = create_engine("postgresql://db")
            engine = engine.execution_options(isolation_level="AUTOCOMMIT")
            return engine
        """
    model = model_of(source)
    engine = model.handle_of(find(model, "engine", cst.Name, -1))
    assert engine is not None and engine.kind == "sa-engine" and engine.option("isolation_level") == "AUTOCOMMIT"


def test_attribute_set_by_a_base_class_of_the_module() -> None:
    model = model_of("""
        import asyncpg

        class Base:
            async def setup(self):
                self.con = await asyncpg.connect("postgresql:///db")

        class Case(Base):
            async def test(self):
                await self.con.execute("SELECT 1")
                await self.other.execute("SELECT 1")
        """)
    found = model.handle_of(find(model, "self.con", cst.Attribute, -1))
    assert found is not None and found.kind == "asyncpg-connection"
    assert model.handle_of(find(model, "self.other", cst.Attribute)) is None


def _inferred(source: str, code: str, nth: int = -1) -> object:
    model = model_of(source)
    return model.handle_of(find(model, code, cst.Name if "." not in code else cst.Attribute, nth), True)


def test_inferred_connections_from_project_factories() -> None:
    source = """
        from app.db import connect, connection, get_conn

        async def main(dsn):
            conn = await get_conn()
            row = await conn.fetchrow("SELECT 1")
            async with connection() as managed:
                await managed.fetchval("SELECT 1")
            custom = await connect(dsn, record_class=AttrRecord)
            await custom.fetchrow("SELECT 1")
            cursor = db.cursor()
            cursor.fetchval()
            use(conn, row, managed, custom, cursor)
        """
    conn, row, managed = (_inferred(source, name) for name in ("conn", "row", "managed"))
    assert getattr(conn, "kind", None) == "asyncpg-connection" and not getattr(conn, "managed", True)
    assert getattr(row, "kind", None) == "asyncpg-record"
    assert getattr(managed, "kind", None) == "asyncpg-connection" and getattr(managed, "managed", False)
    assert getattr(_inferred(source, "custom"), "kind", None) == "opaque"  # its own record class
    assert _inferred(source, "cursor") is None  # pyodbc's `fetchval()` takes no SQL
    assert _kind(source, "conn") is None  # not inferred unless asked


def test_no_inference_in_files_importing_a_lookalike_library() -> None:
    source = """
        from aiochclient import ChClient

        async def main(client):
            return await client.fetchrow("SELECT 1")
        """
    assert _inferred(source, "client") is None
    assert getattr(_inferred(source.replace("aiochclient", "app.clickhouse"), "client"), "kind", None) == (
        "asyncpg-connection"
    )


def test_no_inference_for_a_name_also_used_as_another_librarys_connection() -> None:
    source = """
        async def first(raw, scheme, query):
            if scheme == "postgresql":
                return await raw.fetchrow(query)
            cursor = await raw.cursor()
            await cursor.execute(query)
            await raw.commit()
            use(raw)
        """
    assert _inferred(source, "raw") is None
    assert getattr(_inferred(source.replace("await raw.commit()", ""), "raw"), "kind", None) is None  # `cursor()`
    assert (
        getattr(
            _inferred(source.replace("raw.cursor()", "raw.cursor(query)").replace("await raw.commit()", ""), "raw"),
            "kind",
            None,
        )
        == "asyncpg-connection"
    )
