"""LDB203 sync-engine-async-driver."""

from __future__ import annotations

import libcst as cst

from lintdb.cst_fixes import add_import, drop_unused_imports, imported_name
from lintdb.cst_helpers import call_arg
from lintdb.diagnostics import Applicability
from lintdb.rule import FixSpec, Invalid, LintRule, Replace, Valid
from lintdb.rules.ldb204_async_fallback import fallback_settings

ASYNC_DRIVERS = ("asyncpg", "aiosqlite", "asyncmy", "aiomysql", "psycopg_async")
# sync factory -> its asyncio counterpart in sqlalchemy.ext.asyncio
FACTORIES = {
    "sqlalchemy.create_engine": "create_async_engine",
    "sqlalchemy.engine.create_engine": "create_async_engine",
    "sqlalchemy.engine.create.create_engine": "create_async_engine",
    "sqlalchemy.engine_from_config": "async_engine_from_config",
    "sqlalchemy.engine.engine_from_config": "async_engine_from_config",
    "sqlalchemy.engine.create.engine_from_config": "async_engine_from_config",
}
ASYNCIO_SOURCES = frozenset({"sqlalchemy.ext.asyncio"})

_EXAMPLE = """
import os

from sqlalchemy import {imports}{extra_import}

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
engine = {factory}(DATABASE_URL, pool_size=2)


async def answer():
    async with engine.connect() as conn:
        return (await conn.execute(text("SELECT 42"))).scalar_one()
"""
ASYNC_IMPORT = "\nfrom sqlalchemy.ext.asyncio import create_async_engine"


_SETTINGS = """
from pydantic import BaseModel, Field
from sqlalchemy import {imports}{extra_import}


class Settings(BaseModel):
    database_url: str = Field(default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")


settings = Settings()
engine = {factory}(settings.database_url)


async def answer():
    async with engine.connect() as conn:
        return (await conn.execute(text("SELECT 42"))).scalar_one()
"""


_CONFIG = """
from alembic.config import Config
from sqlalchemy import {imports}{extra_import}

config = Config()
config.set_main_option("sqlalchemy.url", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
engine = {factory}(config.get_section(config.config_ini_section, {{}}), prefix="sqlalchemy.")


async def answer():
    async with engine.connect() as conn:
        return (await conn.execute(text("SELECT 42"))).scalar_one()
"""


def config_example(factory: str, imports: str = "engine_from_config, text", extra_import: str = "") -> str:
    """An env.py-style engine from the Alembic config's section, its URL set by `set_main_option`."""
    return _CONFIG.format(factory=factory, imports=imports, extra_import=extra_import)


def settings_example(factory: str, imports: str = "create_engine, text", extra_import: str = "") -> str:
    """The same engine with its URL the default of a pydantic settings field (shape 14)."""
    return _SETTINGS.format(factory=factory, imports=imports, extra_import=extra_import)


def engine_example(factory: str, imports: str = "create_engine, text", extra_import: str = "") -> str:
    """A module-level engine made by ``factory`` and used from a coroutine."""
    return _EXAMPLE.format(factory=factory, imports=imports, extra_import=extra_import)


class SyncEngineAsyncDriver(LintRule):
    """
    ## What it does
    Checks for `create_engine(...)` and `engine_from_config(...)` with a URL (a literal, a module
    constant, the default of `os.environ.get`, or of a settings field, `Field(default=...)` too, of the
    module or of another module of the project it imports: `create_engine(settings.DATABASE_URL)`) that
    names an asyncio driver: `+asyncpg`, `+aiosqlite`, `+asyncmy`, `+aiomysql`. An env.py's
    `engine_from_config(config.get_section(...))` reads the URL its `config.set_main_option("sqlalchemy.url",
    ...)` sets.

    ## Why is this bad?
    The engine is created without complaint, and the first `connect()` raises
    `sqlalchemy.exc.MissingGreenlet: greenlet_spawn has not been called; can't call await_() here`
    (`await_only()` on SQLAlchemy 2.0), with `RuntimeWarning: coroutine 'connect' was never awaited`.

    ## Example
    ```python
    engine = create_engine("postgresql+asyncpg://app@db/app")
    ```

    Use instead:
    ```python
    engine = create_async_engine("postgresql+asyncpg://app@db/app")
    ```

    Or keep the sync engine with a sync driver (`postgresql+psycopg2://`, `postgresql+psycopg://`).

    ## Fix safety
    The fix is unsafe: an `AsyncEngine` has to be used with `await` and `async with`, so every caller
    that used the engine synchronously must change too.

    ## References
    - [SQLAlchemy: MissingGreenlet](https://docs.sqlalchemy.org/en/20/errors.html#error-xd2s)
    - [SQLAlchemy: Asynchronous I/O (asyncio)](https://docs.sqlalchemy.org/en/20/orm/extensions/asyncio.html)
    """

    CODE = "LDB203"
    NAME = "sync-engine-async-driver"
    MESSAGE = "A sync engine with an asyncio driver raises `MissingGreenlet` at its first connect"
    FIX_TITLE = "Use `create_async_engine`"
    FIX_AVAILABILITY = "Sometimes"

    VALID = (
        Valid(engine_example("create_async_engine", imports="text", extra_import=ASYNC_IMPORT)),
        Valid("""
            from sqlalchemy import create_engine

            engine = create_engine("postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
            """),
    )
    INVALID = (
        Invalid(
            engine_example("create_engine"),
            positions=[(6, 10)],
            fixed=engine_example("create_async_engine", imports="text", extra_import=ASYNC_IMPORT),
            applicability=Applicability.UNSAFE,
        ),
        Invalid(
            """
            import sqlalchemy as sa
            from sqlalchemy.ext.asyncio import create_async_engine as make_engine

            engine = sa.create_engine("sqlite+aiosqlite:///app.db")
            """,
            positions=[(4, 10)],
            fixed="""
            from sqlalchemy.ext.asyncio import create_async_engine as make_engine

            engine = make_engine("sqlite+aiosqlite:///app.db")
            """,
            applicability=Applicability.UNSAFE,
        ),
        Invalid(
            """
            from sqlalchemy import create_engine


            def make_engine(user):
                url = f"postgresql+asyncpg://{user}@127.0.0.1:5432/postgres"
                url = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
                return create_engine(url)


            def make_reporting_engine():
                url = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
                return create_engine(url, pool_size=1)
            """,
            positions=[(12, 12)],
            fixed="""
            from sqlalchemy import create_engine
            from sqlalchemy.ext.asyncio import create_async_engine


            def make_engine(user):
                url = f"postgresql+asyncpg://{user}@127.0.0.1:5432/postgres"
                url = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
                return create_engine(url)


            def make_reporting_engine():
                url = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
                return create_async_engine(url, pool_size=1)
            """,
            applicability=Applicability.UNSAFE,
        ),
        Invalid(
            settings_example("create_engine"),
            positions=[(10, 10)],
            fixed=settings_example("create_async_engine", imports="text", extra_import=ASYNC_IMPORT),
            applicability=Applicability.UNSAFE,
        ),
        Invalid(
            config_example("engine_from_config"),
            positions=[(6, 10)],
            fixed=config_example(
                "async_engine_from_config",
                imports="text",
                extra_import="\nfrom sqlalchemy.ext.asyncio import async_engine_from_config",
            ),
            applicability=Applicability.UNSAFE,
        ),
    )

    def _config_url(self) -> str | None:
        """The URL env.py gives `engine_from_config(config.get_section(...))`: the value of its one
        `config.set_main_option("sqlalchemy.url", value)` (`settings.DATABASE_URL` from the project)."""
        values = [
            call.args[1].value
            for call in self.model.tree.calls
            if isinstance(call.func, cst.Attribute)
            and call.func.attr.value == "set_main_option"
            and len(call.args) == 2
            and self.model.text_of(call.args[0].value) == "sqlalchemy.url"
        ]
        return self.model.text_of(values[0]) if len(values) == 1 else None

    def visit_Call(self, node: cst.Call) -> None:
        factory = next((FACTORIES[q] for q in self.qualified(node.func) if q in FACTORIES), None)
        if factory is None:
            return
        from_config = factory == "async_engine_from_config"
        argument = call_arg(node, None if from_config else 0, "url")
        if argument is None and from_config:
            url = self._config_url()
        else:
            url = self.model.text_of(argument.value) if argument else None
        driver = url.split("://")[0].partition("+")[2].lower() if url else ""
        if driver not in ASYNC_DRIVERS or fallback_settings(node, url, self.model):
            return  # async_fallback made this work on SQLAlchemy 2.0: LDB204's finding
        local, anchor = imported_name(self.module, ASYNCIO_SOURCES, factory)
        fix = None
        if local is not None:
            changes = [Replace(node.func, cst.Name(local))]
            if anchor is not None:
                changes.append(add_import(anchor, f"from sqlalchemy.ext.asyncio import {factory}"))
            fix = FixSpec(
                drop_unused_imports(self.module, changes),
                Applicability.UNSAFE,
                f"Use `{factory}` (callers must `await`)",
            )
        self.report(
            node,
            f"`+{driver}` is an asyncio driver: this sync engine raises "
            f"`MissingGreenlet: greenlet_spawn has not been called` at its first connect; use `{factory}`",
            fix=fix,
        )
