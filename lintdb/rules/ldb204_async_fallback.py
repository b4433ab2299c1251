"""LDB204 async-fallback."""

from __future__ import annotations

import libcst as cst

from lintdb.cst_helpers import call_arg
from lintdb.dsn import url_query
from lintdb.model import SemanticModel
from lintdb.model.handles import URL_ENGINE_FACTORIES
from lintdb.rule import Invalid, LintRule, Valid

OPTION = "async_fallback"

_EXAMPLE = """
from sqlalchemy import create_engine, text

engine = create_engine({args})


def answer():
    with engine.connect() as conn:
        return conn.execute(text("SELECT 42")).scalar_one()
"""


def fallback_example(args: str) -> str:
    """A sync engine made with ``args``, used synchronously."""
    return _EXAMPLE.format(args=args)


class AsyncFallback(LintRule):
    """
    ## What it does
    Checks for SQLAlchemy's `async_fallback` option: in a URL (`?async_fallback=true`), as an engine
    argument, or in `connect_args`. The URL may be a literal, a constant or settings default of the
    module, or one the engine's module imports from another module of the project
    (`create_async_engine(settings.DATABASE_URL)` with `DATABASE_URL: str = "...?async_fallback=true"`
    in app/config.py); the finding is then on the engine call.

    ## Why is this bad?
    `async_fallback` let a sync engine drive an asyncio driver, for SQLAlchemy's own test suite. It is
    deprecated in SQLAlchemy 2.0 (`SADeprecationWarning: The async_fallback dialect argument is
    deprecated and will be removed in SQLAlchemy 2.1.`) and gone in 2.1, where it is passed through to
    the driver: the first connect raises `TypeError: connect() got an unexpected keyword argument
    'async_fallback'` (as an engine argument, `create_engine()` itself raises `TypeError: Invalid
    argument(s) 'async_fallback' sent to create_engine()`). Code that works today breaks on upgrade.

    ## Example
    ```python
    engine = create_engine("postgresql+asyncpg://app@db/app?async_fallback=true")
    ```

    Use instead:
    ```python
    engine = create_engine("postgresql+psycopg2://app@db/app")  # or create_async_engine(...+asyncpg)
    ```

    ## Fix safety
    There is no automatic fix: removing the option alone leaves a sync engine on an asyncio driver
    (LDB203); the choice between a sync driver and `create_async_engine` is yours.

    ## References
    - [SQLAlchemy 2.1 changelog: async_fallback removed](https://docs.sqlalchemy.org/en/21/changelog/changelog_21.html)
    - [SQLAlchemy 2.0: asyncio dialects, async_fallback](https://docs.sqlalchemy.org/en/20/dialects/postgresql.html#module-sqlalchemy.dialects.postgresql.asyncpg)
    """

    CODE = "LDB204"
    NAME = "async-fallback"
    MESSAGE = "`async_fallback` is removed in SQLAlchemy 2.1 (`TypeError` at connect) and deprecated in 2.0"

    VALID = (
        Valid(fallback_example('"postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"')),
        Valid("""
            async_fallback = False  # a name of one's own is not SQLAlchemy's option
            """),
    )
    INVALID = (
        Invalid(
            fallback_example('"postgresql+asyncpg://postgres@127.0.0.1:5432/postgres?async_fallback=true"'),
            positions=[(3, 10)],
        ),
        Invalid(
            fallback_example(
                '"postgresql+asyncpg://postgres@127.0.0.1:5432/postgres", connect_args={"async_fallback": True}'
            ),
            positions=[(3, 95)],
        ),
        Invalid(
            fallback_example('"postgresql+asyncpg://postgres@127.0.0.1:5432/postgres", async_fallback=True'),
            positions=[(3, 81)],
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        if not self.qualified(node.func) & URL_ENGINE_FACTORIES:
            return
        url_arg = call_arg(node, 0, "url")
        url = self.model.text_of(url_arg.value) if url_arg else None
        for place, where in fallback_settings(node, url, self.model):
            failure = (
                "`TypeError: Invalid argument(s) 'async_fallback' sent to create_engine()` when the engine is made"
                if where == "as an engine argument"
                else "`TypeError: connect() got an unexpected keyword argument 'async_fallback'` at the first connect"
            )
            self.report(place, f"`{OPTION}` {where} is removed in SQLAlchemy 2.1 ({failure}) and deprecated in 2.0")


def fallback_settings(call: cst.Call, url: str | None, model: SemanticModel) -> list[tuple[cst.CSTNode, str]]:
    """Where an engine call sets `async_fallback`: (node to report, how it is set)."""
    found: list[tuple[cst.CSTNode, str]] = []
    if url is not None and OPTION in url_query(url):
        found.append((call, "in the URL"))
    keyword = call_arg(call, None, OPTION)
    spread = model.keyword(call, OPTION)
    if keyword is not None or spread is not None:
        found.append((keyword or spread or call, "as an engine argument"))
    connect_args = model.dict_of(model.keyword(call, "connect_args"))
    if connect_args is not None and OPTION in connect_args:
        value = connect_args[OPTION]
        element = model.parent(value)
        found.append((element if isinstance(element, cst.DictElement) else value, "in `connect_args`"))
    return found
