"""Where a value in a function came from: an asyncpg connection (plain, or borrowed from SQLAlchemy),
a SQLAlchemy connection or its pool proxy, a prepared statement, or asyncpg records.

Follows assignments and `with ... as` bindings in statement order, and resolves imports and aliases
(`import asyncpg as pg`) with LibCST's qualified-name metadata."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import libcst as cst

from lintdb.cst_helpers import dotted, unwrap_await

# The text test for files that can hold an asyncpg connection: an asyncpg import, a driver connection
# borrowed from SQLAlchemy, or a pool's `acquire()` awaited or entered with `async with`.
ASYNCPG_IN_FILE = (
    r"(?m)^[ \t]*(?:import|from)[ \t]+asyncpg\b|driver_connection|(?:await|async with)[ \t]+[\w.]+\.acquire\("
)
ASYNCPG_GATE = ("asyncpg", "driver_connection", ".acquire(")
ASYNCPG_CONNECT = frozenset({"asyncpg.connect", "asyncpg.connection.connect"})
ASYNCPG_CREATE_POOL = frozenset({"asyncpg.create_pool", "asyncpg.pool.create_pool"})
ASYNCPG_CONNECTION_TYPES = frozenset(
    {"asyncpg.Connection", "asyncpg.connection.Connection", "asyncpg.pool.PoolConnectionProxy"}
)
ASYNCPG_KINDS = frozenset({"plain", "borrowed"})
ROW_METHODS = frozenset({"fetchrow"})
ROWS_METHODS = frozenset({"fetch"})


@dataclass(frozen=True)
class Origin:
    """`sa` (a SQLAlchemy AsyncConnection), `raw` (its pool proxy from `get_raw_connection()`),
    `borrowed` (the asyncpg connection under it), `plain` asyncpg, `pool` / `custom-pool` (asyncpg pools,
    the latter with a `record_class=`), `statement` (a prepared statement of ``connection``), `record` /
    `records` (asyncpg rows). ``sa``/``session`` name the SQLAlchemy objects; ``init`` is set for asyncpg
    pools made with an `init=` callback (which may register type codecs) and their connections."""

    kind: str
    sa: str | None = None
    session: str | None = None
    connection: str | None = None
    init: bool = False


class Tracker:
    """Origins of the names bound so far in one function."""

    def __init__(self, qualified: Callable[[cst.CSTNode], set[str]], function: cst.FunctionDef) -> None:
        self.qualified = qualified
        self.origins: dict[str, Origin] = {}
        for param in function.params.params:
            if param.annotation is not None and qualified(param.annotation.annotation) & ASYNCPG_CONNECTION_TYPES:
                self.origins[param.name.value] = Origin("plain")

    def bind(self, statement: cst.BaseStatement) -> None:
        """Record the names a statement binds (assignments, `with ... as`, `for` targets)."""
        pairs: list[tuple[cst.BaseExpression, cst.BaseExpression, bool]] = []
        if isinstance(statement, cst.With):
            pairs = [
                (i.asname.name, i.item, False)
                for i in statement.items
                if i.asname and isinstance(i.asname.name, cst.Name)
            ]
        elif isinstance(statement, cst.For):
            pairs = [(statement.target, statement.iter, True)]
        elif isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.Assign) and len(small.targets) == 1:
                    pairs.append((small.targets[0].target, small.value, False))
                elif isinstance(small, cst.AnnAssign) and small.value is not None:
                    pairs.append((small.target, small.value, False))
        for target, value, iterated in pairs:
            name = dotted(target)
            if name is None:
                continue
            origin = self.iterated(value) if iterated else self.resolve(unwrap_await(value))
            if origin is not None:
                self.origins[name] = origin
            else:
                self.origins.pop(name, None)

    def iterated(self, value: cst.BaseExpression) -> Origin | None:
        """The origin of each item when iterating over ``value``."""
        source = self.resolve(unwrap_await(value))
        if source is not None and source.kind == "records":
            return Origin("record", connection=source.connection)
        if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) and value.func.attr.value == "cursor":
            owner = self.resolve(value.func.value)
            if owner is not None and (owner.kind in ASYNCPG_KINDS or owner.kind == "statement"):
                return Origin("record", connection=owner.connection or dotted(value.func.value))
        return None

    def resolve(self, value: cst.BaseExpression) -> Origin | None:
        """The origin of a bound name, or of an expression such as `raw.driver_connection`."""
        name = dotted(value)
        if name is not None and name in self.origins:
            return self.origins[name]
        return self._origin(unwrap_await(value))

    def _origin(self, value: cst.BaseExpression) -> Origin | None:
        if isinstance(value, cst.Call):
            custom = any(a.keyword and a.keyword.value == "record_class" for a in value.args)
            init = any(a.keyword and a.keyword.value == "init" for a in value.args)
            names = self.qualified(value.func)
            if names & ASYNCPG_CONNECT:
                return None if custom else Origin("plain")
            if names & ASYNCPG_CREATE_POOL:
                return Origin("custom-pool" if custom else "pool", init=init)
            if not isinstance(value.func, cst.Attribute):
                return None
            receiver, method = dotted(value.func.value), value.func.attr.value
            owner = self.origins.get(receiver) if receiver else None
            if owner is not None and owner.kind in ASYNCPG_KINDS and not custom:
                if method in ROW_METHODS:
                    return Origin("record", connection=receiver)
                if method in ROWS_METHODS:
                    return Origin("records", connection=receiver)
                if method == "prepare":
                    return Origin("statement", connection=receiver)
            if method == "acquire":
                return (
                    None
                    if owner is not None and owner.kind == "custom-pool"
                    else Origin("plain", init=owner is not None and owner.init)
                )
            if method == "connection" and receiver:
                return Origin("sa", receiver, receiver)
            if method in ("connect", "begin") and receiver:
                return Origin("sa")
            if method == "get_raw_connection" and receiver:
                return Origin("raw", receiver, owner.session if owner else None)
            return None
        if isinstance(value, cst.Attribute) and value.attr.value in ("driver_connection", "dbapi_connection"):
            inner = self.resolve(unwrap_await(value.value)) or Origin("raw")
            return Origin("borrowed" if value.attr.value == "driver_connection" else "raw", inner.sa, inner.session)
        return None
