"""SQLAlchemy `create_async_engine("postgresql+asyncpg://…")` calls: their URL, the asyncpg cache
settings given in the URL or `connect_args`, and the edit that adds missing settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from lintdb.cst_helpers import call_arg
from lintdb.dsn import url_query

if TYPE_CHECKING:
    from lintdb.model import SemanticModel

CREATE_ASYNC_ENGINE = frozenset(
    {"sqlalchemy.ext.asyncio.create_async_engine", "sqlalchemy.ext.asyncio.engine.create_async_engine"}
)
CACHE_SETTINGS = ("statement_cache_size", "prepared_statement_cache_size")


@dataclass(frozen=True)
class AsyncpgEngine:
    """An asyncpg engine call: its URL, which cache settings it gives, and which of them are 0.
    ``editable``: `connect_args` is absent or a dict literal in the call itself, so a fix can add to it."""

    call: cst.Call
    url: str
    settings: frozenset[str]
    zeroed: frozenset[str]
    editable: bool


def asyncpg_engine(call: cst.Call, model: SemanticModel) -> AsyncpgEngine | None:
    """The call as an asyncpg engine, or None (another call or driver, or `connect_args` not known). An
    engine whose URL is not known is asyncpg when its `connect_args` has `statement_cache_size` (``url``
    is then empty)."""
    if not model.qualified_names(call.func) & CREATE_ASYNC_ENGINE:
        return None
    url_arg = call_arg(call, 0, "url")
    url = model.text_of(url_arg.value) if url_arg else None
    connect_args = model.keyword(call, "connect_args")
    items = model.dict_of(connect_args) if connect_args is not None else None
    if url is None and items is not None and CACHE_SETTINGS[0] in items:
        url = ""  # not known, but only asyncpg takes `statement_cache_size` (the engine is asyncpg by use)
    elif url is None or "+asyncpg" not in url.split("://")[0]:
        return None
    values = {name: found[-1] for name, found in url_query(url).items() if name in CACHE_SETTINGS}
    if connect_args is not None:
        if items is None:
            return None
        for key, value in items.items():
            if key in CACHE_SETTINGS:
                values[key] = value.value if isinstance(value, cst.Integer) else "?"
    direct = call_arg(call, None, "connect_args")
    editable = (direct is None and not any(a.star == "**" for a in call.args)) or (
        direct is not None and isinstance(direct.value, cst.Dict)
    )
    return AsyncpgEngine(
        call, url, frozenset(values), frozenset(name for name, value in values.items() if value == "0"), editable
    )


def with_keyword(call: cst.Call, keyword: str, value: cst.BaseExpression) -> cst.Call:
    """The call with ``keyword=value`` added as its last argument."""
    args = list(call.args)
    trailing = args[-1].comma if args else cst.MaybeSentinel.DEFAULT  # a trailing comma stays last
    if args:
        args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    added = cst.Arg(
        value,
        keyword=cst.Name(keyword),
        equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")),
        comma=trailing,
    )
    return call.with_changes(args=[*args, added])


def with_zero_settings(engine: AsyncpgEngine, names: tuple[str, ...]) -> cst.Call:
    """The engine call with ``names`` set to 0 in `connect_args` (added, or merged into its dict)."""
    entries = [cst.DictElement(cst.SimpleString(f'"{name}"'), cst.Integer("0")) for name in names]
    connect_args = call_arg(engine.call, None, "connect_args")
    if connect_args is None or not isinstance(connect_args.value, cst.Dict):
        return with_keyword(engine.call, "connect_args", cst.Dict(entries))
    old = list(connect_args.value.elements)
    if old:
        entries[-1] = entries[-1].with_changes(comma=old[-1].comma)
        old[-1] = old[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    return engine.call.with_deep_changes(connect_args.value, elements=[*old, *entries])
