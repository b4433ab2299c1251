"""LDB210 sslmode-in-asyncpg-url."""

from __future__ import annotations

import re

import libcst as cst

from lintdb.cst_helpers import call_arg, string_value
from lintdb.diagnostics import Applicability
from lintdb.model import SemanticModel
from lintdb.model.handles import URL_ENGINE_FACTORIES
from lintdb.options import RuleOptions
from lintdb.prefilter import HOLE
from lintdb.rule import FixSpec, Invalid, LintRule, Span, TextEdit, Valid
from lintdb.sqltext import SqlString, sql_string

SSLMODE = "sslmode"
# libpq's sslmode values, which asyncpg's `ssl=` takes as they are
MODES = frozenset({"disable", "allow", "prefer", "require", "verify-ca", "verify-full"})
# libpq's other TLS parameters: asyncpg has no keyword for them (an `ssl.SSLContext` does their job)
OTHER_TLS = ("sslrootcert", "sslcert", "sslkey", "sslcrl", "sslpassword", "sslcompression", "sslsni")
ASYNCPG_URL = re.compile(r"^\s*[\w.]*\+asyncpg://", re.IGNORECASE)
ERROR = "`TypeError: connect() got an unexpected keyword argument 'sslmode'`"

_EXAMPLE = """
import os

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres{query}")
engine = create_async_engine(DATABASE_URL{args})


async def answer():
    async with engine.connect() as conn:
        return (await conn.execute(text("SELECT 42"))).scalar_one()
"""


def ssl_example(query: str = "", args: str = "") -> str:
    """A module-level asyncpg engine whose URL ends with ``query``, made with extra ``args``."""
    return _EXAMPLE.format(query=query, args=args)


_FSTRING = """
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine


def make_engine(user, host, port, database):
    return create_async_engine(f"postgresql+asyncpg://{{user}}@{{host}}:{{port}}/{{database}}?{query}")


async def answer(engine):
    async with engine.connect() as conn:
        return (await conn.execute(text("SELECT 42"))).scalar_one()
"""


def fstring_example(query: str) -> str:
    """An engine factory whose URL is an f-string ending with ``query``."""
    return _FSTRING.format(query=query)


def _parameters(text: str) -> list[tuple[str, str, int]]:
    """(name, value, where the name starts) of each query parameter of a URL's text."""
    query_start = text.find("?")
    if query_start < 0:
        return []
    found, at = [], query_start + 1
    for item in text[query_start + 1 :].split("&"):
        name, _, value = item.partition("=")
        found.append((name.strip(), value, at))
        at += len(item) + 1
    return found


class SslmodeInAsyncpgUrl(LintRule):
    """
    ## What it does
    Checks for `sslmode=` in a SQLAlchemy `+asyncpg` URL (a literal, a constant, the literal parts of
    an f-string, the default of `os.environ.get`), and for `connect_args={"sslmode": ...}` on an engine
    whose URL uses asyncpg.

    ## Default
    Off by default: on the real-world ledger (issue 13) its only finding was a false positive (a test URL that
    never connects), and a fix commit's `sslmode` built at run time was missed. Select it with
    `--select LDB210`.

    ## Why is this bad?
    SQLAlchemy's asyncpg dialect passes the URL's query parameters to `asyncpg.connect()` as keyword
    arguments, and asyncpg has no `sslmode` keyword: the first connect raises
    `TypeError: connect() got an unexpected keyword argument 'sslmode'`. asyncpg's keyword is `ssl`,
    which takes libpq's mode names (`disable`, `allow`, `prefer`, `require`, `verify-ca`,
    `verify-full`). libpq's other TLS parameters (`sslrootcert`, `sslcert`, `sslkey`...) fail the same
    way: asyncpg wants an `ssl.SSLContext` in `connect_args` for them.

    A plain `asyncpg.connect("postgresql://...?sslmode=require")` is fine: asyncpg parses its own
    libpq DSN. So is `sslmode` with psycopg or psycopg2.

    ## Example
    ```python
    engine = create_async_engine("postgresql+asyncpg://app@db/app?sslmode=require")
    ```

    Use instead:
    ```python
    engine = create_async_engine("postgresql+asyncpg://app@db/app?ssl=require")
    ```

    ## Fix safety
    Renaming `sslmode` to `ssl` is safe for libpq's six modes: asyncpg gives them the same meaning.
    When the URL also carries `sslrootcert`-like parameters, or the mode is not a literal, the fix is
    only displayed: the certificate settings need an `ssl.SSLContext`.

    ## References
    - [sqlalchemy/sqlalchemy#6275: asyncpg sslmode not supported](https://github.com/sqlalchemy/sqlalchemy/issues/6275)
    - [MagicStack/asyncpg#737: sslmode in connect()](https://github.com/MagicStack/asyncpg/issues/737)
    - [asyncpg: connect(ssl=...)](https://magicstack.github.io/asyncpg/current/api/index.html#asyncpg.connection.connect)
    """

    CODE = "LDB210"
    DEFAULT_ENABLED = False
    NAME = "sslmode-in-asyncpg-url"
    MESSAGE = f"{ERROR} at the first connect: asyncpg's keyword is `ssl`"
    FIX_TITLE = "Rename `sslmode` to `ssl`"
    FIX_AVAILABILITY = "Sometimes"

    VALID = (
        Valid(ssl_example("?ssl=prefer")),
        Valid(ssl_example(args=', connect_args={"ssl": "prefer"}')),
        Valid("""
            from sqlalchemy import create_engine

            engine = create_engine("postgresql+psycopg2://postgres@127.0.0.1:5432/postgres?sslmode=prefer")
            """),
        Valid("""
            import asyncpg


            async def answer():
                con = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres?sslmode=prefer")
                try:
                    return await con.fetchval("SELECT 42")
                finally:
                    await con.close()
            """),
        Valid("""
            import os

            from sqlalchemy.ext.asyncio import create_async_engine

            # the project translates libpq's parameter itself before SQLAlchemy sees it
            URL = os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+asyncpg://")
            engine = create_async_engine(URL.replace("sslmode=", "ssl="))
            """),
    )
    INVALID = (
        Invalid(
            ssl_example("?sslmode=prefer"),
            positions=[(6, 102)],
            fixed=ssl_example("?ssl=prefer"),
            applicability=Applicability.SAFE,
        ),
        Invalid(
            fstring_example("sslmode=require"),
            positions=[(6, 87)],
            fixed=fstring_example("ssl=require"),
            applicability=Applicability.SAFE,
        ),
        Invalid(
            ssl_example(args=', connect_args={"sslmode": "require", "timeout": 10}'),
            positions=[(7, 59)],
            fixed=ssl_example(args=', connect_args={"ssl": "require", "timeout": 10}'),
            applicability=Applicability.SAFE,
        ),
        Invalid(
            ssl_example("?sslmode=verify-full&sslrootcert=/etc/ssl/db.pem"),
            positions=[(6, 102)],
            applicability=Applicability.DISPLAY_ONLY,
        ),
    )

    def __init__(self, options: RuleOptions, module: cst.Module, text: str, model: SemanticModel) -> None:
        super().__init__(options, module, text, model)
        self._skipped: set[cst.CSTNode] = set()
        self._urls: list[SqlString] = []
        self._handles_sslmode = False

    def visit_Expr(self, node: cst.Expr) -> None:
        self._skipped.add(node.value)  # a docstring or a bare string is not a URL in use

    def visit_ConcatenatedString(self, node: cst.ConcatenatedString) -> None:
        if node in self._skipped:
            self._skipped.update((node.left, node.right))
            return
        self._skipped.update((node.left, node.right))
        self._string(node)

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        if node not in self._skipped:
            self._string(node)

    def visit_FormattedString(self, node: cst.FormattedString) -> None:
        if node not in self._skipped:
            self._string(node)

    def _string(self, node: cst.BaseExpression) -> None:
        parts = sql_string(node)
        if parts is None:
            return
        if parts.text.strip("?&= ") == SSLMODE:
            self._handles_sslmode = True  # `.replace("sslmode=", "ssl=")`, `query.pop("sslmode")`...
        elif ASYNCPG_URL.match(parts.text) and any(name == SSLMODE for name, _, _ in _parameters(parts.text)):
            self._urls.append(parts)

    def visit_Call(self, node: cst.Call) -> None:
        if not self.qualified(node.func) & URL_ENGINE_FACTORIES:
            return
        connect_args = call_arg(node, None, "connect_args")
        url_arg = call_arg(node, 0, "url")
        if connect_args is None or not isinstance(connect_args.value, cst.Dict) or url_arg is None:
            return
        url = self.model.text_of(url_arg.value)
        if url is None or not ASYNCPG_URL.match(url):
            return
        for element in connect_args.value.elements:
            if isinstance(element, cst.DictElement) and string_value(element.key) == SSLMODE:
                mode = string_value(element.value)
                key = element.key
                assert isinstance(key, cst.SimpleString)
                start = len(key.prefix) + len(key.quote)
                self._report(Span(key, start, start + len(SSLMODE)), mode, "in `connect_args`", mode in MODES)

    def leave_Module(self, original_node: cst.Module) -> None:
        if self._handles_sslmode:
            return
        for parts in self._urls:
            parameters = _parameters(parts.text)
            others = tuple(name for name, _, _ in parameters if name in OTHER_TLS)
            for name, value, at in parameters:
                span = parts.span(at, at + len(SSLMODE)) if name == SSLMODE else None
                if span is not None:
                    mode = None if HOLE in value else value
                    self._report(span, mode, "in an asyncpg URL", mode in MODES and not others, others)

    def _report(self, span: Span, mode: str | None, where: str, safe: bool, others: tuple[str, ...] = ()) -> None:
        shown = f"`ssl={mode}`" if mode is not None else "`ssl=`"
        message = f"{ERROR} at the first connect: `{SSLMODE}` {where} reaches asyncpg, whose keyword is {shown}"
        if others:
            names = ", ".join(f"`{other}`" for other in others)
            message += (
                f"; {names} fail{'s' if len(others) == 1 else ''} the same way (asyncpg takes an `ssl.SSLContext`)"
            )
        fix = FixSpec(
            (TextEdit(span, "ssl"),),
            Applicability.SAFE if safe else Applicability.DISPLAY_ONLY,
            f"Rename `{SSLMODE}` to `ssl`",
        )
        self.report(span, message, fix=fix)
